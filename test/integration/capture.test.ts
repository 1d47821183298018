// `snapshot capture` end to end, for real: the built CLI against a real TensorFlow/Keras venv,
// real git repositories, real files, and small fake nvidia-smi/nvcc programs put first on PATH.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { cleanEnv, fakeBin, repoRoot, runCli, tfPython } from '../helpers/cli.js';
import { describeIf, pythonVersion, requirePython } from '../helpers/pythons.js';
import { SCHEMA_VERSION } from '../../src/core/model.js';
import { ONEDNN_DEFAULT_CPU_FLAGS } from '../../src/core/determinism.js';

let work: string;
let pipList: Array<{ name: string; version: string }>;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'snapshot-capture-'));
  pipList = JSON.parse(execFileSync(tfPython, ['-m', 'pip', 'list', '--format=json'], { encoding: 'utf8' }));
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

function freshDir(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const withPath = (dir: string) => `${dir}:${process.env.PATH ?? ''}`;

describe('capture of the real TensorFlow 2.21 / Keras 3.15 venv', () => {
  let result: Awaited<ReturnType<typeof runCli>>;
  let dir: string;

  beforeAll(async () => {
    dir = freshDir('tf');
    // An empty KERAS_HOME: a keras.json left in ~/.keras by another run must not decide the backend.
    const kerasHome = freshDir('tf-keras-home');
    result = await runCli(['capture', '--python', tfPython, '--json'], { cwd: dir, env: cleanEnv({ AWS_SECRET_ACCESS_KEY: 'do-not-record-me', PYTHONHASHSEED: '0', KERAS_HOME: kerasHome }) });
  });

  it('exits 0 and prints only the JSON envelope on stdout', () => {
    expect(result.exitCode).toBe(0);
    expect(result.json.status).toBe(0);
    expect(Array.isArray(result.json.warnings)).toBe(true);
  });

  it('reports tensorflow-cpu 2.21.0 with its build info, from metadata alone', () => {
    const tf = result.json.result.frameworks.tensorflow;
    expect(tf.version).toBe('2.21.0');
    expect(tf.distribution).toBe('tensorflow-cpu');
    expect(tf.build_info).toEqual({ cuda_version: null, cudnn_version: null, cuda_compute_capabilities: null, is_cuda_build: false, is_rocm_build: false, is_tensorrt_build: false });
  });

  it('reports keras 3.15.1 on the tensorflow backend by default', () => {
    expect(result.json.result.frameworks.keras).toMatchObject({ version: '3.15.1', backend: 'tensorflow', backend_source: 'default', tf_keras_version: null, use_legacy_keras: false });
  });

  it('records the exact Python patch version and the venv', () => {
    const real = execFileSync(tfPython, ['-c', 'import platform; print(platform.python_version())'], { encoding: 'utf8' }).trim();
    expect(result.json.result.python.version).toBe(real);
    expect(result.json.result.python.environment).toBe('venv');
  });

  it('lists every installed package with the version pip reports', () => {
    const normalise = (n: string) => n.toLowerCase().replace(/[-_.]+/g, '-');
    const captured = new Map<string, string>(result.json.result.packages.map((p: { name: string; version: string }) => [normalise(p.name), p.version]));
    expect(captured.size).toBe(pipList.length);
    for (const pkg of pipList) expect(captured.get(normalise(pkg.name))).toBe(pkg.version);
  });

  it('writes a schema-valid snapshot.yaml that `show --json` reads back', async () => {
    const shown = await runCli(['show', 'snapshot.yaml', '--json'], { cwd: dir });
    expect(shown.exitCode).toBe(0);
    expect(shown.json.result).toEqual(result.json.result);
  });

  it('records allowlisted variables only, never anything else from the environment', () => {
    const text = readFileSync(join(dir, 'snapshot.yaml'), 'utf8');
    expect(text).not.toContain('do-not-record-me');
    expect(text).not.toContain('AWS_SECRET_ACCESS_KEY');
    expect(result.json.result.determinism.env.PYTHONHASHSEED).toBe('0');
    const codes = result.json.result.determinism.findings.map((f: { code: string }) => f.code);
    // TensorFlow turns oneDNN on by default only on a CPU with one of these features: which finding is right depends on this host.
    const flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1]?.trim().split(/\s+/) ?? [];
    expect(codes).toContain(ONEDNN_DEFAULT_CPU_FLAGS.some((f) => flags.includes(f)) ? 'ONEDNN_ON' : 'ONEDNN_DEFAULT_OFF');
    expect(codes).not.toContain('PYTHONHASHSEED_UNSET');
  });

  it('records every probe with a status and a duration, and no GPU as none rather than an error', () => {
    const probes = result.json.result.probes;
    expect(probes.python.status).toBe('ok');
    expect(['absent', 'ok']).toContain(probes['nvidia-smi'].status);
    expect(result.json.result.gpu.available).toBe(false);
    for (const probe of Object.values(probes) as Array<{ status: string; duration_ms: number }>) {
      expect(['ok', 'absent', 'timeout', 'error']).toContain(probe.status);
      expect(probe.duration_ms).toBeGreaterThanOrEqual(0);
    }
  });
});

