// The Python probe, run for real: against the TensorFlow venv the test setup builds, against
// the oldest and newest interpreters it supports, and against a throwaway venv holding
// editable, local-directory, VCS and legacy `setup.py develop` installs. Nothing is mocked.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess, type ProcessResult } from '../../src/adapters/process.js';
import { tfPython } from '../helpers/cli.js';
import { describeIf, findPython, itIf, pythonVersion, requirePython } from '../helpers/pythons.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PROBE = join(repo, 'python', 'snapshot_probe.py');

type Source =
  | { kind: 'index' }
  | { kind: 'vcs'; url: string; vcs: string; commit_id: string | null; requested_revision: string | null }
  | { kind: 'editable' | 'local'; url: string }
  | { kind: 'archive'; url: string; hash: string | null };

interface ProbePackage {
  name: string;
  version: string;
  installer: string | null;
  requested: boolean;
  source: Source;
  location: string;
}

interface ProbeOutput {
  probe_version: number;
  python: {
    version: string;
    implementation: string;
    executable: string;
    prefix: string;
    base_prefix: string;
    environment: 'venv' | 'conda' | 'system';
    conda_env_name: string | null;
    platform: string;
  };
  packages: ProbePackage[];
  frameworks: {
    tensorflow: { version: string | null; distribution: string | null; build_info_source: string | null; build_info_path: string | null } | null;
    keras: {
      version: string | null;
      backend: string;
      backend_source: string;
      keras_home: string;
      tf_keras_version: string | null;
      use_legacy_keras: boolean;
    } | null;
    torch: { version: string | null; version_file_source: string | null } | null;
    jax: { version: string | null; jaxlib: string | null; cuda_plugins: Array<{ name: string; version: string }> } | null;
    numpy: { version: string } | null;
    nvidia_wheels: Array<{ name: string; version: string }>;
  };
  cuda_wheel_files: { cudnn_headers: string[]; libraries: string[] };
  errors: string[];
}

const tempDirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), `snapshot-probe-${prefix}-`)));
  tempDirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A clean environment for the probe: no Keras/TF switches, an empty KERAS_HOME, no PYTHONPATH. */
function probeEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of ['KERAS_BACKEND', 'KERAS_HOME', 'TF_USE_LEGACY_KERAS', 'PYTHONPATH', 'PYTHONHOME', 'PYTHONSTARTUP', 'CONDA_PREFIX', 'CONDA_DEFAULT_ENV']) {
    delete env[key];
  }
  env.KERAS_HOME = tempDir('keras-home');
  return { ...env, ...extra };
}

function describeFailure(result: ProcessResult): string {
  return `${result.command} ${result.args.join(' ')} -> ${result.outcome} ${result.reason ?? ''}\n${result.stderr.slice(-2000)}`;
}

function must(result: ProcessResult): ProcessResult {
  if (result.outcome !== 'ok') throw new Error(describeFailure(result));
  return result;
}

async function runProbe(python: string, env: NodeJS.ProcessEnv = probeEnv()): Promise<{ out: ProbeOutput; result: ProcessResult }> {
  const result = await runProcess(python, [PROBE], { env, timeoutMs: 60_000 });
  if (result.outcome !== 'ok') throw new Error(describeFailure(result));
  // Exactly one JSON document on stdout, nothing else.
  const lines = result.stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  const out = JSON.parse(lines[0] ?? '') as ProbeOutput;
  return { out, result };
}

