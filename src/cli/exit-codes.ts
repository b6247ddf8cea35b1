// The exit codes every verb uses (documented in the README).
export const EXIT = { ok: 0, failed: 1, usage: 2, gate: 4, interrupted: 130 } as const;
