// The local engine's decisions, pure: which interpreter rebuilds the captured Python, the cache key
// of a rebuilt virtual environment, the environment the training gets (built from nothing, never
// from our own process.env minus some names), and which package indexes pip is configured with.
import { createHash } from 'node:crypto';
import type { GpuRequest } from '../container-engine.js';
import { DETERMINISM_ENV_ALLOWLIST } from '../determinism.js';
import { ExternalError } from '../../errors.js';

/** Where a candidate interpreter was found. */
export type PythonOrigin = '--python' | 'PATH' | 'pyenv' | 'asdf' | 'conda' | 'uv';

export interface PythonCandidate {
  /** The interpreter as it runs (its own sys.executable, links resolved): two finds of one Python are one candidate. */
  path: string;
  version: string;
  implementation: string;
  origin: PythonOrigin;
}

export type PythonChoice =
  | { kind: 'exact'; candidate: PythonCandidate }
  /** Same minor, another patch: the replay runs, and the mismatch is a high-severity difference. */
  | { kind: 'nearest'; candidate: PythonCandidate; wanted: string };

const ORIGIN_ORDER: readonly PythonOrigin[] = ['--python', 'pyenv', 'uv', 'asdf', 'conda', 'PATH'];
const VERSION = /^(\d+)\.(\d+)\.(\d+)((?:a|b|rc)\d+)?$/;

function parts(version: string): [number, number, number, string] | null {
  const m = VERSION.exec(version);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3]), m[4] ?? ''] : null;
}

/** What to install, said the same way everywhere a Python is missing. */
export function installAdvice(version: string): string {
  return `Install Python ${version} (pyenv install ${version}, uv python install ${version}, or conda create -n py${version.replace(/\./g, '')} python=${version}) and replay again, or pass --python PATH to an interpreter of that version, or replay in a container with --engine docker.`;
}

/**
 * The exact captured version, else (unless `exact`) the same minor with the nearest patch (the
 * newer on a tie: it has the fixes). Refused with a stable code and what to install otherwise.
 */
export function choosePython(candidates: readonly PythonCandidate[], wanted: { version: string; implementation: string }, exact: boolean): PythonChoice {
  const want = parts(wanted.version);
  if (want === null) throw new ExternalError('PYTHON_VERSION_UNKNOWN', `the snapshot's Python version ${JSON.stringify(wanted.version).slice(0, 40)} is not a version`, { hint: 'The snapshot file has been edited or is corrupt; recapture it.' });
  const sameImpl = candidates.filter((c) => c.implementation.toLowerCase() === wanted.implementation.toLowerCase());
  const byOrigin = (a: PythonCandidate, b: PythonCandidate) => ORIGIN_ORDER.indexOf(a.origin) - ORIGIN_ORDER.indexOf(b.origin) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  const exactOnes = sameImpl.filter((c) => c.version === wanted.version).sort(byOrigin);
  if (exactOnes[0] !== undefined) return { kind: 'exact', candidate: exactOnes[0] };
  const minor = `${want[0]}.${want[1]}`;
  const sameMinor = sameImpl
    .map((c) => ({ c, p: parts(c.version) }))
    .filter((x): x is { c: PythonCandidate; p: [number, number, number, string] } => x.p !== null && x.p[0] === want[0] && x.p[1] === want[1] && x.p[3] === '')
    .sort((a, b) => Math.abs(a.p[2] - want[2]) - Math.abs(b.p[2] - want[2]) || b.p[2] - a.p[2] || byOrigin(a.c, b.c));
  const seen = [...new Set(candidates.map((c) => `${c.implementation} ${c.version}`))].sort().join(', ') || 'none';
  const nearest = sameMinor[0]?.c;
  if (nearest === undefined) {
    throw new ExternalError('PYTHON_MINOR_MISSING', `no ${wanted.implementation} ${minor} on this host for the snapshot's Python ${wanted.version} (looked on PATH and under pyenv, asdf, conda and uv; found: ${seen})`, { hint: installAdvice(wanted.version) });
  }
  if (exact) {
    throw new ExternalError('PYTHON_EXACT_MISSING', `no ${wanted.implementation} ${wanted.version} on this host, and --exact-python refuses the nearest, ${nearest.version} (${nearest.path})`, { hint: `${installAdvice(wanted.version)} Without --exact-python the replay runs on ${nearest.version} and reports the difference.` });
  }
  return { kind: 'nearest', candidate: nearest, wanted: wanted.version };
}

/**
 * The cached environment's name: the sha256 of the pinned requirements (the very text the
 * Dockerfile installs) and the interpreter that made it, cut to 32 hex digits (128 bits), so a
 * venv's paths stay short enough for the scripts' #! lines.
 */
export function venvKey(requirementsText: string, interpreter: Pick<PythonCandidate, 'path' | 'version' | 'implementation'>): string {
  return createHash('sha256').update(`snapshot-venv 1\n${interpreter.implementation} ${interpreter.version} ${interpreter.path}\n${requirementsText}`).digest('hex').slice(0, 32);
}

/**
 * What the training may take from this host's environment: who and where the user is, and the
 * locale. Nothing that changes Python's or a framework's behaviour (PYTHONPATH, PYTHONSTARTUP,
 * PYTHONHOME, PYTHONUSERBASE, LD_PRELOAD, LD_LIBRARY_PATH, KERAS_*, any numerics variable) is
 * in it: the environment is built from this list, not from ours minus some.
 */
