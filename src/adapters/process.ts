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
  /** Stream stdout into this file instead of memory (large outputs such as a binary diff). */
  stdoutFile?: string;
  /** Aborting stops the program and its process group, as a timeout does (Ctrl-C). */
  signal?: AbortSignal;
}

export interface ProcessResult {
  command: string;
  args: string[];
  /** 'ok' exited 0; 'failed' exited non-zero; 'absent' the program does not exist; 'timeout' killed after timeoutMs; 'aborted' stopped through the signal. */
  outcome: 'ok' | 'failed' | 'absent' | 'timeout' | 'aborted';
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  /** A one-line reason when outcome is not 'ok'. */
  reason?: string;
}

const DEFAULT_MAX_BUFFER = 64 * 1024 * 1024;
/** After a timeout: SIGTERM to the group, then SIGKILL, then stop waiting (a process stuck in the kernel cannot die). */
const KILL_GRACE_MS = 2000;

// Process groups started with a timeout; killed if snapshot itself exits first (Ctrl-C), since
// a detached group no longer gets the terminal's signals.
const liveGroups = new Set<number>();
process.on('exit', () => {
  for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
});

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * Runs a program with an argument array (never through a shell) and always resolves. With a
 * timeout or an abort signal the program runs in its own process group, so stopping it ends its
 * helpers and grandchildren too (they would otherwise hold its output open), and the wait is
 * bounded even if nothing can be killed.
 */
export async function runProcess(command: string, args: string[], options: RunOptions = {}): Promise<ProcessResult> {
  const started = performance.now();
  const { timeoutMs, signal } = options;
  const ownGroup = timeoutMs !== undefined || signal !== undefined;
  const subprocess = execa(command, args, {
    cwd: options.cwd,
    env: options.env,
    extendEnv: options.env === undefined,
    input: options.input,
    stdin: options.input === undefined ? 'ignore' : undefined,
    stdout: options.stdoutFile === undefined ? 'pipe' : { file: options.stdoutFile },
    // Output going to a file is not also held in memory (nor cut at maxBuffer).
    buffer: options.stdoutFile === undefined ? true : { stdout: false, stderr: true },
    maxBuffer: options.maxBuffer ?? DEFAULT_MAX_BUFFER,
    reject: false,
    stripFinalNewline: false,
    detached: ownGroup,
    cleanup: true,
  });
  const pid = subprocess.pid;
  if (ownGroup && pid !== undefined) liveGroups.add(pid);
  let stoppedBy: 'timeout' | 'aborted' | null = null;
  const timers: NodeJS.Timeout[] = [];
  let onAbort: (() => void) | null = null;
  const stopped = !ownGroup
    ? null
    : new Promise<null>((resolveStopped) => {
        const stop = (why: 'timeout' | 'aborted') => {
          if (stoppedBy !== null) return;
          stoppedBy = why;
          killGroup(pid, 'SIGTERM');
          timers.push(setTimeout(() => killGroup(pid, 'SIGKILL'), KILL_GRACE_MS / 2));
          timers.push(setTimeout(() => resolveStopped(null), KILL_GRACE_MS));
        };
        if (timeoutMs !== undefined) timers.push(setTimeout(() => stop('timeout'), timeoutMs));
        if (signal !== undefined) {
          onAbort = () => stop('aborted');
          if (signal.aborted) onAbort();
          else signal.addEventListener('abort', onAbort, { once: true });
        }
      });
  const result = await (stopped === null ? subprocess : Promise.race([subprocess, stopped]));
  for (const timer of timers) clearTimeout(timer);
  if (onAbort !== null) signal?.removeEventListener('abort', onAbort);
  if (pid !== undefined) liveGroups.delete(pid);
  const durationMs = Math.round(performance.now() - started);
  if (stoppedBy !== null || result === null) {
    return {
      command,
      args,
      exitCode: result?.exitCode ?? null,
      signal: result?.signal ?? null,
      stdout: String(result?.stdout ?? ''),
      stderr: String(result?.stderr ?? ''),
      durationMs,
      outcome: stoppedBy === 'aborted' ? 'aborted' : 'timeout',
      reason: stoppedBy === 'aborted' ? `${command} was stopped (interrupted)` : `${command} did not finish within ${timeoutMs} ms and was killed`,
    };
  }
  const base = {
    command,
    args,
    exitCode: result.exitCode ?? null,
    signal: result.signal ?? null,
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
    durationMs,
  };
  const code = (result as { code?: string }).code;
  if (code === 'ENOENT' || (result.failed && result.exitCode === undefined && /ENOENT/.test(result.message ?? ''))) {
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

/** The last line of a program's output, made safe to print and record: binary output becomes '?'. */
function lastLine(text: string): string | undefined {
  const lines = text.trim().split('\n');
  // eslint-disable-next-line no-control-regex
  const line = lines[lines.length - 1]?.replace(/[\u0000-\u001f\u007f-\u009f\ufffd]/g, '?').trim();
  if (!line) return undefined;
  return line.replace(/\?{3,}/g, '???').slice(0, 300);
}