describe('Keras backend resolution', () => {
  it('follows KERAS_BACKEND=jax', async () => {
    const dir = freshDir('jax');
    const r = await runCli(['capture', '--python', tfPython, '--json'], { cwd: dir, env: cleanEnv({ KERAS_BACKEND: 'jax' }) });
    expect(r.exitCode).toBe(0);
    expect(r.json.result.frameworks.keras).toMatchObject({ backend: 'jax', backend_source: 'KERAS_BACKEND' });
    expect(r.json.result.determinism.env.KERAS_BACKEND).toBe('jax');
    expect(r.json.result.determinism.findings.map((f: { code: string }) => f.code)).toContain('KERAS_NON_TF_BACKEND');
  });

  it('reads keras.json under KERAS_HOME', async () => {
    const dir = freshDir('kerashome');
    const home = freshDir('kerashome/.keras');
    writeFileSync(join(home, 'keras.json'), JSON.stringify({ backend: 'torch', floatx: 'float32' }));
    const r = await runCli(['capture', '--python', tfPython, '--json'], { cwd: dir, env: cleanEnv({ KERAS_HOME: home }) });
    expect(r.json.result.frameworks.keras).toMatchObject({ backend: 'torch', backend_source: 'keras.json', keras_home: home });
  });

  it('uses the active virtual environment when --python is not given', async () => {
    const dir = freshDir('activevenv');
    const r = await runCli(['capture', '--json'], { cwd: dir, env: cleanEnv({ VIRTUAL_ENV: join(repoRoot, '.cache', 'envs', 'tf221') }) });
    expect(r.exitCode).toBe(0);
    expect(r.json.result.frameworks.tensorflow.version).toBe('2.21.0');
  });
});

