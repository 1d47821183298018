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
process.on('exit', () => killAllGroups());

/** SIGKILL to every process group we started that is still running: a forced exit leaves none behind. */
export function killAllGroups(): void {
  for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** Whether any process of the group is left (signal 0 only checks). */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * What is left of a group once its leader is gone: it had SIGTERM (sent now unless `termSent`),
 * and gets SIGKILL when the grace period since `termAt` ends with anything still running.
 */
async function stopGroup(pid: number, graceMs: number, termAt: number | null): Promise<void> {
  if (!groupAlive(pid)) return;
  const since = termAt ?? performance.now();
  if (termAt === null) killGroup(pid, 'SIGTERM');
  while (groupAlive(pid) && performance.now() - since < graceMs) await new Promise((resolve) => setTimeout(resolve, 50));
  killGroup(pid, 'SIGKILL');
}

/**
 * Runs a program with an argument array (never through a shell) and always resolves. With a
 * timeout or an abort signal the program runs in its own process group, so stopping it ends its
 * helpers and grandchildren too (they would otherwise hold its output open), and the wait is
 * bounded even if nothing can be killed.
 */
/** Under DEBUG=snapshot*, one line on stderr per program we start: what, with which arguments, where. */
function debugSpawn(what: string, args: readonly string[], cwd: string | undefined): void {
  if (!/(^|,)\s*snapshot/.test(process.env.DEBUG ?? '')) return;
  const shown = JSON.stringify([what, ...args]);
  process.stderr.write(`snapshot:spawn ${shown.length > 500 ? `${shown.slice(0, 500)}...` : shown}${cwd ? ` in ${cwd}` : ''}\n`);
}

export async function runProcess(command: string, args: string[], options: RunOptions = {}): Promise<ProcessResult> {
  debugSpawn(command, args, options.cwd);
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
  /** Each chunk of the child's output as it comes, never held here. */
  onStdout: (chunk: Buffer) => void;
  onStderr: (chunk: Buffer) => void;
  /** Aborting (Ctrl-C, SIGTERM) stops the whole process group: TERM, then KILL after the grace period. */
  signal?: AbortSignal;
  /** How long a group that got SIGTERM may take before SIGKILL (default 5 s). */
  killGraceMs?: number;
  /** Stop the whole group (TERM, then KILL after the grace period) after this many milliseconds; none by default. */
  timeoutMs?: number | null;
}

export interface StreamingRunResult {
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  startedAt: Date;
  failedToStart: string | null;
  /** Stopped because timeoutMs ran out. */
  timedOut: boolean;
}

/**
 * Runs the user's training command through a shell, as they typed it, in a process group of its
 * own: stopping it stops everything it started (a data loader's workers, a shell pipeline), even
 * when only snapshot got the signal (a job manager, CI cancelling), and a program that ignores
 * SIGTERM is killed after the grace period. Its output is handed over chunk by chunk.
 */
export async function runShellCommand(commandLine: string, options: StreamingRunOptions): Promise<StreamingRunResult> {
  debugSpawn('sh', ['-c', commandLine], options.cwd);
  const startedAt = new Date();
  const started = performance.now();
  const child = execa(commandLine, {
    shell: true,
    cwd: options.cwd,
    env: options.env,
    extendEnv: false,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
    reject: false,
    cleanup: true,
    detached: true,
  });
  const pid = child.pid;
  if (pid !== undefined) liveGroups.add(pid);
  child.stdout?.on('data', (chunk: Buffer) => options.onStdout(chunk));
  child.stderr?.on('data', (chunk: Buffer) => options.onStderr(chunk));
  const graceMs = options.killGraceMs ?? 5000;
  let termAt: number | null = null;
  let killTimer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const onAbort = () => {
    if (termAt !== null) return;
    termAt = performance.now();
    killGroup(pid, 'SIGTERM');
    killTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
  };
  const timeoutTimer =
    options.timeoutMs === undefined || options.timeoutMs === null
      ? undefined
      : setTimeout(() => {
          timedOut = termAt === null;
          onAbort();
        }, options.timeoutMs);
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  const result = await child;
  clearTimeout(timeoutTimer);
  clearTimeout(killTimer);
  options.signal?.removeEventListener('abort', onAbort);
  // The shell is gone; anything it left running in its group (a worker, a server started with &)
  // gets the rest of the grace period after SIGTERM, then SIGKILL.
  if (pid !== undefined) await stopGroup(pid, graceMs, termAt);
  if (pid !== undefined) liveGroups.delete(pid);
  const durationMs = Math.round(performance.now() - started);
  const code = (result as { code?: string }).code;
  const failedToStart = result.exitCode === undefined && result.signal === undefined ? result.shortMessage ?? code ?? 'could not start' : null;
  return {
    exitCode: result.exitCode ?? null,
    signal: result.signal ?? null,
    durationMs,
    startedAt,
    failedToStart,
    timedOut,
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

export interface StreamOptions {
  cwd?: string;
  /** Full environment for the child; when absent the current one is inherited. */
  env?: NodeJS.ProcessEnv;
  /** Fed to the child's stdin (a tar for `docker build -`); the child gets no stdin otherwise. */
  stdin?: NodeJS.ReadableStream | AsyncIterable<Uint8Array>;
  /** Kill the process group after this many milliseconds. */
  timeoutMs?: number;
  /** Aborting stops the program and its process group (Ctrl-C). */
  signal?: AbortSignal;
  /** Cap on the stderr kept for the result (stdout is never held here). */
  maxBuffer?: number;
}

export interface StreamingProcess {
  /** The child's stdout as it comes: the caller reads it (backpressure reaches the child) or destroys it. */
  stdout: NodeJS.ReadableStream & AsyncIterable<Buffer>;
  /** Settles once the child is gone, like runProcess's result but with stdout '' (it was streamed). */
  result: Promise<ProcessResult>;
  /** Stops the child and its group: for a reader that gave up before the end. */
  stop(): void;
}

/**
 * Runs a program with an argument array (never a shell) whose stdout is a stream, not a buffer:
 * `git archive` of a large tree, `docker build -` reading a context from stdin. It always runs in a
 * process group of its own, so stop(), a timeout or the signal end it and its helpers, and the
 * group is killed if snapshot exits first.
 */
export function spawnStreaming(command: string, args: string[], options: StreamOptions = {}): StreamingProcess {
  debugSpawn(command, args, options.cwd);
  const started = performance.now();
  const subprocess = execa(command, args, {
    cwd: options.cwd,
    env: options.env,
    extendEnv: options.env === undefined,
    stdin: options.stdin === undefined ? 'ignore' : 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: { stdout: false, stderr: true },
    maxBuffer: options.maxBuffer ?? DEFAULT_MAX_BUFFER,
    reject: false,
    stripFinalNewline: false,
    detached: true,
    cleanup: true,
  });
  const pid = subprocess.pid;
  if (pid !== undefined) liveGroups.add(pid);
  let stoppedBy: 'timeout' | 'aborted' | 'stopped' | null = null;
  const timers: NodeJS.Timeout[] = [];
  const stop = (why: 'timeout' | 'aborted' | 'stopped') => {
    if (stoppedBy !== null) return;
    stoppedBy = why;
    killGroup(pid, 'SIGTERM');
    timers.push(setTimeout(() => killGroup(pid, 'SIGKILL'), KILL_GRACE_MS / 2));
  };
  if (options.timeoutMs !== undefined) timers.push(setTimeout(() => stop('timeout'), options.timeoutMs));
  const onAbort = () => stop('aborted');
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.stdin !== undefined && subprocess.stdin) {
    const sink = subprocess.stdin;
    // A child that exits before reading all of its input is not an error of ours: its exit says why.
    sink.on('error', () => undefined);
    void (async () => {
      try {
        for await (const chunk of options.stdin as AsyncIterable<Uint8Array>) {
          if (!sink.write(chunk)) await new Promise<void>((resolveDrain) => sink.once('drain', resolveDrain).once('close', resolveDrain));
          if (sink.destroyed) break;
        }
        sink.end();
      } catch {
        // The input failed (its producer said why to whoever made it): the child must not wait forever.
        sink.destroy();
        stop('stopped');
      }
    })();
  }
  const result = (async (): Promise<ProcessResult> => {
    const done = await subprocess;
    for (const timer of timers) clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    if (pid !== undefined) liveGroups.delete(pid);
    const base = {
      command,
      args,
      exitCode: done.exitCode ?? null,
      signal: done.signal ?? null,
      stdout: '',
      stderr: String(done.stderr ?? ''),
      durationMs: Math.round(performance.now() - started),
    };
    if (stoppedBy === 'timeout') return { ...base, outcome: 'timeout', reason: `${command} did not finish within ${options.timeoutMs} ms and was killed` };
    if (stoppedBy !== null) return { ...base, outcome: 'aborted', reason: `${command} was stopped${stoppedBy === 'aborted' ? ' (interrupted)' : ''}` };
    const code = (done as { code?: string }).code;
    if (code === 'ENOENT' || (done.failed && done.exitCode === undefined && /ENOENT/.test(done.message ?? ''))) return { ...base, outcome: 'absent', reason: `${command} not found` };
    if (done.exitCode === 0) return { ...base, outcome: 'ok' };
    const tail = lastLine(base.stderr);
    const how = done.signal ? `was killed by ${done.signal}` : `exited with code ${done.exitCode}`;
    return { ...base, outcome: 'failed', reason: `${command} ${how}${tail ? `: ${tail}` : ''}` };
  })();
  return { stdout: subprocess.stdout as unknown as StreamingProcess['stdout'], result, stop: () => stop('stopped') };
}
