// The local engine's pure decisions: which interpreter, the cache key, the training's environment,
// and the indexes pip is configured with.
import { describe, expect, it } from '@jest/globals';
import { DETERMINISM_ENV_ALLOWLIST } from '../../../src/core/determinism.js';
import { choosePython, HOST_REMOVED, localRunEnv, pipIndexes, PYPI_SIMPLE, redactUrl, requirementsIndexes, venvKey, type PythonCandidate } from '../../../src/core/replay/local.js';
import { SnapshotError } from '../../../src/errors.js';

const py = (version: string, origin: PythonCandidate['origin'] = 'pyenv', path = `/p/${version}/bin/python`): PythonCandidate => ({ version, implementation: 'CPython', origin, path });
const want = (version: string) => ({ version, implementation: 'CPython' });

function refused(action: () => unknown): SnapshotError {
  try {
    action();
  } catch (error) {
    if (error instanceof SnapshotError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('choosePython', () => {
  it('takes the exact captured version, preferring --python, then pyenv, over PATH', () => {
    const choice = choosePython([py('3.11.7', 'PATH', '/usr/bin/python3'), py('3.11.7', 'pyenv'), py('3.12.1')], want('3.11.7'), false);
    expect(choice).toEqual({ kind: 'exact', candidate: py('3.11.7', 'pyenv') });
    expect(choosePython([py('3.11.7', 'PATH', '/a'), py('3.11.7', '--python', '/b')], want('3.11.7'), true).candidate.path).toBe('/b');
  });

  it('else the nearest patch of the same minor (the newer on a tie), never a pre-release or another minor', () => {
    const choice = choosePython([py('3.11.2'), py('3.11.9'), py('3.11.6rc1'), py('3.12.5'), py('3.10.5')], want('3.11.5'), false);
    expect(choice).toEqual({ kind: 'nearest', candidate: py('3.11.2'), wanted: '3.11.5' });
    expect(choosePython([py('3.11.3'), py('3.11.7')], want('3.11.5'), false).candidate.version).toBe('3.11.7');
  });

  it('--exact-python refuses the nearest one, naming both', () => {
    const error = refused(() => choosePython([py('3.11.9')], want('3.11.5'), true));
    expect(error.code).toBe('PYTHON_EXACT_MISSING');
    expect(error.message).toContain('3.11.5');
    expect(error.message).toContain('3.11.9');
    expect(error.exitCode).toBe(6);
  });

  it('no Python of the minor: what was found, and what to install', () => {
    const error = refused(() => choosePython([py('3.12.1'), py('3.10.13')], want('3.11.7'), false));
    expect(error.code).toBe('PYTHON_MINOR_MISSING');
    expect(error.message).toBe("no CPython 3.11 on this host for the snapshot's Python 3.11.7 (looked on PATH and under pyenv, asdf, conda and uv; found: CPython 3.10.13, CPython 3.12.1)");
    expect(error.hint).toContain('pyenv install 3.11.7');
    expect(error.hint).toContain('uv python install 3.11.7');
  });

  it('another implementation does not count', () => {
    expect(refused(() => choosePython([{ ...py('3.11.7'), implementation: 'PyPy' }], want('3.11.7'), false)).code).toBe('PYTHON_MINOR_MISSING');
  });
});

describe('venvKey', () => {
  it('changes with the requirements and the interpreter, and only with them', () => {
    const key = venvKey('numpy==2.1.0\n', py('3.11.7'));
    expect(key).toMatch(/^[0-9a-f]{32}$/);
    expect(venvKey('numpy==2.1.0\n', py('3.11.7'))).toBe(key);
    expect(venvKey('numpy==2.1.1\n', py('3.11.7'))).not.toBe(key);
    expect(venvKey('numpy==2.1.0\n', py('3.11.7', 'pyenv', '/other/python'))).not.toBe(key);
    expect(venvKey('numpy==2.1.0\n', py('3.11.8', 'pyenv', '/p/3.11.7/bin/python'))).not.toBe(key);
  });
});

describe('localRunEnv', () => {
  const host = {
    HOME: '/home/u',
    USER: 'u',
    LANG: 'C.UTF-8',
    PATH: '/home/u/.venv/bin:/usr/bin:/bin',
    VIRTUAL_ENV: '/home/u/.venv',
    PYTHONPATH: '/evil',
    PYTHONSTARTUP: '/evil.py',
    PYTHONHOME: '/x',
    PYTHONUSERBASE: '/y',
    LD_PRELOAD: '/lib.so',
    KERAS_HOME: '/home/u/.keras',
    KERAS_BACKEND: 'jax',
    TF_ENABLE_ONEDNN_OPTS: '1',
    OMP_NUM_THREADS: '3',
    CUDA_VISIBLE_DEVICES: '1',
    AWS_SECRET_ACCESS_KEY: 'secret',
  };

  it('is built from the replay environment and a short list of the host: nothing that changes Python or numerics', () => {
    const env = localRunEnv({ replayEnv: { PYTHONHASHSEED: '0', TF_ENABLE_ONEDNN_OPTS: '0' }, venv: '/cache/v', kerasHome: '/r/keras-home', host, gpus: { kind: 'all' } });
    expect(env).toEqual({ HOME: '/home/u', KERAS_HOME: '/r/keras-home', LANG: 'C.UTF-8', PATH: '/cache/v/bin:/usr/bin:/bin', PYTHONHASHSEED: '0', TF_ENABLE_ONEDNN_OPTS: '0', USER: 'u', VIRTUAL_ENV: '/cache/v' });
    for (const name of HOST_REMOVED) if (name !== 'KERAS_HOME') expect(env[name]).toBeUndefined();
    // Every allowlisted numerics variable comes from the replay environment only.
    for (const name of Object.keys(DETERMINISM_ENV_ALLOWLIST)) if (!['PYTHONHASHSEED', 'TF_ENABLE_ONEDNN_OPTS', 'KERAS_HOME'].includes(name)) expect(env[name]).toBeUndefined();
  });

  it('shows the GPUs asked for, as a device request would', () => {
    const base = { replayEnv: {}, venv: '/v', kerasHome: '/k', host: {} };
    expect(localRunEnv({ ...base, gpus: { kind: 'none' } }).CUDA_VISIBLE_DEVICES).toBe('');
    expect(localRunEnv({ ...base, gpus: { kind: 'count', count: 2 } }).CUDA_VISIBLE_DEVICES).toBe('0,1');
    expect(localRunEnv({ ...base, gpus: { kind: 'devices', ids: ['3', 'GPU-ab'] } }).CUDA_VISIBLE_DEVICES).toBe('3,GPU-ab');
    expect(localRunEnv({ ...base, gpus: { kind: 'all' } }).CUDA_VISIBLE_DEVICES).toBeUndefined();
  });
});

describe('pipIndexes', () => {
  const config = ["global.extra-index-url='file:///opt/pypi/simple file:///opt/pypi-more/simple'", "global.find-links='/opt/wheels'", ":env:.find-links='/opt/wheels'", ":env:.default-timeout='180'"].join('\n');

  it("without an index-url it is pip's default index, beside the extra ones and find-links", () => {
    expect(pipIndexes(config, undefined)).toEqual({ indexUrl: PYPI_SIMPLE, extraIndexUrls: ['file:///opt/pypi/simple', 'file:///opt/pypi-more/simple'], findLinks: ['/opt/wheels'], indexSource: "pip's default index" });
  });

  it('--pip-index-url wins over PIP_INDEX_URL, which wins over pip.conf', () => {
    const withEnv = `global.index-url='http://conf/simple'\n:env:.index-url='http://env/simple'`;
    expect(pipIndexes(withEnv, undefined)).toMatchObject({ indexUrl: 'http://env/simple', indexSource: 'PIP_INDEX_URL' });
    expect(pipIndexes("install.index-url='http://conf/simple'", undefined)).toMatchObject({ indexUrl: 'http://conf/simple', indexSource: 'pip.conf' });
    expect(pipIndexes(withEnv, 'http://flag/simple')).toMatchObject({ indexUrl: 'http://flag/simple', indexSource: '--pip-index-url' });
  });

  it('no-index: no index to check', () => {
    expect(pipIndexes("global.no-index='true'", undefined)).toMatchObject({ indexUrl: null, indexSource: 'no-index' });
  });

  it('never shows credentials', () => {
    expect(redactUrl('https://user:token@mirror.example/simple')).toBe('https://***@mirror.example/simple');
  });
});

describe('requirementsIndexes', () => {
  it('finds the index, extra-index and find-links lines a requirements file names, with a space or =, once each', () => {
    const text = ['# generated', '--extra-index-url https://download.pytorch.org/whl/cpu', '--extra-index-url=https://download.pytorch.org/whl/cpu', '-i http://mirror.example/simple  # the mirror', '--find-links=wheels', '-f /opt/wheels', 'torch==2.3.0+cpu', 'numpy==1.26.4 --hash=sha256:abc'].join('\n');
    expect(requirementsIndexes(text)).toEqual({ indexUrls: ['http://mirror.example/simple'], extraIndexUrls: ['https://download.pytorch.org/whl/cpu'], findLinks: ['wheels', '/opt/wheels'] });
    expect(requirementsIndexes('numpy==1.26.4\n')).toEqual({ indexUrls: [], extraIndexUrls: [], findLinks: [] });
  });
});
