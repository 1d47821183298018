// The single place that spawns processes. Everything else asks for a ProcessResult and
// decides in pure code what it means; nothing here throws because a program failed.
import { execa } from 'execa';

export interface RunOptions {
  cwd?: string;
  /** Full environment for the child; when absent the current one is inherited. */
  env?: NodeJS.ProcessEnv;
  /** Kill the process (and its group) after this many milliseconds. */
  timeoutMs?: number;
  input?: string;
  /** Cap on captured stdout/stderr, so a chatty probe cannot exhaust memory. */
  maxBuffer?: number;
}

export interface ProcessResult {
  command: string;
  args: string[];
  /** 'ok' exited 0; 'failed' exited non-zero; 'absent' the program does not exist; 'timeout' killed after timeoutMs. */
  outcome: 'ok' | 'failed' | 'absent' | 'timeout';
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  /** A one-line reason when outcome is not 'ok'. */
  reason?: string;
}

const DEFAULT_MAX_BUFFER = 64 * 1024 * 1024;

/** Runs a program with an argument array (never through a shell) and always resolves. */
export async function runProcess(command: string, args: string[], options: RunOptions = {}): Promise<ProcessResult> {
  const started = performance.now();
  const result = await execa(command, args, {
    cwd: options.cwd,
    env: options.env,
    extendEnv: options.env === undefined,
    timeout: options.timeoutMs,
    input: options.input,
    stdin: options.input === undefined ? 'ignore' : undefined,
    maxBuffer: options.maxBuffer ?? DEFAULT_MAX_BUFFER,
    reject: false,
    stripFinalNewline: false,
    // A hung probe may have children (nvidia-smi helpers, shells); kill them all.
    forceKillAfterDelay: 2000,
    cleanup: true,
  });
  const durationMs = Math.round(performance.now() - started);
  const base = {
    command,
    args,
    exitCode: result.exitCode ?? null,
    signal: result.signal ?? null,
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
    durationMs,
  };
  if (result.timedOut) {
    return { ...base, outcome: 'timeout', reason: `${command} did not finish within ${options.timeoutMs} ms and was killed` };
  }
  const code = (result as { code?: string }).code;
  if (code === 'ENOENT' || (result.failed && result.exitCode === undefined && /ENOENT/.test(result.message ?? ""))) {
    return { ...base, outcome: 'absent', reason: `${command} not found` };
  }
  if (code === 'EACCES') {
    return { ...base, outcome: 'failed', reason: `${command} is not executable` };
  }
  if (result.exitCode === 0) return { ...base, outcome: 'ok' };
  const tail = lastLine(base.stderr) ?? lastLine(base.stdout);
  const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
  return { ...base, outcome: 'failed', reason: `${command} ${how}${tail ? `: ${tail}` : ''}` };
}

export interface StreamingRunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdoutFile: string;
  stderrFile: string;
  /** Mirror the child's output to ours (stderr), so the user sees training progress. */
  echo: boolean;
  /** Aborting (Ctrl-C) stops the training and its children. */
  signal?: AbortSignal;
}

export interface StreamingRunResult {
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  startedAt: Date;
  failedToStart: string | null;
}

/**
 * Runs the user's training command through a shell, as they typed it, streaming stdout and
 * stderr to log files (and optionally to our stderr) without holding them in memory.
 */
export async function runShellCommand(commandLine: string, options: StreamingRunOptions): Promise<StreamingRunResult> {
  const startedAt = new Date();
  const started = performance.now();
  const child = execa(commandLine, {
    shell: true,
    cwd: options.cwd,
    env: options.env,
    extendEnv: false,
    stdin: 'ignore',
    // Our own stdout stays clean for --json: when echoing, the child's stdout goes to our stderr.
    stdout: options.echo ? [{ file: options.stdoutFile }, 'pipe'] : [{ file: options.stdoutFile }],
    stderr: options.echo ? [{ file: options.stderrFile }, 'inherit'] : [{ file: options.stderrFile }],
    buffer: false,
    reject: false,
    cleanup: true,
    cancelSignal: options.signal,
    forceKillAfterDelay: 5000,
  });
  if (options.echo) child.stdout?.pipe(process.stderr, { end: false });
  const result = await child;
  const durationMs = Math.round(performance.now() - started);
  const code = (result as { code?: string }).code;
  const failedToStart = result.exitCode === undefined && result.signal === undefined ? result.shortMessage ?? code ?? 'could not start' : null;
  return {
    exitCode: result.exitCode ?? null,
    signal: result.signal ?? null,
    durationMs,
    startedAt,
    failedToStart,
  };
}

function lastLine(text: string): string | undefined {
  const lines = text.trim().split('\n');
  const line = lines[lines.length - 1]?.trim();
  return line ? line.slice(0, 300) : undefined;
}