function normalize(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

function pkg(out: ProbeOutput, name: string): ProbePackage {
  const found = out.packages.find((p) => normalize(p.name) === normalize(name));
  if (!found) throw new Error(`package ${name} not in probe output: ${out.packages.map((p) => p.name).join(', ')}`);
  return found;
}

async function pipList(python: string, env?: NodeJS.ProcessEnv): Promise<Array<{ name: string; version: string }>> {
  const result = must(await runProcess(python, ['-m', 'pip', 'list', '--format=json'], { env, timeoutMs: 300_000 }));
  return JSON.parse(result.stdout) as Array<{ name: string; version: string }>;
}

describe('python probe on the TensorFlow 2.21 venv', () => {
  it('reports tensorflow, keras, numpy, python and every package without importing them', async () => {
    const { out, result } = await runProbe(tfPython);
    console.log(`probe wall time on tf221 (python ${out.python.version}): ${result.durationMs} ms`);

    expect(out.probe_version).toBe(2);
    expect(out.errors).toEqual([]);
    expect(result.stderr).toBe('');

    const tf = out.frameworks.tensorflow;
    expect(tf).not.toBeNull();
    expect(tf?.version).toBe('2.21.0');
    expect(tf?.distribution).toBe('tensorflow-cpu');
    expect(tf?.build_info_source).toContain('is_cuda_build');
    expect(tf?.build_info_path).toMatch(/tensorflow\/python\/platform\/build_info\.py$/);

    const keras = out.frameworks.keras;
    expect(keras).toMatchObject({ version: '3.15.1', backend: 'tensorflow', backend_source: 'default', tf_keras_version: null, use_legacy_keras: false });
    expect(out.frameworks.torch).toBeNull();
    expect(out.frameworks.jax).toBeNull();
    expect(out.frameworks.nvidia_wheels).toEqual([]);

    const version = must(await runProcess(tfPython, ['-c', 'import platform;print(platform.python_version())'])).stdout.trim();
    expect(out.python.version).toBe(version);
    expect(out.python.implementation).toBe('CPython');
    expect(out.python.environment).toBe('venv');
    expect(out.python.conda_env_name).toBeNull();
    expect(out.python.platform).toBe('linux');
    expect(out.python.prefix).toBe(join(repo, '.cache', 'envs', 'tf221'));
    expect(out.python.base_prefix).not.toBe(out.python.prefix);

    const listed = await pipList(tfPython, probeEnv());
    const numpy = listed.find((p) => p.name === 'numpy');
    expect(numpy).toBeDefined();
    expect(pkg(out, 'numpy').version).toBe(numpy?.version);
    expect(out.frameworks.numpy).toEqual({ version: numpy?.version });
    expect(out.packages).toHaveLength(listed.length);
    expect(out.packages.map((p) => normalize(p.name)).sort()).toEqual(listed.map((p) => normalize(p.name)).sort());
    for (const entry of listed) expect(pkg(out, entry.name).version).toBe(entry.version);
    // sorted by normalized name
    const names = out.packages.map((p) => normalize(p.name));
    expect(names).toEqual([...names].sort());

    const tfDist = pkg(out, 'tensorflow-cpu');
    expect(tfDist).toMatchObject({ installer: 'pip', requested: true, source: { kind: 'index' } });
    expect(pkg(out, 'absl-py').requested).toBe(false);
  });

  it('never imports a framework', async () => {
    const result = must(await runProcess(tfPython, ['-X', 'importtime', PROBE], { env: probeEnv(), timeoutMs: 60_000 }));
    const imported = result.stderr
      .split('\n')
      .map((line) => line.split('|')[2]?.trim())
      .filter((name): name is string => Boolean(name));
    expect(imported).toContain('json');
    expect(imported.filter((name) => /^(tensorflow|keras|tf_keras|torch|jax|jaxlib|numpy)(\.|$)/.test(name))).toEqual([]);
  });

  it('takes the backend from KERAS_BACKEND over everything else', async () => {
    const home = tempDir('keras-home-env');
    writeFileSync(join(home, 'keras.json'), JSON.stringify({ backend: 'torch' }));
    const { out } = await runProbe(tfPython, probeEnv({ KERAS_BACKEND: 'jax', KERAS_HOME: home }));
    expect(out.frameworks.keras).toMatchObject({ version: '3.15.1', backend: 'jax', backend_source: 'KERAS_BACKEND', keras_home: home });
  });

  it('takes the backend from keras.json in KERAS_HOME', async () => {
    const home = tempDir('keras-home-json');
    writeFileSync(join(home, 'keras.json'), JSON.stringify({ floatx: 'float32', backend: 'torch' }));
    const { out } = await runProbe(tfPython, probeEnv({ KERAS_HOME: home }));
    expect(out.frameworks.keras).toMatchObject({ backend: 'torch', backend_source: 'keras.json', keras_home: home });
  });

  it('keeps the default backend when keras.json has no backend or does not parse', async () => {
    const home = tempDir('keras-home-bad');
    writeFileSync(join(home, 'keras.json'), '{not json');
    const { out } = await runProbe(tfPython, probeEnv({ KERAS_HOME: home }));
    expect(out.frameworks.keras).toMatchObject({ backend: 'tensorflow', backend_source: 'default' });
    expect(out.errors).toEqual([]);
  });
});

describe('python probe on fake distributions placed on PYTHONPATH', () => {
  let fake: string;

  beforeAll(() => {
    fake = tempDir('fake-site');
    const distInfo = (name: string, version: string, files: Record<string, string> = {}): void => {
      const dir = join(fake, `${name.replace(/-/g, '_')}-${version}.dist-info`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'METADATA'), `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\nSummary: fake\n\nLong description\n`);
      writeFileSync(join(dir, 'INSTALLER'), 'pip\n');
      for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
    };
    const file = (relative: string, text: string): void => {
      mkdirSync(dirname(join(fake, relative)), { recursive: true });
      writeFileSync(join(fake, relative), text);
    };
    // The torch wheel at /opt/wheels carries a local version label; a fake of it is enough.
    distInfo('torch', '2.13.0+cpu', { REQUESTED: '' });
    file('torch/version.py', "__version__ = '2.13.0+cpu'\ncuda = None\n");
    // Shadows the venv's numpy: the first one on sys.path wins, as for import.
    distInfo('numpy', '9.9.9');
    distInfo('jax', '0.7.1');
    distInfo('jaxlib', '0.7.1');
    distInfo('jax-cuda12-plugin', '0.7.1');
    distInfo('jax-cuda12-pjrt', '0.7.1');
    distInfo('tf-keras', '2.21.0');
    distInfo('nvidia-cudnn-cu12', '9.3.0.75');
    distInfo('nvidia-cublas-cu12', '12.4.5.8');
    file('nvidia/cudnn/include/cudnn_version.h', '#define CUDNN_MAJOR 9\n#define CUDNN_MINOR 3\n#define CUDNN_PATCHLEVEL 0\n');
    file('nvidia/cudnn/include/cudnn_version_v9.h', '#define CUDNN_MAJOR 9\n');
    file('nvidia/cudnn/include/other.h', '');
    file('nvidia/cudnn/lib/libcudnn.so.9', '');
    file('nvidia/cublas/lib/libcublas.so.12', '');
    file('nvidia/cuda_runtime/lib/libcudart.so.12', '');
    file('nvidia/cufft/lib/libcufft.so.11', '');
    distInfo('secretpkg', '1.0', {
      'direct_url.json': JSON.stringify({ url: 'https://user:s3cret@example.com/pkgs/secretpkg-1.0.tar.gz', archive_info: { hashes: { sha256: 'ab12' } } }),
    });
    distInfo('hashpkg', '2.0', {
      'direct_url.json': JSON.stringify({ url: 'file:///wheels/hashpkg-2.0-py3-none-any.whl', archive_info: { hash: 'sha256=cd34' } }),
    });
    distInfo('privgit', '0.3', {
      'direct_url.json': JSON.stringify({
        url: 'https://oauth2:tok@git.example.com/team/privgit.git',
        vcs_info: { vcs: 'git', commit_id: 'a'.repeat(40), requested_revision: 'main' },
      }),
    });
    // No METADATA at all: the folder name still names it.
    mkdirSync(join(fake, 'bare_dist-0.0.1.dist-info'));
    // An old distutils install: the egg-info is a single file.
    file('oldpkg-1.2-py3.11.egg-info', 'Metadata-Version: 1.0\nName: oldpkg\nVersion: 1.2\n');
    // A setup.py develop link whose project folder is not on sys.path.
    file('linked/linkedpkg.egg-info/PKG-INFO', 'Metadata-Version: 1.0\nName: linkedpkg\nVersion: 0.5.dev0\n');
    file('linkedpkg.egg-link', `${join(fake, 'linked')}\n.\n`);
  });

  it('reports them unchanged, first on sys.path wins, and strips credentials', async () => {
    const { out, result } = await runProbe(tfPython, probeEnv({ PYTHONPATH: fake, TF_USE_LEGACY_KERAS: '1' }));
    expect(result.stderr).toBe('');
    expect(out.errors).toEqual([]);

    expect(out.frameworks.torch?.version).toBe('2.13.0+cpu');
    expect(out.frameworks.torch?.version_file_source).toContain("__version__ = '2.13.0+cpu'");
    expect(pkg(out, 'torch')).toMatchObject({ version: '2.13.0+cpu', installer: 'pip', requested: true, source: { kind: 'index' }, location: fake });

    expect(pkg(out, 'numpy')).toMatchObject({ version: '9.9.9', location: fake });
    expect(out.frameworks.numpy).toEqual({ version: '9.9.9' });

    expect(out.frameworks.jax).toEqual({
      version: '0.7.1',
      jaxlib: '0.7.1',
      cuda_plugins: [
        { name: 'jax-cuda12-pjrt', version: '0.7.1' },
        { name: 'jax-cuda12-plugin', version: '0.7.1' },
      ],
    });
    expect(out.frameworks.keras).toMatchObject({ version: '3.15.1', tf_keras_version: '2.21.0', use_legacy_keras: true });
    expect(out.frameworks.nvidia_wheels).toEqual([
      { name: 'nvidia-cublas-cu12', version: '12.4.5.8' },
      { name: 'nvidia-cudnn-cu12', version: '9.3.0.75' },
    ]);
    expect(out.cuda_wheel_files).toEqual({
      cudnn_headers: [join(fake, 'nvidia/cudnn/include/cudnn_version.h'), join(fake, 'nvidia/cudnn/include/cudnn_version_v9.h')],
      libraries: [
        join(fake, 'nvidia/cublas/lib/libcublas.so.12'),
        join(fake, 'nvidia/cuda_runtime/lib/libcudart.so.12'),
        join(fake, 'nvidia/cudnn/lib/libcudnn.so.9'),
      ],
    });

    expect(pkg(out, 'secretpkg').source).toEqual({ kind: 'archive', url: 'https://example.com/pkgs/secretpkg-1.0.tar.gz', hash: 'sha256=ab12' });
    expect(pkg(out, 'hashpkg').source).toEqual({ kind: 'archive', url: 'file:///wheels/hashpkg-2.0-py3-none-any.whl', hash: 'sha256=cd34' });
    expect(pkg(out, 'privgit').source).toEqual({
      kind: 'vcs',
      url: 'https://git.example.com/team/privgit.git',
      vcs: 'git',
      commit_id: 'a'.repeat(40),
      requested_revision: 'main',
    });
    expect(result.stdout).not.toContain('s3cret');
    expect(result.stdout).not.toContain('oauth2:tok');
    expect(pkg(out, 'bare-dist').version).toBe('0.0.1');
    expect(pkg(out, 'oldpkg')).toMatchObject({ version: '1.2', installer: null, requested: false, source: { kind: 'index' } });
    expect(pkg(out, 'linkedpkg')).toMatchObject({ version: '0.5.dev0', source: { kind: 'editable', url: `file://${join(fake, 'linked')}` } });
  });
});

