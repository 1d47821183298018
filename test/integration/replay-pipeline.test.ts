// The replay pipeline with a typed fake engine: real snapshot files, a real git repository, real
// compare; the engine's steps are told what to do. Docker itself is exercised in test/docker.
import { describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import YAML from 'yaml';
import type { ReplayEvent } from '../../src/core/replay/backend.js';
import { ExternalError, InterruptedError } from '../../src/errors.js';
import { replay, type ReplayInput } from '../../src/services/replay.js';
import { FakeBackend, makeProject, probedFrom, type Project } from '../helpers/replay-fixture.js';

function input(project: Project, extra: Partial<ReplayInput> = {}): ReplayInput {
  return { snapshotPath: project.snapshotPath, cwd: project.repo, dataRoots: [], env: [], timeoutMs: null, verifyData: true, toolVersion: '0.1.0', ...extra };
}

async function run(project: Project, backend: FakeBackend, extra: Partial<ReplayInput> = {}, signal?: AbortSignal) {
  const events: ReplayEvent[] = [];
  const report = await replay(input(project, extra), { openBackend: async () => backend, events: (e) => events.push(e), now: () => new Date('2026-12-02T10:00:00Z'), signal });
  return { report, events };
}

describe('replay: the pipeline, on a fake engine', () => {
  it('identical: the outputs match bit for bit; the record, logs and environment are kept in a folder of its own', async () => {
    const project = makeProject();
    const backend = new FakeBackend(probedFrom(project.snapshot));
    const { report, events } = await run(project, backend);
    expect(report.verdict).toBe('identical');
    expect(report.exit_code).toBe(0);
    expect(report.conclusion).toBe('the replay reproduced every output bit for bit');
    expect(report.folder).toBe(join(dirname(project.snapshotPath), 'snapshot.replays', report.id));
    expect(report.id).toMatch(/^20261202T100000Z-[0-9a-f]{6}$/);
    expect(JSON.parse(readFileSync(join(report.folder, 'replay.json'), 'utf8'))).toMatchObject({ verdict: 'identical', id: report.id });
    expect(readFileSync(join(report.folder, 'logs', 'stderr.log'), 'utf8')).toBe('epoch 1/1\n');
    expect(readFileSync(join(report.folder, 'outputs', 'metrics.json'), 'utf8')).toBe('{"loss": 0.25}\n');
    expect(YAML.parse(readFileSync(join(report.folder, 'environment.yaml'), 'utf8')).python.version).toBe(project.snapshot.python.version);
    // The stages in order, and the training's lines as events.
    expect(events.filter((e) => e.type === 'stage').map((e) => (e as { stage: string }).stage)).toEqual(['doctor', 'prepare', 'verify-data', 'run', 'probe', 'compare', 'explain']);
    expect(events).toContainEqual({ type: 'log', stream: 'stderr', text: 'epoch 1/1' });
    expect(backend.disposed).toBe(1);
  });

  it('runs the captured command in the captured working directory with the replay environment and nothing of ours', async () => {
    const project = makeProject();
    const backend = new FakeBackend(probedFrom(project.snapshot));
    process.env.SNAPSHOT_TEST_LEAK = 'must not reach the training';
    try {
      await run(project, backend, { env: ['SEED=7', 'TF_ENABLE_ONEDNN_OPTS=1'] });
    } finally {
      delete process.env.SNAPSHOT_TEST_LEAK;
    }
    const request = backend.requests[0];
    expect(request).toMatchObject({ command: 'python train.py', workdir: '/workspace/code/examples', outputsPath: '/workspace/code/examples/out' });
    // Captured allowlisted variables, the user's --env on top; CUDA_VISIBLE_DEVICES and the like never.
    expect(request?.env).toEqual({ PYTHONHASHSEED: '0', SEED: '7', TF_ENABLE_ONEDNN_OPTS: '1' });
  });

  it('different: names the numerics variable that changed as the most likely cause', async () => {
    const project = makeProject();
    const backend = new FakeBackend(probedFrom(project.snapshot));
    backend.outputs = { 'metrics.json': '{"loss": 0.2500001}\n' };
    const { report } = await run(project, backend, { env: ['TF_ENABLE_ONEDNN_OPTS=1'] });
    expect(report.verdict).toBe('different');
    expect(report.exit_code).toBe(1);
    expect(report.causes[0]).toMatchObject({ severity: 'high', field: 'determinism.env.TF_ENABLE_ONEDNN_OPTS' });
    expect(report.conclusion).toMatch(/most likely cause: determinism\.env\.TF_ENABLE_ONEDNN_OPTS: 0 at capture, 1 in the replay/);
    expect(report.compare?.outputs[0]).toMatchObject({ path: 'metrics.json', status: 'different' });
  });

  it('different with no environment difference: says the training may be nondeterministic', async () => {
    const project = makeProject();
    const backend = new FakeBackend(probedFrom(project.snapshot));
    backend.outputs = { 'metrics.json': '{"loss": 0.3}\n' };
    const { report } = await run(project, backend);
    expect(report.verdict).toBe('different');
    expect(report.causes).toEqual([]);
    expect(report.conclusion).toMatch(/no environment difference explains it: the training itself may be nondeterministic.*capture it with --repeat 2/);
  });

  it('a training that wrote no outputs folder: different, with that named first', async () => {
    const project = makeProject();
    const backend = new FakeBackend(probedFrom(project.snapshot));
    backend.noOutputs = true;
    const { report } = await run(project, backend);
    expect(report.verdict).toBe('different');
    expect(report.compare?.summary).toMatchObject({ missing: 1 });
    expect(report.causes[0]).toMatchObject({ field: 'run.outputs_dir', message: expect.stringContaining('wrote no outputs folder at /workspace/code/examples/out') });
  });

  it('names CPU flags that pick other kernels, and untracked files, among the causes', async () => {
    const project = makeProject();
    const snapshot = { ...project.snapshot, code: { ...(project.snapshot.code as NonNullable<typeof project.snapshot.code>), git: { ...(project.snapshot.code?.git as NonNullable<NonNullable<typeof project.snapshot.code>['git']>), untracked: ['config.local.yaml'] } } };
    writeFileSync(project.snapshotPath, (await import('../../src/adapters/snapshot-file.js')).serializeSnapshot(snapshot));
    const backend = new FakeBackend(probedFrom(project.snapshot, ['avx', 'avx2', 'fma', 'avx512f', 'avx512_vnni']));
    backend.outputs = { 'metrics.json': '{"loss": 0.3}\n' };
    const { report } = await run(project, backend);
    const fields = report.causes.map((c) => c.field);
    expect(fields).toContain('system.cpu.flags');
    expect(fields).toContain('code.git.untracked');
    expect(report.causes.find((c) => c.field === 'system.cpu.flags')?.message).toMatch(/oneDNN turns itself on or off with these\): \+avx512_vnni/);
  });

  it('error (7) before training when a data file changed since capture, naming it; nothing ran', async () => {
    const project = makeProject({ data: { name: 'train.csv', text: 'x,y\n1,2\n' } });
    writeFileSync(join(project.repo, 'examples', 'data', 'train.csv'), 'x,y\n1,3\n');
    const backend = new FakeBackend(probedFrom(project.snapshot));
    const { report } = await run(project, backend);
    expect(report.verdict).toBe('error');
    expect(report.exit_code).toBe(7);
    expect(report.failure).toMatchObject({ stage: 'verify-data', code: 'DATA_MISMATCH', message: expect.stringContaining('train.csv (changed)') });
    expect(backend.requests).toEqual([]);
    // --no-verify-data runs anyway, and the report says the data was not checked.
    const again = await run(project, new FakeBackend(probedFrom(project.snapshot)), { verifyData: false });
    expect(again.report.data).toMatchObject({ verified: false, skipped: true });
    expect(again.report.causes).toEqual([]);
    expect(again.report.verdict).toBe('identical');
  });

  it('mounts data where the training expects it: in the repository, or mapped with --data-root', async () => {
    const project = makeProject({ data: { name: 'train.csv', text: 'x,y\n1,2\n' } });
    const backend = new FakeBackend(probedFrom(project.snapshot));
    await run(project, backend);
    expect(backend.requests[0]?.data).toEqual([{ source: join(project.repo, 'examples', 'data'), target: '/workspace/code/examples/data' }]);
    const elsewhere = join(dirname(project.repo), 'moved-data');
    mkdirSync(elsewhere);
    writeFileSync(join(elsewhere, 'train.csv'), 'x,y\n1,2\n');
    const mapped = new FakeBackend(probedFrom(project.snapshot));
    const { report } = await run(project, mapped, { dataRoots: [`/captured/repo/examples/data=${elsewhere}`] });
    expect(report.verdict).toBe('identical');
    expect(mapped.requests[0]?.data).toEqual([{ source: elsewhere, target: '/workspace/code/examples/data' }]);
  });

  it('error (6) when a doctor check fails: nothing is built', async () => {
    const project = makeProject();
    const backend = new FakeBackend(probedFrom(project.snapshot));
    backend.checks = [{ name: 'gpu runtime', status: 'fail', message: 'no NVIDIA runtime' }];
    const { report } = await run(project, backend);
    expect(report).toMatchObject({ verdict: 'error', exit_code: 6, failure: { stage: 'doctor', kind: 'could-not-run' } });
    expect(backend.prepared).toBe(0);
    expect(backend.disposed).toBe(1);
  });

  it('error (6) when the build fails, with the engine error and its log tail', async () => {
    const project = makeProject();
    const backend = new FakeBackend(probedFrom(project.snapshot));
    backend.prepareError = new ExternalError('BUILD_FAILED', 'step 3/9 RUN pip install failed', { data: { logTail: ['ERROR: No matching distribution'] } });
    const { report } = await run(project, backend);
    expect(report).toMatchObject({ verdict: 'error', exit_code: 6, failure: { stage: 'prepare', code: 'BUILD_FAILED', log_tail: ['ERROR: No matching distribution'] } });
    expect(existsSync(join(report.folder, 'replay.json'))).toBe(true);
  });

  it('error (7) when the training crashes, with its exit code and the tail of its log', async () => {
    const project = makeProject();
    const backend = new FakeBackend(probedFrom(project.snapshot));
    backend.exitCode = 3;
    backend.stderr = 'Traceback (most recent call last):\nValueError: bad shape\n';
    const { report } = await run(project, backend);
    expect(report).toMatchObject({ verdict: 'error', exit_code: 7, failure: { stage: 'run', code: 'RUN_FAILED', message: 'the training exited with code 3', log_tail: ['Traceback (most recent call last):', 'ValueError: bad shape'] } });
    expect(report.run?.exit_code).toBe(3);
  });

  it('error (7) when the training runs past --timeout', async () => {
    const project = makeProject();
    const backend = new FakeBackend(probedFrom(project.snapshot));
    backend.timedOut = true;
    backend.exitCode = 137;
    const { report } = await run(project, backend, { timeoutMs: 60_000 });
    expect(report.failure).toMatchObject({ code: 'RUN_TIMEOUT', message: expect.stringContaining('--timeout (60 s)') });
  });

  it('Ctrl-C: the engine is cleaned up and nothing of the replay is kept', async () => {
    const project = makeProject();
    const backend = new FakeBackend(probedFrom(project.snapshot));
    const controller = new AbortController();
    backend.duringRun = () => controller.abort('SIGINT');
    await expect(run(project, backend, {}, controller.signal)).rejects.toBeInstanceOf(InterruptedError);
    expect(backend.disposed).toBe(1);
    // Not even the <snapshot>.replays folder this replay made.
    expect(existsSync(join(dirname(project.snapshotPath), 'snapshot.replays'))).toBe(false);
  });

  it('refuses what it cannot replay before anything is made: no run, no baseline, a commit not here, an --output-dir that exists', async () => {
    const project = makeProject();
    const backend = new FakeBackend(probedFrom(project.snapshot));
    const { serializeSnapshot } = await import('../../src/adapters/snapshot-file.js');
    writeFileSync(project.snapshotPath, serializeSnapshot({ ...project.snapshot, run: null }));
    await expect(run(project, backend)).rejects.toMatchObject({ code: 'NOTHING_TO_REPLAY', message: expect.stringContaining('has no run') });
    const other = 'ab'.repeat(20);
    writeFileSync(project.snapshotPath, serializeSnapshot({ ...project.snapshot, code: { ...(project.snapshot.code as NonNullable<typeof project.snapshot.code>), git: { ...(project.snapshot.code?.git as NonNullable<NonNullable<typeof project.snapshot.code>['git']>), commit: other } } }));
    await expect(run(project, backend)).rejects.toMatchObject({ code: 'COMMIT_NOT_HERE', message: expect.stringMatching(/^commit abababababab, which the training ran, is not in .*: fetch it$/) });
    writeFileSync(project.snapshotPath, serializeSnapshot(project.snapshot));
    const taken = join(project.repo, 'taken');
    mkdirSync(taken);
    await expect(run(project, backend, { outputDir: taken })).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' });
    expect(backend.prepared).toBe(0);
  });

  it('refuses a crafted snapshot path before anything is built', async () => {
    const project = makeProject();
    const backend = new FakeBackend(probedFrom(project.snapshot));
    const { serializeSnapshot } = await import('../../src/adapters/snapshot-file.js');
    const captured = project.snapshot.run as NonNullable<typeof project.snapshot.run>;
    // The schema refuses a way out of the repository; a line break in a path the schema allows is refused when placed.
    writeFileSync(project.snapshotPath, serializeSnapshot({ ...project.snapshot, run: { ...captured, cwd_in_repo: '../../etc' } }));
    await expect(run(project, backend)).rejects.toMatchObject({ code: 'SNAPSHOT_INVALID', message: expect.stringContaining('run.cwd_in_repo') });
    writeFileSync(project.snapshotPath, serializeSnapshot({ ...project.snapshot, run: { ...captured, cwd: '/captured/repo\nRUN evil' } }));
    await expect(run(project, backend)).rejects.toMatchObject({ code: 'UNSAFE_SNAPSHOT_VALUE', message: expect.stringContaining('run.cwd') });
    expect(backend.prepared).toBe(0);
    expect(readdirSync(join(dirname(project.snapshotPath))).filter((f) => f.endsWith('.replays')).flatMap((f) => readdirSync(join(dirname(project.snapshotPath), f)))).toEqual([]);
  });
});
