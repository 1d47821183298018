// Finds the target interpreter and runs the shipped probe with it, once.
import { randomBytes } from 'node:crypto';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InterruptedError, UserInputError } from '../../errors.js';
import type { ProbeRecord } from '../../core/model.js';
import type { PythonProbeOutput } from '../../core/raw-probes.js';
import { isExecutable, statKind } from '../fs.js';
import { runProcess } from '../process.js';

export const PROBE_SCRIPT = fileURLToPath(new URL('../../../python/snapshot_probe.py', import.meta.url));
/** The raw facts of the machine it runs on (python/snapshot_host.py), for where our own process cannot look. */
export const HOST_PROBE_SCRIPT = fileURLToPath(new URL('../../../python/snapshot_host.py', import.meta.url));

export interface InterpreterChoice {
  path: string;
  /** Why this one: the flag, the active venv / conda env, or PATH. */
  origin: '--python' | 'VIRTUAL_ENV' | 'CONDA_PREFIX' | 'PATH';
}

async function findOnPath(name: string, pathValue: string | undefined): Promise<string | null> {
  for (const dir of (pathValue ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if ((await statKind(candidate)) === 'file' && (await isExecutable(candidate))) return candidate;
  }
  return null;
}

/** --python, else the active venv, else the active conda env, else python3 on PATH. */
export async function chooseInterpreter(flag: string | undefined, env: NodeJS.ProcessEnv): Promise<InterpreterChoice> {
  if (flag !== undefined) {
    const path = flag.includes('/') ? resolve(flag) : await findOnPath(flag, env.PATH);
    if (path === null || (await statKind(path)) === 'missing') {
      throw new UserInputError('PYTHON_NOT_FOUND', `--python ${flag}: no such file`, { hint: 'Pass the path of a Python interpreter, e.g. --python .venv/bin/python.' });
    }
    if ((await statKind(path)) !== 'file' || !(await isExecutable(path))) {
      throw new UserInputError('PYTHON_NOT_EXECUTABLE', `--python ${flag}: not an executable file`, { hint: 'Pass the path of a Python interpreter, e.g. --python .venv/bin/python.' });
    }
    return { path, origin: '--python' };
  }
  for (const [variable, origin] of [['VIRTUAL_ENV', 'VIRTUAL_ENV'], ['CONDA_PREFIX', 'CONDA_PREFIX']] as const) {
    const prefix = env[variable];
    if (prefix && isAbsolute(prefix)) {
      for (const name of ['python3', 'python']) {
        const candidate = join(prefix, 'bin', name);
        if (await isExecutable(candidate)) return { path: candidate, origin };
      }
    }
  }
  const onPath = await findOnPath('python3', env.PATH);
  if (onPath === null) {
    throw new UserInputError('PYTHON_NOT_FOUND', 'no python3 on PATH and no active virtual or conda environment', {
      hint: 'Activate the training environment or pass --python PATH.',
    });
  }
  return { path: onPath, origin: 'PATH' };
}

const VERSION_SNIPPET = "import sys; sys.stdout.write('%d.%d.%d' % tuple(sys.version_info[:3]))";

/** Runs the probe; a result that is not the probe's JSON is explained in terms of the --python given. */
export async function runPythonProbe(interpreter: InterpreterChoice, timeoutMs: number, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<{ output: PythonProbeOutput; probe: ProbeRecord }> {
  const shown = interpreter.origin === '--python' ? `--python ${interpreter.path}` : `the interpreter ${interpreter.path} (from ${interpreter.origin})`;
  // The probe runs in the user's own environment: PYTHONPATH, user site and KERAS_* all shape what it sees.
  // Its JSON comes between two copies of a fresh marker: a .pth file or a sitecustomize that prints
  // at start-up cannot be taken for it.
  const marker = `SNAPSHOT-PROBE-${randomBytes(8).toString('hex')}`;
  const result = await runProcess(interpreter.path, [PROBE_SCRIPT, '--marker', marker], { timeoutMs, env, signal });
  if (result.outcome === 'aborted') throw new InterruptedError(signal, 'probing');
  if (result.outcome === 'timeout') {
    throw new UserInputError('PYTHON_PROBE_TIMEOUT', `${shown}: the probe did not answer within ${timeoutMs} ms`, { hint: 'Raise --probe-timeout, or check that the interpreter starts.' });
  }
  if (result.outcome === 'ok') {
    const parsed = parseProbeJson(result.stdout, marker);
    if (parsed !== null) return { output: parsed, probe: { status: 'ok', duration_ms: result.durationMs } };
  }
  // Not the probe's JSON: find out what this program is, to say something useful.
  const version = await runProcess(interpreter.path, ['-c', VERSION_SNIPPET], { timeoutMs: Math.min(timeoutMs, 10_000) });
  const match = /^(\d+)\.(\d+)\.(\d+)$/.exec(version.stdout.trim());
  if (version.outcome !== 'ok' || !match) {
    throw new UserInputError('NOT_PYTHON', `${shown} is not a Python interpreter`, { hint: 'Pass the python of the training environment, e.g. --python .venv/bin/python.' });
  }
  const [major, minor] = [Number(match[1]), Number(match[2])];
  if (major < 3 || (major === 3 && minor < 6)) {
    throw new UserInputError('PYTHON_TOO_OLD', `${shown} is Python ${version.stdout.trim()}; snapshot supports Python 3.6 and newer`, {
      hint: 'Capture an environment built on Python 3.6 or later.',
    });
  }
  throw new UserInputError('PYTHON_PROBE_FAILED', `${shown}: the environment probe failed: ${result.reason ?? 'it printed no JSON'}`, {
    hint: 'Run the probe by hand to see why: python python/snapshot_probe.py',
    data: { stderr: result.stderr.slice(-2000) },
  });
}

/** The probe's JSON between the two markers, whatever else the interpreter printed around it. */
export function parseProbeJson(stdout: string, marker: string): PythonProbeOutput | null {
  const start = stdout.indexOf(marker);
  const end = stdout.lastIndexOf(marker);
  if (start < 0 || end <= start) return null;
  try {
    const value = JSON.parse(stdout.slice(start + marker.length, end)) as Partial<PythonProbeOutput>;
    if (typeof value === 'object' && value !== null && typeof value.probe_version === 'number' && value.python && Array.isArray(value.packages)) {
      return value as PythonProbeOutput;
    }
    return null;
  } catch {
    return null;
  }
}
