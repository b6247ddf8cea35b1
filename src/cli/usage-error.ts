// A mistake on the command line: reported as `evidence VERB: message`, exit 2.
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
