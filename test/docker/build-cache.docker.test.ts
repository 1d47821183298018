// The build cache on a real engine: a context streamed to `docker build -` (through the process
// adapter, the tar never on disk), built again unchanged (every step from the cache), then a new
// snapshot of the same environment after a code change: the package install comes from the cache,
// the snapshot and the code layer are rebuilt. The classic builder's output says which steps were
// "Using cache".
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess, spawnStreaming } from '../../src/adapters/process.js';
import type { Snapshot } from '../../src/core/model.js';
import { buildContext } from '../../src/services/build-context.js';
import { captureCode } from '../helpers/code-snapshot.js';
import { dockerReady, servePackageIndex, TEST_BASE_IMAGE } from '../helpers/docker.js';
import { makeSnapshot } from '../helpers/snapshot-fixture.js';

const ready = await dockerReady();
const describeDocker = ready ? describe : describe.skip;
const runId = `t${Date.now().toString(36)}`;
const tags: string[] = [];

/** A small environment the local index has: Debian's Python 3.11.2 (apt) and six. */
const environment = (): Partial<Snapshot> => {
  const base = makeSnapshot();
  return {
    python: { ...base.python, version: '3.11.2' },
    packages: [{ name: 'six', version: '1.17.0', installer: 'pip', requested: true, source: { kind: 'index' }, metadata: 'dist-info', location: '/opt/venv/lib/python3.11/site-packages', requires_tooling: [] }],
    frameworks: { ...base.frameworks, tensorflow: null, keras: null, torch: null, jax: null, numpy: null, nvidia_wheels: [] },
    determinism: { ...base.determinism, env: { PYTHONHASHSEED: '0' } },
  };
};

interface Built {
  outcome: string;
  output: string;
  sha256: string;
  /** Each step's instruction and whether the engine took it from its cache. */
  steps: Array<{ instruction: string; cached: boolean }>;
}

async function build(snapshot: Snapshot, snapshotPath: string, repoDir: string, indexUrl: string): Promise<Built> {
  const context = await buildContext({ snapshot, snapshotPath, repoDir, baseImage: TEST_BASE_IMAGE, pythonFrom: 'apt', target: 'cpu', noCode: false, commitOnly: false, toolVersion: '0.1.0', timeoutMs: 60_000 });
  const tag = `snapshot-test/cache:${runId}-${tags.length}`;
  tags.push(tag);
  try {
    const hash = createHash('sha256');
    const tarStream = context.pack();
    // Hashed on its way to the engine: what was built is what the test compares.
    async function* hashed() {
      for await (const chunk of tarStream) {
        hash.update(chunk);
        yield chunk;
      }
    }
    // The classic builder, whose output names each step and says "Using cache"; BuildKit would
    // also fetch the docker/dockerfile:1 frontend from a registry this machine cannot reach.
    const docker = spawnStreaming('docker', ['build', '--network', 'host', '--build-arg', `PIP_INDEX_URL=${indexUrl}`, '--label', `dev.snapshot.test-run=${runId}`, '-t', tag, '-'], {
      stdin: hashed(),
      env: { ...process.env, DOCKER_BUILDKIT: '0' },
      timeoutMs: 600_000,
    });
    let output = '';
    for await (const chunk of docker.stdout) output += chunk.toString();
    const result = await docker.result;
    output += result.stderr;
    const steps = output
      .split(/^Step \d+\/\d+ : /m)
      .slice(1)
      .map((step) => ({ instruction: step.split('\n')[0] ?? '', cached: /^ ---> Using cache$/m.test(step) }));
    return { outcome: result.outcome, output, sha256: hash.digest('hex'), steps };
  } finally {
    await context.dispose();
  }
}

const step = (built: Built, prefix: string) => {
  const found = built.steps.find((s) => s.instruction.startsWith(prefix));
  if (found === undefined) throw new Error(`no step ${prefix} in:\n${built.output.slice(-3000)}`);
  return found;
};

describeDocker('the build cache: an unchanged snapshot is all cache, a code change rebuilds only the code', () => {
  let work: string;
  let index: Awaited<ReturnType<typeof servePackageIndex>>;
  let first: Built;
  let same: Built;
  let codeChange: Built;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'snapshot-cache-'));
    const repo = join(work, 'project');
    mkdirSync(repo);
    const git = (...args: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args]);
    git('init', '-q');
    writeFileSync(join(repo, 'train.py'), 'print("first")\n');
    git('add', '-A');
    git('commit', '-qm', 'first');
    index = await servePackageIndex();
    const a = await captureCode(repo, join(work, 'a'), environment());
    first = await build(a.snapshot, a.snapshotPath, repo, index.url);
    same = await build(a.snapshot, a.snapshotPath, repo, index.url);

    // A code-only change: a new commit, plus an uncommitted edit carried by the patch; a new
    // snapshot (another id and time) of the same environment.
    writeFileSync(join(repo, 'train.py'), 'print("second")\n');
    git('commit', '-qam', 'second');
    writeFileSync(join(repo, 'helper.py'), 'H = 1\n');
    git('add', 'helper.py');
    const b = await captureCode(repo, join(work, 'b'), { ...environment(), id: '00000000-0000-4000-8000-0000000000b2', created_at: '2030-01-01T00:00:00.000Z' });
    codeChange = await build(b.snapshot, b.snapshotPath, repo, index.url);
  }, 1_500_000);

  afterAll(async () => {
    await index?.close();
    for (const tag of tags) await runProcess('docker', ['image', 'rm', '-f', tag], { timeoutMs: 60_000 });
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('builds the streamed context', () => {
    expect([first.outcome, first.output.slice(-2000)]).toEqual(['ok', expect.any(String)]);
    expect(step(first, 'RUN python -m pip install').instruction).toContain('requirements.txt');
  });

  it('sends the same bytes for the same snapshot, and the engine takes every step from its cache', () => {
    expect(same.outcome).toBe('ok');
    expect(same.sha256).toBe(first.sha256);
    // FROM has no cache line of its own.
    expect(same.steps.filter((s) => !s.instruction.startsWith('FROM') && !s.cached)).toEqual([]);
  });

  it('after a code-only change, reuses the dependency layers and rebuilds the snapshot and the code', () => {
    expect([codeChange.outcome, codeChange.output.slice(-2000)]).toEqual(['ok', expect.any(String)]);
    expect(codeChange.sha256).not.toBe(first.sha256);
    expect(step(codeChange, 'RUN apt-get update').cached).toBe(true);
    expect(step(codeChange, 'RUN python -m pip install').cached).toBe(true);
    expect(step(codeChange, 'COPY snapshot_probe.py').cached).toBe(true);
    expect(step(codeChange, 'COPY snapshot.yaml').cached).toBe(false);
    expect(step(codeChange, 'COPY code/').cached).toBe(false);
  });

  it('holds the new code in the image', () => {
    const tag = tags[2] as string;
    const out = execFileSync('docker', ['run', '--rm', tag, 'sh', '-c', 'cat train.py helper.py; python -c "import six; print(six.__version__)"'], { encoding: 'utf8' });
    expect(out).toBe('print("second")\nH = 1\n1.17.0\n');
  });
});