// The oldest and newest interpreters the probe supports, and one it must refuse.
const oldest = requirePython('3.6', 'the probe on the oldest supported Python');
const newest = requirePython('3.13', 'the probe on the newest supported Python');
const python27 = requirePython('2.7', 'the answer to an interpreter older than 3.6');

describe('python probe across interpreter versions', () => {
  const interpreters = [oldest, newest].filter((p): p is string => p !== null).map((p) => [pythonVersion(p), p]);

  describeIf(interpreters.length > 0)('on each interpreter', () => {
    it.each(interpreters)('runs on python %s', async (version, python) => {
      const { out, result } = await runProbe(python);
      console.log(`probe wall time on python ${out.python.version}: ${result.durationMs} ms`);
      expect(result.exitCode).toBe(0);
      expect(out.python.version).toBe(version);
      expect(out.python.environment).toBe('system');
      expect(out.packages.length).toBeGreaterThan(0);
      expect(out.packages.map((p) => p.name)).toContain('pip');
      expect(Array.isArray(out.errors)).toBe(true);
      expect(out.errors).toEqual([]);
    });
  });

  itIf(python27 !== null)('answers an interpreter older than 3.6 with a JSON error and exit code 3', async () => {
    const python = python27 as string;
    const result = await runProcess(python, [PROBE], { env: probeEnv(), timeoutMs: 60_000 });
    expect(result.exitCode).toBe(3);
    const out = JSON.parse(result.stdout) as { errors: string[]; python: { version: string } };
    expect(out.python.version).toBe(pythonVersion(python));
    expect(out.python.version).toMatch(/^2\.7\./);
    expect(out.errors[0]).toContain('older than 3.6');
  });
});

