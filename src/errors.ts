// One error taxonomy for the whole CLI. Every error a user can cause carries a stable code,
// a documented exit code and a hint that says what to do next; anything else is a bug.

/** Exit codes, documented in the README. oclif itself uses 2 for usage errors. */
export const ExitCode = {
  ok: 0,
  /** A verdict of `different` (compare / replay). */
  different: 1,
  usage: 2,
  /** A flag value, path or file that cannot be used as given. */
  badInput: 3,
  /** An output that exists (without --force) or cannot be written. */
  outputRefused: 4,
  /** The training command given with --run failed; the snapshot still records it. */
  runFailed: 5,
  /** Something outside our control failed: a Docker engine, an external program. */
  external: 6,
  /** A verdict of `error`: some output could not be read or judged. */
  verdictError: 7,
  /** A bug in snapshot itself. */
  internal: 70,
  /** Stopped by SIGHUP (the terminal or ssh session went away), 128 + 1. */
  hangup: 129,
  /** Stopped by SIGINT (Ctrl-C), as shells report 128 + 2. */
  interrupted: 130,
  /** Stopped by SIGTERM (a job manager or CI cancelling), 128 + 15. */
  terminated: 143,
} as const;

export interface ErrorOptions {
  hint?: string;
  data?: Record<string, unknown>;
  cause?: unknown;
}

export class SnapshotError extends Error {
  readonly code: string;
  readonly exitCode: number;
  readonly hint: string | undefined;
  readonly data: Record<string, unknown> | undefined;

  constructor(code: string, message: string, exitCode: number, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
    this.hint = options.hint;
    this.data = options.data;
  }
}

/** The user must change a flag, path or file. */
export class UserInputError extends SnapshotError {
  constructor(code: string, message: string, options: ErrorOptions = {}) {
    super(code, message, ExitCode.badInput, options);
  }
}

/** We refuse to write: the target exists (without --force) or is not writable. */
export class OutputRefusedError extends SnapshotError {
  constructor(code: string, message: string, options: ErrorOptions = {}) {
    super(code, message, ExitCode.outputRefused, options);
  }
}

/** An external program or service failed in a way the user has to look into. */
export class ExternalError extends SnapshotError {
  constructor(code: string, message: string, options: ErrorOptions = {}) {
    super(code, message, ExitCode.external, options);
  }
}

/** Ctrl-C or SIGTERM stopped the work; whatever was staged is discarded. */
export class InterruptedError extends SnapshotError {
  /** `signal`: the aborted signal, whose reason names what stopped us ('SIGTERM', 'SIGHUP'; anything else reads as Ctrl-C). */
  constructor(signal: AbortSignal | undefined, what = 'the work') {
    const by = signal?.reason === 'SIGTERM' || signal?.reason === 'SIGHUP' ? signal.reason : 'SIGINT';
    super('INTERRUPTED', `interrupted (${by}) during ${what}; nothing was written`, by === 'SIGTERM' ? ExitCode.terminated : by === 'SIGHUP' ? ExitCode.hangup : ExitCode.interrupted);
  }
}

/** Anything not foreseen; the message asks for a bug report. */
export class InternalError extends SnapshotError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('INTERNAL', message, ExitCode.internal, {
      hint: 'This is a bug in snapshot. Run again with DEBUG=snapshot* and report the output.',
      ...options,
    });
  }

  static from(error: unknown): SnapshotError {
    if (error instanceof SnapshotError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new InternalError(message, { cause: error });
  }
}
