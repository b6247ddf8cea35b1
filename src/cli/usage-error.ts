// A mistake on the command line: reported as `evidence VERB: message`, exit 2.
export class UsageError extends Error {
  constructor(
    message: string,
    /** The verb it concerns, when known before the verb runs (a bad option). */
    readonly verb?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}
