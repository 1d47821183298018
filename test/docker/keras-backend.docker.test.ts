// The Keras backend a keras.json chose, rebuilt for real: a Keras 3 environment on JAX alone (no
// TensorFlow), whose backend comes only from keras.json, is captured with --run, built on the local
// Debian base from the loopback index, and the image must train on JAX with the same settings and
// give the same outputs. Without the keras.json in the image Keras would pick TensorFlow, which is
// not installed, and fail to import.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '../../src/adapters/process.js';
import { cleanEnv, kerasJaxPython, repoRoot, runCli } from '../helpers/cli.js';
import { dockerReady, servePackageIndex, TEST_BASE_IMAGE } from '../helpers/docker.js';

const ready = await dockerReady();
const describeDocker = ready ? describe : describe.skip;
const runId = `t${Date.now().toString(36)}`;
const tag = `snapshot-test/keras-jax:${runId}`;
// Captured as is and written quoted into the image: `.*` is what refused it before.
const XLA_FLAGS = '--xla_dump_hlo_pass_re=.* --xla_cpu_enable_fast_math=false';

describeDocker('snapshot dockerfile: the Keras backend keras.json chose, in the image', () => {
  let work: string;
  let project: string;
  let index: Awaited<ReturnType<typeof servePackageIndex>>;
  let captured: Awaited<ReturnType<typeof runCli>>;
  let generated: Awaited<ReturnType<typeof runCli>>;
  let build: Awaited<ReturnType<typeof runProcess>>;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'snapshot-keras-jax-'));
    project = join(work, 'project');
    cpSync(join(repoRoot, 'examples', 'keras-tiny'), project, { recursive: true });
    const git = (...args: string[]) => execFileSync('git', ['-C', project, '-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args]);
    git('init', '-q');
    git('add', '-A');
    git('commit', '-qm', 'example');
    const kerasHome = join(work, 'keras-home');
    mkdirSync(kerasHome);
    // Non-default epsilon and data format: losing either in the image must fail the test, not only the backend.
    writeFileSync(join(kerasHome, 'keras.json'), JSON.stringify({ floatx: 'float32', epsilon: 1e-5, backend: 'jax', image_data_format: 'channels_first' }, null, 4));
    captured = await runCli(['capture', '--python', kerasJaxPython, '--run', 'python train.py --out out --epochs 2', '--outputs', 'out', '--json'], {
      cwd: project,
      env: cleanEnv({ PYTHONHASHSEED: '0', KERAS_HOME: kerasHome, XLA_FLAGS }),
      timeoutMs: 180_000,
    });
    generated = await runCli(['dockerfile', 'snapshot.yaml', '--base-image', TEST_BASE_IMAGE, '--python-from', 'apt', '--json'], { cwd: project });
    index = await servePackageIndex();
    build = await runProcess('docker', ['build', '--network', 'host', '--build-arg', `PIP_INDEX_URL=${index.url}`, '--label', `dev.snapshot.test-run=${runId}`, '-t', tag, join(project, 'snapshot.docker')], {
      timeoutMs: 600_000,
    });
  }, 900_000);

  afterAll(async () => {
    await index?.close();
    await runProcess('docker', ['image', 'rm', '-f', tag], { timeoutMs: 60_000 });
    rmSync(work, { recursive: true, force: true });
  });

  it('records the backend and the rest of keras.json at capture', () => {
    expect(captured.exitCode).toBe(0);
    expect(captured.json.result.frameworks.keras).toMatchObject({
      version: '3.15.1',
      backend: 'jax',
      backend_source: 'keras.json',
      config: { backend: 'jax', floatx: 'float32', epsilon: 1e-5, image_data_format: 'channels_first' },
    });
    expect(captured.json.result.frameworks.tensorflow).toBeNull();
    expect(captured.json.result.determinism.env.XLA_FLAGS).toBe(XLA_FLAGS);
  });

  it('writes the keras.json into the context and points KERAS_HOME at it', () => {
    expect(generated.exitCode).toBe(0);
    expect(generated.json.result.files).toContain('keras.json');
    expect(JSON.parse(readFileSync(join(project, 'snapshot.docker', 'keras.json'), 'utf8'))).toEqual({ backend: 'jax', epsilon: 1e-5, floatx: 'float32', image_data_format: 'channels_first' });
    const dockerfile = readFileSync(join(project, 'snapshot.docker', 'Dockerfile'), 'utf8');
    expect(dockerfile).toContain('ENV KERAS_HOME=/opt/snapshot/keras');
    expect(dockerfile).toContain('ENV XLA_FLAGS="--xla_dump_hlo_pass_re=.* --xla_cpu_enable_fast_math=false"');
  });

  it('builds', () => {
    expect(build.outcome).toBe('ok');
  });

  it('resolves the same backend and settings inside, and XLA_FLAGS reads back exactly', () => {
    const inside = execFileSync('docker', ['run', '--rm', tag, 'python', '-c', 'import keras, os; print(keras.config.backend(), keras.config.floatx(), keras.config.epsilon(), keras.config.image_data_format()); print(os.environ["XLA_FLAGS"])'], { encoding: 'utf8' });
    expect(inside).toBe(`jax float32 1e-05 channels_first\n${XLA_FLAGS}\n`);
  });

  it('trains on JAX inside and gives the baseline back', async () => {
    const out = join(work, 'replay-out');
    execFileSync('docker', ['run', '--rm', '-v', `${out}:/out`, tag, 'python', 'train.py', '--out', '/out', '--epochs', '2'], { stdio: 'ignore' });
    const compared = await runCli(['compare', join(project, 'snapshot.bundle', 'baseline'), out, '--json'], { cwd: work });
    expect(compared.json.result.verdict).toBe('identical');
    expect(compared.exitCode).toBe(0);
  });
});