export const HOST_PASSTHROUGH = ['HOME', 'USER', 'LOGNAME', 'SHELL', 'TMPDIR', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TERM'] as const;

/** Documented for the README and checked by the tests: never passed, whatever the host has. */
export const HOST_REMOVED = ['PYTHONPATH', 'PYTHONSTARTUP', 'PYTHONHOME', 'PYTHONUSERBASE', 'PYTHONINSPECT', 'PYTHONBREAKPOINT', 'PYTHONWARNINGS', 'PYTHONSAFEPATH', 'LD_PRELOAD', 'LD_LIBRARY_PATH', 'KERAS_HOME', 'KERAS_BACKEND', 'CONDA_PREFIX'] as const;

export interface LocalEnvInput {
  /** The replay environment (replayEnvironment()): captured variables, the recipe, --env. */
  replayEnv: Readonly<Record<string, string>>;
  /** The venv's folder. */
  venv: string;
  /** A folder of the replay's own holding the captured keras.json. */
  kerasHome: string;
  host: Readonly<Record<string, string | undefined>>;
  gpus: GpuRequest;
}

/** The training's whole environment on the local engine. */
export function localRunEnv(input: LocalEnvInput): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of HOST_PASSTHROUGH) {
    const value = input.host[name];
    if (value !== undefined && !Object.hasOwn(DETERMINISM_ENV_ALLOWLIST, name)) env[name] = value;
  }
  // Which GPUs the training sees, as the container engine's device request would give them.
  if (input.gpus.kind === 'none') env.CUDA_VISIBLE_DEVICES = '';
  else if (input.gpus.kind === 'count') env.CUDA_VISIBLE_DEVICES = Array.from({ length: input.gpus.count }, (_, i) => String(i)).join(',');
  else if (input.gpus.kind === 'devices') env.CUDA_VISIBLE_DEVICES = input.gpus.ids.join(',');
  Object.assign(env, input.replayEnv);
  const hostPath = (input.replayEnv.PATH ?? input.host.PATH ?? '/usr/local/bin:/usr/bin:/bin')
    .split(':')
    // Another environment's bin folder would put its python before ours for a command that names python3.X.
    .filter((dir) => dir !== '' && dir !== `${input.venv}/bin` && !(input.host.VIRTUAL_ENV && dir === `${input.host.VIRTUAL_ENV}/bin`) && !(input.host.CONDA_PREFIX && dir === `${input.host.CONDA_PREFIX}/bin`));
  env.PATH = [`${input.venv}/bin`, ...hostPath].join(':');
  env.VIRTUAL_ENV = input.venv;
  env.KERAS_HOME = input.kerasHome;
  return Object.fromEntries(Object.entries(env).sort(([a], [b]) => (a < b ? -1 : 1)));
}

export interface PipIndexes {
  /** null: --no-index (find-links only). */
  indexUrl: string | null;
  extraIndexUrls: string[];
  findLinks: string[];
  /** Where the index URL came from, for messages. */
  indexSource: string;
}

export const PYPI_SIMPLE = 'https://pypi.org/simple';

/**
 * The indexes pip will use: --pip-index-url, else what `pip config list` says (it already merges
 * pip.conf's files and the PIP_* variables, shown as ":env:."), else pip's default index.
 * Lines look like `global.index-url='http://...'`; list values are separated by white space.
 */
export function pipIndexes(configList: string, flagIndexUrl: string | undefined): PipIndexes {
  const values = new Map<string, { value: string; rank: number; scope: string }>();
  for (const line of configList.split('\n')) {
    const m = /^([^.=]*)\.([a-z-]+)='(.*)'$/.exec(line.trim());
    if (!m) continue;
    const [, scope = '', key = '', value = ''] = m;
    const rank = scope === ':env:' ? 3 : scope === 'install' ? 2 : scope === 'global' ? 1 : 0;
    if (rank === 0) continue;
    const had = values.get(key);
    if (had === undefined || had.rank <= rank) values.set(key, { value, rank, scope });
  }
  const list = (key: string) => (values.get(key)?.value ?? '').split(/\s+/).filter(Boolean);
  const noIndex = /^(1|true|yes|on)$/i.test(values.get('no-index')?.value ?? '');
  const configured = values.get('index-url');
  const indexUrl = flagIndexUrl ?? (noIndex ? null : (configured?.value.trim() || PYPI_SIMPLE));
  const indexSource = flagIndexUrl !== undefined ? '--pip-index-url' : noIndex ? 'no-index' : configured === undefined ? "pip's default index" : configured.scope === ':env:' ? 'PIP_INDEX_URL' : 'pip.conf';
  return { indexUrl, extraIndexUrls: list('extra-index-url'), findLinks: list('find-links'), indexSource };
}

/** A URL as messages show it: credentials never. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, '$1***@');
}

/**
 * The package locations a requirements file names itself (`--index-url`/`-i`,
 * `--extra-index-url`, `--find-links`/`-f`, with a space or `=`): pip uses them beside (an
 * --index-url line: instead of) the configured ones, so they are checked like those.
 */
export function requirementsIndexes(text: string): { indexUrls: string[]; extraIndexUrls: string[]; findLinks: string[] } {
  const found = { indexUrls: [] as string[], extraIndexUrls: [] as string[], findLinks: [] as string[] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    const m = /^(--index-url|-i|--extra-index-url|--find-links|-f)(?:\s*=\s*|\s+)(\S+)$/.exec(line);
    if (!m) continue;
    const [, option = '', value = ''] = m;
    const list = option === '--extra-index-url' ? found.extraIndexUrls : option === '--find-links' || option === '-f' ? found.findLinks : found.indexUrls;
    if (!list.includes(value)) list.push(value);
  }
  return found;
}