describe('GPU probes through nvidia-smi and nvcc on PATH', () => {
  it('records GPUs, driver, driver CUDA and toolkit from recorded outputs', async () => {
    const dir = freshDir('gpu');
    const r = await runCli(['capture', '--python', tfPython, '--json'], { cwd: dir, env: cleanEnv({ PATH: withPath(fakeBin('gpu-h100')) }) });
    expect(r.exitCode).toBe(0);
    const gpu = r.json.result.gpu;
    expect(gpu.available).toBe(true);
    expect(gpu.devices.length).toBeGreaterThan(0);
    expect(gpu.devices[0].name).toMatch(/H100/);
    expect(gpu.devices[0].compute_capability).toBe('9.0');
    expect(gpu.devices[0].uuid).toMatch(/^GPU-/);
    expect(gpu.driver_version).toMatch(/^\d+\.\d+/);
    expect(gpu.driver_cuda_version).toMatch(/^\d+\.\d+$/);
    expect(gpu.cuda_toolkit).toMatchObject({ release: '12.4', source: 'nvcc --version' });
    expect(r.json.result.probes['nvidia-smi'].status).toBe('ok');
    expect(r.json.result.determinism.findings.map((f: { code: string }) => f.code)).toContain('TF32_ON');
  });

  it('records a hanging nvidia-smi as a timeout and still finishes', async () => {
    const dir = freshDir('hang');
    // The fake never answers; 8 s is far beyond what the real probes beside it take (tens of ms).
    const r = await runCli(['capture', '--python', tfPython, '--probe-timeout', '8', '--json'], { cwd: dir, env: cleanEnv({ PATH: withPath(fakeBin('hang')) }), timeoutMs: 120_000 });
    expect(r.exitCode).toBe(0);
    expect(r.json.result.probes['nvidia-smi'].status).toBe('timeout');
    expect(r.json.result.probes['nvidia-smi'].reason).toMatch(/8000 ms/);
    expect(r.json.result.gpu.available).toBe(false);
    expect(r.json.warnings.join('\n')).toMatch(/nvidia-smi: timeout/);
  });

  it('records an nvidia-smi that cannot reach a driver as no GPU, with the reason', async () => {
    const dir = freshDir('fail');
    const r = await runCli(['capture', '--python', tfPython, '--json'], { cwd: dir, env: cleanEnv({ PATH: withPath(fakeBin('fail')) }) });
    expect(r.exitCode).toBe(0);
    expect(r.json.result.probes['nvidia-smi']).toMatchObject({ status: 'absent' });
    expect(r.json.result.probes['nvidia-smi'].reason).toMatch(/couldn't communicate with the NVIDIA driver/);
    expect(r.json.result.gpu.available).toBe(false);
  });
});

describe('code and data', () => {
  it('records the git commit, branch, stripped remote, dirty patch and untracked files', async () => {
    const repo = freshDir('repo');
    const git = (...args: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { encoding: 'utf8' });
    git('init', '-q', '-b', 'trunk');
    writeFileSync(join(repo, 'train.py'), 'print("v1")\n');
    git('add', 'train.py');
    git('commit', '-qm', 'first');
    git('remote', 'add', 'origin', 'https://someone:s3cr3t-token@git.example.com/team/model.git');
    // A user's diff settings must not change the patch: git apply needs a/ b/ prefixes, full paths.
    git('config', 'diff.noprefix', 'true');
    git('config', 'diff.relative', 'true');
    writeFileSync(join(repo, 'train.py'), 'print("v2, uncommitted")\n');
    writeFileSync(join(repo, 'notes.txt'), 'scratch\n');
    const out = freshDir('repo-out');
    const r = await runCli(['capture', '--python', tfPython, '--code', repo, '--json'], { cwd: out, env: cleanEnv() });
    expect(r.exitCode).toBe(0);
    const g = r.json.result.code.git;
    expect(g.commit).toBe(git('rev-parse', 'HEAD').trim());
    expect(g.branch).toBe('trunk');
    expect(g.remote_url).toBe('https://git.example.com/team/model.git');
    expect(readFileSync(join(out, 'snapshot.yaml'), 'utf8')).not.toContain('s3cr3t-token');
    expect(g.dirty).toBe(true);
    expect(g.untracked).toEqual(['notes.txt']);
    expect(g.patch_file).toBe('snapshot.bundle/code.patch');
    // The patch really recreates the working tree on a clean checkout of the commit.
    const clone = join(work, 'repo-clone');
    execFileSync('git', ['clone', '-q', repo, clone]);
    execFileSync('git', ['-C', clone, 'apply', join(out, g.patch_file)]);
    expect(readFileSync(join(clone, 'train.py'), 'utf8')).toBe('print("v2, uncommitted")\n');
  });

  it('records no git state for a plain folder, as absent', async () => {
    const dir = freshDir('nogit');
    const r = await runCli(['capture', '--python', tfPython, '--code', dir, '--json'], { cwd: dir, env: cleanEnv() });
    expect(r.exitCode).toBe(0);
    expect(r.json.result.code.git).toBeNull();
    expect(r.json.result.probes.git.status).toBe('absent');
  });

  it('hashes every data file like sha256sum, and does not follow links out of the folder', async () => {
    const data = freshDir('data/train');
    mkdirSync(join(data, 'nested'), { recursive: true });
    writeFileSync(join(data, 'a.csv'), '1,2,3\n');
    writeFileSync(join(data, 'nested', 'b.bin'), Buffer.alloc(3 * 1024 * 1024 + 7, 7));
    writeFileSync(join(work, 'data', 'outside-secret.txt'), 'not part of the data');
    symlinkSync(join(work, 'data', 'outside-secret.txt'), join(data, 'escape.txt'));
    symlinkSync('a.csv', join(data, 'alias.csv'));
    // Links that form a cycle are listed once and reported, never followed for ever.
    symlinkSync('..', join(data, 'nested', 'up'));
    const single = join(work, 'data', 'labels.txt');
    writeFileSync(single, 'cat\ndog\n');
    const r = await runCli(['capture', '--python', tfPython, '--data', data, '--data', single, '--json'], { cwd: freshDir('data-out'), env: cleanEnv() });
    expect(r.exitCode).toBe(0);
    const [dirRecord, fileRecord] = r.json.result.data;
    const outDir = join(work, 'data-out');
    expect(dirRecord).toMatchObject({ kind: 'directory', file_count: 3, total_bytes: 6 + 6 + 3 * 1024 * 1024 + 7, manifest_file: 'snapshot.bundle/data/0.sha256' });
    // The manifest is a sidecar sha256sum writes and checks, byte for byte; the digest is its sha256.
    const manifest = readFileSync(join(outDir, dirRecord.manifest_file));
    const sums = execFileSync('sha256sum', ['a.csv', 'alias.csv', 'nested/b.bin'], { cwd: data });
    expect(manifest).toEqual(sums);
    expect(dirRecord.digest).toBe(createHash('sha256').update(sums).digest('hex'));
    expect(execFileSync('sha256sum', ['-c', '--strict', join(outDir, dirRecord.manifest_file)], { cwd: data, encoding: 'utf8' })).toBe('a.csv: OK\nalias.csv: OK\nnested/b.bin: OK\n');
    // The snapshot itself stays small: counts and the digest, no file list.
    expect(dirRecord.files).toBeUndefined();
    expect(fileRecord).toMatchObject({ kind: 'file', file_count: 1, total_bytes: 8, manifest_file: 'snapshot.bundle/data/1.sha256' });
    expect(readFileSync(join(outDir, fileRecord.manifest_file), 'utf8')).toBe(`${sha256(single)}  labels.txt\n`);
    expect(r.json.warnings).toEqual(
      expect.arrayContaining([expect.stringMatching(/escape\.txt is left out: a symlink pointing outside the folder/), expect.stringMatching(/nested\/up is left out: a symlink to a folder that is already listed/)]),
    );
  });
});

describe('--run keeps the outputs of a real Keras training as the baseline', () => {
  it('runs with the captured interpreter first on PATH and keeps outputs, logs and a manifest', async () => {
    const dir = freshDir('run');
    const example = join(repoRoot, 'examples', 'keras-tiny');
    const r = await runCli(['capture', '--python', tfPython, '--data', join(example, 'data'), '--run', `python ${join(example, 'train.py')} --out out --epochs 2`, '--outputs', 'out', '--json'], {
      cwd: dir,
      env: cleanEnv({ PATH: '/usr/bin:/bin' }),
      timeoutMs: 180_000,
    });
    expect(r.exitCode).toBe(0);
    const run = r.json.result.run;
    expect(run).toMatchObject({ status: 'succeeded', exit_code: 0, signal: null, outputs_dir: 'out', stdout_log: 'snapshot.bundle/logs/stdout.log' });
    expect(readFileSync(join(dir, run.stdout_log), 'utf8')).toContain('wrote');
    const kinds = Object.fromEntries(run.baseline.files.map((f: { path: string; kind: string }) => [f.path, f.kind]));
    expect(kinds).toEqual({ 'metrics.json': 'metrics', 'model.keras': 'keras', 'model.weights.h5': 'h5', 'predictions.npy': 'npy' });
    for (const file of run.baseline.files) {
      expect(sha256(join(dir, run.baseline.dir, file.path))).toBe(file.sha256);
      expect(sha256(join(dir, 'out', file.path))).toBe(file.sha256);
    }
  });

  it('warns when the recorded command line carries inline variables', async () => {
    const dir = freshDir('inline-env');
    const r = await runCli(['capture', '--python', tfPython, '--run', 'API_TOKEN=abc python -c "print(1)"', '--outputs', 'out', '--json'], { cwd: dir, env: cleanEnv() });
    expect(r.exitCode).toBe(0);
    expect(r.json.warnings.join('\n')).toMatch(/sets API_TOKEN inline/);
  });

  it('leaves out, and reports, a distribution whose metadata has no version', async () => {
    const dir = freshDir('versionless');
    const site = freshDir('versionless-site');
    mkdirSync(join(site, 'broken.egg-info'));
    const r = await runCli(['capture', '--python', tfPython, '--json'], { cwd: dir, env: cleanEnv({ PYTHONPATH: site }) });
    expect(r.exitCode).toBe(0);
    expect(r.json.warnings.join('\n')).toMatch(/broken\.egg-info: no version in its metadata/);
  });

  it('records a failing training, keeps its logs, and exits 5', async () => {
    const dir = freshDir('runfail');
    const r = await runCli(['capture', '--python', tfPython, '--run', 'python -c "import sys; print(\'boom\', file=sys.stderr); sys.exit(3)"', '--outputs', 'out', '--json'], { cwd: dir, env: cleanEnv() });
    expect(r.exitCode).toBe(5);
    expect(r.json.error.code).toBe('RUN_FAILED');
    const written = YAML.parse(readFileSync(join(dir, 'snapshot.yaml'), 'utf8'));
    expect(written.run).toMatchObject({ status: 'failed', exit_code: 3, baseline: null });
    expect(readFileSync(join(dir, written.run.stderr_log), 'utf8')).toContain('boom');
  });
});

describe('bad input gets a clear error and a documented exit code', () => {
  const cases: Array<[string, string[], number, RegExp]> = [
    ['a --python that is not a Python', ['--python', '/bin/ls'], 3, /--python \/bin\/ls is not a Python interpreter/],
    ['a --python that does not exist', ['--python', '/nonexistent/python3'], 3, /--python \/nonexistent\/python3: no such file/],
    ['a missing --data path', ['--data', 'no/such/data'], 3, /--data no\/such\/data: no such file or folder/],
    ['an unreadable data file', ['--data', '/proc/self/mem'], 3, /cannot read data file \/proc\/self\/mem/],
    ['an output in a folder that does not exist', ['--output', 'missing-dir/s.yaml'], 4, /cannot write snapshot .*missing-dir/],
    ['--run without --outputs', ['--run', 'true'], 2, /--outputs/],
    ['a missing --code folder', ['--code', 'nope'], 3, /--code nope: no such folder/],
  ];
  const python27 = requirePython('2.7', 'the refusal of Python 2.7');
  if (python27 !== null) cases.push(['Python 2.7', ['--python', python27], 3, /Python 2\.7\.\d+; snapshot supports Python 3\.6 and newer/]);
  it.each(cases)('%s', async (_name, args, code, message) => {
    const dir = freshDir(`bad-${code}-${Math.random().toString(36).slice(2)}`);
    const full = args.includes('--python') ? args : ['--python', tfPython, ...args];
    const human = await runCli(['capture', ...full], { cwd: dir, env: cleanEnv() });
    expect(human.exitCode).toBe(code);
    expect(human.stderr).toMatch(message);
    expect(human.stderr).not.toMatch(/\n\s+at .*\.js:\d+/); // no stack trace
    expect(existsSync(join(dir, 'snapshot.yaml'))).toBe(false);
    const json = await runCli(['capture', ...full, '--json'], { cwd: dir, env: cleanEnv() });
    expect(json.exitCode).toBe(code);
    expect(json.json.status).toBe(code);
    expect(json.json.error.message).toMatch(message);
  });

  it('never overwrites a snapshot without --force, and replaces it atomically with --force', async () => {
    const dir = freshDir('force');
    writeFileSync(join(dir, 'snapshot.yaml'), 'precious: true\n');
    const refused = await runCli(['capture', '--python', tfPython], { cwd: dir, env: cleanEnv() });
    expect(refused.exitCode).toBe(4);
    expect(refused.stderr).toMatch(/already exists/);
    expect(refused.stderr).toMatch(/--force/);
    expect(readFileSync(join(dir, 'snapshot.yaml'), 'utf8')).toBe('precious: true\n');
    // A forced capture that fails on its input leaves the old file untouched.
    const failed = await runCli(['capture', '--python', tfPython, '--force', '--data', 'nope'], { cwd: dir, env: cleanEnv() });
    expect(failed.exitCode).toBe(3);
    expect(readFileSync(join(dir, 'snapshot.yaml'), 'utf8')).toBe('precious: true\n');
    const forced = await runCli(['capture', '--python', tfPython, '--force'], { cwd: dir, env: cleanEnv() });
    expect(forced.exitCode).toBe(0);
    expect(YAML.parse(readFileSync(join(dir, 'snapshot.yaml'), 'utf8')).schema).toBe(SCHEMA_VERSION);
  });
});

describe('the probe on the oldest and newest supported Pythons, through the CLI', () => {
  const pythons = [requirePython('3.6', 'capture on the oldest supported Python'), requirePython('3.13', 'capture on the newest supported Python')].filter((p): p is string => p !== null);
  describeIf(pythons.length > 0)('each interpreter', () => {
    it.each(pythons.map((p) => [pythonVersion(p), p]))('captures Python %s', async (version, python) => {
      const r = await runCli(['capture', '--python', python, '--json'], { cwd: freshDir(`py${version}`), env: cleanEnv() });
      expect(r.exitCode).toBe(0);
      expect(r.json.result.python.version).toBe(version);
      expect(r.json.result.packages.length).toBeGreaterThan(0);
    });
  });
});
