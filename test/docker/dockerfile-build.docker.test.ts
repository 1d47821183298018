// The generated build context, built for real: capture a dirty git checkout of the Keras example
// with --run on the host, generate the context, build it on the local Debian base with apt's
// python3 and the loopback package index, and run the same training inside the image.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '../../src/adapters/process.js';
import { cleanEnv, repoRoot, runCli, tfPython } from '../helpers/cli.js';
import { dockerReady, servePackageIndex, TEST_BASE_IMAGE } from '../helpers/docker.js';

const ready = await dockerReady();
const describeDocker = ready ? describe : describe.skip;
const runId = `t${Date.now().toString(36)}`;
const tag = `snapshot-test/replay:${runId}`;

describeDocker('snapshot dockerfile: a context that builds and reproduces the training', () => {
  let work: string;
  let project: string;
  let index: Awaited<ReturnType<typeof servePackageIndex>>;
  let generated: Awaited<ReturnType<typeof runCli>>;
  let build: Awaited<ReturnType<typeof runProcess>>;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'snapshot-docker-'));
    project = join(work, 'project');
    cpSync(join(repoRoot, 'examples', 'keras-tiny'), project, { recursive: true });
    const git = (...args: string[]) => execFileSync('git', ['-C', project, '-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args]);
    git('init', '-q');
    git('add', '-A');
    git('commit', '-qm', 'example');
    // An uncommitted change the image must carry: two epochs instead of the default five.
    writeFileSync(join(project, 'train.py'), readFileSync(join(project, 'train.py'), 'utf8').replace('default=5', 'default=2'));
    const captured = await runCli(['capture', '--python', tfPython, '--data', 'data', '--run', 'python train.py --out out', '--outputs', 'out', '--json'], {
      cwd: project,
      env: cleanEnv({ PYTHONHASHSEED: '0', TF_ENABLE_ONEDNN_OPTS: '0', KERAS_HOME: join(work, 'keras-home') }),
      timeoutMs: 180_000,
    });
    expect(captured.exitCode).toBe(0);
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

  it('writes the context and says what the override no longer guarantees', () => {
    expect(generated.exitCode).toBe(0);
    const result = generated.json.result;
    expect(result.files).toEqual(['Dockerfile', 'requirements.txt', 'snapshot.yaml', 'snapshot_probe.py', 'snapshot_recorder/', 'code/']);
    expect(result.plan.base.family).toBe('override');
    expect(result.plan.base.notGuaranteed.length).toBeGreaterThan(0);
    expect(result.code).toMatchObject({ included: true, patched: true });
  });

  it('builds', () => {
    expect(build.stderr + build.stdout).not.toMatch(/error/i);
    expect(build.outcome).toBe('ok');
  });

  it('carries the pinned packages, the labels, the environment, the snapshot and the patched code', async () => {
    const inspect = JSON.parse(execFileSync('docker', ['image', 'inspect', tag], { encoding: 'utf8' }))[0];
    const labels = inspect.Config.Labels;
    expect(labels['dev.snapshot.path']).toBe('/opt/snapshot/snapshot.yaml');
    const embedded = execFileSync('docker', ['run', '--rm', tag, 'cat', '/opt/snapshot/snapshot.yaml'], { encoding: 'utf8' });
    expect(embedded).toContain(`id: ${labels['dev.snapshot.id']}`);
    expect(embedded).toBe(readFileSync(join(project, 'snapshot.docker', 'snapshot.yaml'), 'utf8'));
    expect(labels['org.opencontainers.image.revision']).toMatch(/^[0-9a-f]{40}$/);
    expect(inspect.Config.Env).toEqual(expect.arrayContaining(['PYTHONHASHSEED=0', 'TF_ENABLE_ONEDNN_OPTS=0']));
    const versions = execFileSync('docker', ['run', '--rm', tag, 'python', '-c', 'from importlib.metadata import version as v; print(v("tensorflow-cpu"), v("keras"), v("numpy"))'], { encoding: 'utf8' }).trim();
    expect(versions).toBe('2.21.0 3.15.1 2.4.6');
    const code = execFileSync('docker', ['run', '--rm', tag, 'cat', '/workspace/code/train.py'], { encoding: 'utf8' });
    expect(code).toContain('default=2');
  });

  it('reproduces the baseline bit for bit when the training runs inside', () => {
    const out = join(work, 'replay-out');
    execFileSync('docker', ['run', '--rm', '-v', `${out}:/out`, tag, 'python', 'train.py', '--out', '/out'], { stdio: 'ignore' });
    const sum = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
    for (const file of ['metrics.json', 'predictions.npy', 'model.weights.h5']) {
      expect(sum(join(out, file))).toBe(sum(join(project, 'snapshot.bundle', 'baseline', file)));
    }
  });
});