describe('python probe on editable, local, VCS and setup.py develop installs', () => {
  let work: string;
  let venvPython: string;
  let headCommit: string;
  const dirs = { editable: '', local: '', vcs: '', legacy: '' };

  function pyproject(dir: string, name: string, module: string): void {
    mkdirSync(join(dir, 'src', module), { recursive: true });
    writeFileSync(join(dir, 'src', module, '__init__.py'), 'VALUE = 1\n');
    writeFileSync(
      join(dir, 'pyproject.toml'),
      [
        '[build-system]',
        'requires = ["setuptools"]',
        'build-backend = "setuptools.build_meta"',
        '[project]',
        `name = "${name}"`,
        'version = "0.1.0"',
        '[tool.setuptools.packages.find]',
        'where = ["src"]',
        '',
      ].join('\n'),
    );
  }

  beforeAll(async () => {
    work = tempDir('sources');
    const python = findPython('3.11');
    if (python === null) throw new Error('no Python 3.11 on this machine (pyenv or PATH): the test environments need it');
    must(await runProcess(python, ['-m', 'venv', join(work, 'venv')], { timeoutMs: 300_000 }));
    venvPython = join(work, 'venv', 'bin', 'python');
    const pip = (args: string[]): Promise<ProcessResult> =>
      runProcess(venvPython, ['-m', 'pip', 'install', '--quiet', ...args], { timeoutMs: 300_000, cwd: work });
    // setuptools 65 builds wheels through the `wheel` package (and its `packaging`), which a fresh venv lacks.
    must(await pip(['--index-url', 'file:///opt/pypi/simple', 'wheel']));

    dirs.editable = join(work, 'proj-editable');
    pyproject(dirs.editable, 'probe-editable', 'probe_editable');
    must(await pip(['--no-index', '--no-deps', '--no-build-isolation', '-e', dirs.editable]));

    dirs.local = join(work, 'proj-local');
    pyproject(dirs.local, 'probe-local', 'probe_local');
    must(await pip(['--no-index', '--no-deps', '--no-build-isolation', dirs.local]));

    dirs.vcs = join(work, 'proj-vcs');
    pyproject(dirs.vcs, 'probe-vcs', 'probe_vcs');
    const git = (args: string[]): Promise<ProcessResult> =>
      runProcess('git', ['-c', 'user.name=probe test', '-c', 'user.email=probe@example.com', '-c', 'commit.gpgsign=false', ...args], { cwd: dirs.vcs });
    must(await git(['init', '-q']));
    must(await git(['add', '.']));
    must(await git(['commit', '-q', '-m', 'initial']));
    headCommit = must(await git(['rev-parse', 'HEAD'])).stdout.trim();
    must(await pip(['--no-index', '--no-deps', '--no-build-isolation', `git+file://${dirs.vcs}@${headCommit}`]));

    // The legacy path: `setup.py develop` leaves an .egg-link and no direct_url.json.
    dirs.legacy = join(work, 'proj-legacy');
    mkdirSync(join(dirs.legacy, 'probe_legacy'), { recursive: true });
    writeFileSync(join(dirs.legacy, 'probe_legacy', '__init__.py'), 'VALUE = 1\n');
    writeFileSync(join(dirs.legacy, 'setup.py'), 'from setuptools import setup\nsetup(name="probe-legacy", version="0.2.0", packages=["probe_legacy"])\n');
    must(await pip(['--no-index', '--no-deps', '--no-build-isolation', '--no-use-pep517', '-e', dirs.legacy]));
  }, 900_000);

  it('tells editable, local, vcs, legacy editable and index installs apart', async () => {
    const { out, result } = await runProbe(venvPython);
    console.log(`probe wall time on the sources venv: ${result.durationMs} ms`);
    expect(out.errors).toEqual([]);
    expect(out.python.environment).toBe('venv');

    expect(pkg(out, 'probe-editable')).toMatchObject({
      version: '0.1.0',
      installer: 'pip',
      requested: true,
      source: { kind: 'editable', url: `file://${dirs.editable}` },
    });
    expect(pkg(out, 'probe-local')).toMatchObject({ version: '0.1.0', requested: true, source: { kind: 'local', url: `file://${dirs.local}` } });
    const vcs = pkg(out, 'probe-vcs');
    expect(vcs.source).toEqual({ kind: 'vcs', url: `file://${dirs.vcs}`, vcs: 'git', commit_id: headCommit, requested_revision: headCommit });
    expect(headCommit).toMatch(/^[0-9a-f]{40}$/);
    expect(pkg(out, 'probe-legacy')).toMatchObject({ version: '0.2.0', source: { kind: 'editable', url: `file://${dirs.legacy}` } });
    expect(pkg(out, 'pip').source).toEqual({ kind: 'index' });
    expect(pkg(out, 'wheel').source).toEqual({ kind: 'index' });

    const listed = await pipList(venvPython, probeEnv());
    expect(out.packages.map((p) => normalize(p.name)).sort()).toEqual(listed.map((p) => normalize(p.name)).sort());
  });
});
