/** Where a command writes: people-facing lines and diagnostics. Tests pass their own to capture both. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
}

export const stdio: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** A problem the user can fix (wrong run name, no local cloud running…): printed as one ✖ line, exit code 2. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/** Exit codes: the run (or command) did what was asked; the run ended otherwise; the command could not do its job. */
export const EXIT = { ok: 0, runNotSucceeded: 1, error: 2 } as const;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
