// The dockerode ContainerEngine against the real engine: facts, builds (good and failing), runs
// (env, read-only mounts, labels, separate streams, exit codes, timeout, abort, OOM), copyOut,
// and a GPU request on an engine without the NVIDIA runtime. Every resource carries this run's
// label and afterAll removes them by it. Time is controlled, never raced: stops are triggered by
// output or by the timeout under test, and no assertion is on a duration.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { connectEngine } from '../../src/adapters/docker.js';
import { runProcess } from '../../src/adapters/process.js';
import type { BuildEvent, BuildOptions, ContainerEngine, ContainerSpec } from '../../src/core/container-engine.js';
import { ExternalError, SnapshotError } from '../../src/errors.js';
import { dockerReady, TEST_BASE_IMAGE } from '../helpers/docker.js';

const ready = await dockerReady();
const describeDocker = ready ? describe : describe.skip;
const runId = `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const LABEL = 'dev.snapshot.test-run';
const labels = { [LABEL]: runId };

/** A build context as a tar stream, made the way the replay pipeline will make one. */
function context(files: Record<string, string>): Readable {
  const pack = tar.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name, mode: 0o644, mtime: new Date(0) }, content);
  pack.finalize();
  return Readable.from(pack as AsyncIterable<Buffer>);
}

function buildOptions(extra: Partial<BuildOptions> = {}): BuildOptions {
  return { tags: [], labels, buildArgs: {}, network: 'default', noCache: false, pull: false, dockerfile: 'Dockerfile', ...extra };
}

function spec(extra: Partial<ContainerSpec>): ContainerSpec {
  return { image: TEST_BASE_IMAGE, command: ['true'], workdir: '/', env: {}, mounts: [], labels, gpus: { kind: 'none' }, timeoutMs: 120_000, ...extra };
}

/** Output collected per stream, with a hook to act on what arrived (an abort once a line is seen). */
function collect(onText?: (stdout: string) => void) {
  const out = { stdout: '', stderr: '' };
  return {
    out,
    handlers: {
      onStdout: (chunk: Buffer) => {
        out.stdout += chunk.toString();
        onText?.(out.stdout);
      },
      onStderr: (chunk: Buffer) => {
        out.stderr += chunk.toString();
      },
    },
  };
}

async function rejection(promise: Promise<unknown>): Promise<SnapshotError> {
  const error = await promise.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SnapshotError);
  return error as SnapshotError;
}

describe('connectEngine: an engine that does not answer', () => {
  it.each([
    ['tcp://127.0.0.1:1', 'connection refused'],
    ['unix:///nonexistent.sock', 'no socket at /nonexistent.sock'],
  ])('is a one-line ENGINE_UNREACHABLE for %s, naming it and where it came from', async (host, why) => {
    const engine = await connectEngine({ dockerHost: host, env: {}, homeDir: homedir() });
    const error = await rejection(engine.facts(5_000));
    expect(error).toBeInstanceOf(ExternalError);
    expect(error.code).toBe('ENGINE_UNREACHABLE');
    expect(error.message).toBe(`cannot reach the Docker engine at ${host} (--docker-host): ${why}`);
    expect(error.message).not.toContain('\n');
    expect(error.hint).toContain('--docker-host');
  });

  it('names DOCKER_HOST when the env decided', async () => {
    const engine = await connectEngine({ env: { DOCKER_HOST: 'unix:///nonexistent.sock' }, homeDir: homedir() });
    const error = await rejection(engine.facts(5_000));
    expect(error.message).toContain('(DOCKER_HOST)');
    expect(error.hint).toContain('DOCKER_HOST');
  });
});

describeDocker('the dockerode engine against a real engine', () => {
  let engine: ContainerEngine;
  let work: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'snapshot-engine-'));
    engine = await connectEngine({ env: process.env, homeDir: homedir() });
  });

  afterAll(async () => {
    if (engine !== undefined) {
      const left = await engine.listLabelled(labels);
      for (const id of left.containers) await engine.remove(id);
      for (const id of left.images) await engine.removeImage(id);
    }
    rmSync(work, { recursive: true, force: true });
  });

  it('says what the engine is: version, runtimes (no nvidia here), a local socket', async () => {
    const facts = await engine.facts(10_000);
    expect(facts.serverVersion).toMatch(/^\d+\.\d+/);
    expect(facts.apiVersion).toMatch(/^1\.\d+$/);
    expect(facts.os).toBe('linux');
    expect(facts.cpus).toBeGreaterThan(0);
    expect(facts.memoryBytes).toBeGreaterThan(0);
    expect(facts.runtimes).toContain('runc');
    expect(facts.runtimes).not.toContain('nvidia');
    expect(facts.local).toBe(true);
    expect(facts.flavour).toBe('docker');
  });

  it('is decided by the env it is given, not by the process\'s DOCKER_HOST', async () => {
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = 'tcp://127.0.0.1:1';
    try {
      const other = await connectEngine({ env: { ...process.env, DOCKER_HOST: undefined }, homeDir: homedir() });
      await expect(other.facts(10_000)).resolves.toMatchObject({ local: true });
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });

  it('holds several engines at once, each with its own endpoint', async () => {
    const dead = await connectEngine({ dockerHost: 'tcp://127.0.0.1:1', env: process.env, homeDir: homedir() });
    const [good, bad] = await Promise.allSettled([engine.facts(10_000), dead.facts(10_000)]);
    expect(good.status).toBe('fulfilled');
    expect(bad).toMatchObject({ status: 'rejected', reason: { code: 'ENGINE_UNREACHABLE' } });
  });

  it('says the context could not be sent when its stream fails', async () => {
    let sent = false;
    const broken = new Readable({
      read() {
        if (sent) this.destroy(Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' }));
        else this.push(Buffer.alloc(512));
        sent = true;
      },
    });
    const error = await rejection(engine.build(broken, buildOptions(), () => undefined));
    expect(error.code).toBe('BUILD_CONTEXT_FAILED');
    expect(error.message).toContain('EIO');
  });

  it('builds a context streamed as tar: the image id, its tag, labels and env', async () => {
    const tag = `snapshot-test/engine:${runId}`;
    const events: BuildEvent[] = [];
    const result = await engine.build(
      context({
        Dockerfile: [`FROM ${TEST_BASE_IMAGE}`, 'ARG GREETING=unset', 'COPY hello.txt /opt/hello.txt', 'RUN cat /opt/hello.txt && echo "arg:$GREETING"', 'ENV SNAPSHOT_BUILT=1'].join('\n'),
        'hello.txt': 'hello from the context\n',
      }),
      buildOptions({ tags: [tag], labels: { ...labels, 'dev.snapshot.case': 'good' }, buildArgs: { GREETING: 'hi' }, noCache: true }),
      (event) => events.push(event),
    );
    expect(result.imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
    const steps = events.filter((e) => e.kind === 'step').map((e) => e.text);
    // The classic builder adds a LABEL step per build label: five of ours and two of its own.
    expect(steps[0]).toBe(`Step 1/7 : FROM ${TEST_BASE_IMAGE}`);
    expect(steps).toContain('Step 4/7 : RUN cat /opt/hello.txt && echo "arg:$GREETING"');
    const output = events.filter((e) => e.kind === 'output').map((e) => e.text);
    expect(output).toContain('hello from the context');
    expect(output).toContain('arg:hi');
    const image = await engine.inspectImage(tag);
    expect(image).not.toBeNull();
    expect(image?.id).toBe(result.imageId);
    expect(image?.repoTags).toContain(tag);
    expect(image?.labels).toMatchObject({ [LABEL]: runId, 'dev.snapshot.case': 'good' });
    expect(image?.env).toContain('SNAPSHOT_BUILT=1');
    expect(image?.sizeBytes).toBeGreaterThan(0);
    expect((await engine.listLabelled({ ...labels, 'dev.snapshot.case': 'good' })).images).toEqual([result.imageId]);
  });

  it('knows an image that is not there', async () => {
    await expect(engine.inspectImage(`snapshot-test/absent:${runId}`)).resolves.toBeNull();
  });

  it('fails a build at the failing step, with its output tail, and builds nothing after it', async () => {
    const events: BuildEvent[] = [];
    const build = engine.build(
      context({ Dockerfile: [`FROM ${TEST_BASE_IMAGE}`, 'RUN echo about-to-fail && echo on-stderr >&2 && false', 'RUN echo never-runs'].join('\n') }),
      buildOptions({ labels: { ...labels, 'dev.snapshot.case': 'failing' } }),
      (event) => events.push(event),
    );
    const error = await rejection(build);
    expect(error.code).toBe('BUILD_FAILED');
    // Three steps of ours, two LABEL steps the builder adds for the build labels.
    expect(error.message).toBe("the image build failed at step 2/5 (RUN echo about-to-fail && echo on-stderr >&2 && false): The command '/bin/sh -c echo about-to-fail && echo on-stderr >&2 && false' returned a non-zero code: 1");
    const data = error.data as { step: string; error: string; logTail: string[] };
    expect(data.step).toBe('Step 2/5 : RUN echo about-to-fail && echo on-stderr >&2 && false');
    expect(data.logTail).toEqual(expect.arrayContaining(['about-to-fail', 'on-stderr']));
    expect(events.at(-1)?.kind).toBe('error');
    expect(events.map((e) => e.text)).not.toContain('Step 3/5 : RUN echo never-runs');
    expect(events.map((e) => e.text)).not.toContain('never-runs');
    expect((await engine.listLabelled({ ...labels, 'dev.snapshot.case': 'failing' })).images).toEqual([]);
  });

  it('fails a Dockerfile the engine cannot parse before any step', async () => {
    const error = await rejection(engine.build(context({ Dockerfile: `FROM ${TEST_BASE_IMAGE}\nRUNN nothing\n` }), buildOptions(), () => undefined));
    expect(error.code).toBe('BUILD_FAILED');
    expect(error.message).toMatch(/^the image build failed before its first step: .*RUNN/i);
  });

  it('stops a build when the signal aborts, and the engine stops building', async () => {
    const controller = new AbortController();
    const marker = `build-started-${runId}`;
    const build = engine.build(
      context({ Dockerfile: [`FROM ${TEST_BASE_IMAGE}`, `RUN echo ${marker} && sleep 600`].join('\n') }),
      buildOptions({ noCache: true }),
      (event) => {
        if (event.text === marker) controller.abort();
      },
      controller.signal,
    );
    const error = await rejection(build);
    expect(error.code).toBe('INTERRUPTED');
    // The dropped connection cancels the build: its step's container goes (the engine does this
    // after we return, so wait for it, bounded, rather than assume it is instant).
    const leftovers = async () => (await runProcess('docker', ['ps', '-a', '--no-trunc', '--format', '{{.Command}}'], { timeoutMs: 15_000 })).stdout.split('\n').filter((c) => c.includes(marker));
    let left = await leftovers();
    for (let i = 0; i < 60 && left.length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      left = await leftovers();
    }
    expect(left).toEqual([]);
  });

  it('runs a container with only the env asked for, a read-only mount, labels, separate stdout and stderr, and its exit code', async () => {
    const input = join(work, 'input');
    mkdirSync(input);
    writeFileSync(join(input, 'in.txt'), 'mounted-content\n');
    process.env.SNAPSHOT_LEAK_CANARY = 'leaked';
    const { out, handlers } = collect();
    const outcome = await engine.run(
      spec({
        command: ['sh', '-c', 'echo "greeting:$GREETING empty:[$EMPTY]"; echo "canary:[$SNAPSHOT_LEAK_CANARY]"; echo err-line >&2; cat /in/in.txt; if touch /in/new 2>/dev/null; then echo mount-writable; else echo mount-read-only; fi; pwd; exit 3'],
        workdir: '/tmp',
        env: { GREETING: 'hello world', EMPTY: '' },
        mounts: [{ source: input, target: '/in', readOnly: true }],
        labels: { ...labels, 'dev.snapshot.case': 'run' },
      }),
      handlers,
    );
    delete process.env.SNAPSHOT_LEAK_CANARY;
    expect(outcome).toMatchObject({ exitCode: 3, oomKilled: false, timedOut: false, aborted: false });
    expect(out.stdout).toBe('greeting:hello world empty:[]\ncanary:[]\nmounted-content\nmount-read-only\n/tmp\n');
    expect(out.stderr).toBe('err-line\n');
    expect(Number.isNaN(Date.parse(outcome.startedAt))).toBe(false);
    expect((await engine.listLabelled({ ...labels, 'dev.snapshot.case': 'run' })).containers).toEqual([outcome.containerId]);
    await engine.remove(outcome.containerId);
    expect((await engine.listLabelled({ ...labels, 'dev.snapshot.case': 'run' })).containers).toEqual([]);
    // Removing what is gone is not an error (a cleanup that runs twice).
    await expect(engine.remove(outcome.containerId)).resolves.toBeUndefined();
  });

  it('kills a container at its timeout and reports it timed out', async () => {
    const outcome = await engine.run(spec({ command: ['sleep', '600'], timeoutMs: 2_000, labels: { ...labels, 'dev.snapshot.case': 'timeout' } }), collect().handlers);
    expect(outcome).toMatchObject({ timedOut: true, aborted: false, oomKilled: false });
    expect(outcome.exitCode).not.toBe(0);
    await engine.remove(outcome.containerId);
    expect((await engine.listLabelled({ ...labels, 'dev.snapshot.case': 'timeout' })).containers).toEqual([]);
  });

  it('kills a container when the signal aborts and reports it aborted', async () => {
    const controller = new AbortController();
    const { handlers } = collect((stdout) => {
      if (stdout.includes('started')) controller.abort();
    });
    const outcome = await engine.run(spec({ command: ['sh', '-c', 'echo started; exec sleep 600'], timeoutMs: null, labels: { ...labels, 'dev.snapshot.case': 'abort' } }), handlers, controller.signal);
    expect(outcome).toMatchObject({ aborted: true, timedOut: false });
    await engine.remove(outcome.containerId);
  });

  it('copies out a folder the container wrote, byte for byte', async () => {
    const outcome = await engine.run(
      spec({ command: ['sh', '-c', 'mkdir -p /work/out/sub && printf abc > /work/out/a.txt && seq 1 5000 > /work/out/sub/n.txt && chmod 755 /work/out/a.txt'] }),
      collect().handlers,
    );
    expect(outcome.exitCode).toBe(0);
    const dest = join(work, 'copied');
    const files = await engine.copyOut(outcome.containerId, '/work/out', dest);
    const numbers = Array.from({ length: 5000 }, (_, i) => `${i + 1}\n`).join('');
    expect(files).toEqual([
      { path: 'a.txt', size: 3 },
      { path: 'sub/n.txt', size: numbers.length },
    ]);
    expect(readFileSync(join(dest, 'a.txt'), 'utf8')).toBe('abc');
    expect(readFileSync(join(dest, 'sub/n.txt'), 'utf8')).toBe(numbers);
    const missing = await rejection(engine.copyOut(outcome.containerId, '/work/nothing', join(work, 'none')));
    expect(missing.code).toBe('OUTPUT_MISSING');
    await engine.remove(outcome.containerId);
  });

  it('copies out a folder holding links: one to a file of it becomes a copy, one that points outside is left out and named', async () => {
    const outcome = await engine.run(spec({ command: ['sh', '-c', 'mkdir -p /work/out && echo ok > /work/out/ok.txt && ln -s ok.txt /work/out/last.txt && ln -s /etc/passwd /work/out/passwd'] }), collect().handlers);
    const skipped: Array<[string, string]> = [];
    const files = await engine.copyOut(outcome.containerId, '/work/out', join(work, 'linked'), { onSkip: (path, why) => skipped.push([path, why]) });
    expect(files.map((f) => f.path)).toEqual(['last.txt', 'ok.txt']);
    expect(readFileSync(join(work, 'linked', 'last.txt'), 'utf8')).toBe('ok\n');
    expect(skipped).toEqual([['passwd', 'it points outside the folder (/etc/passwd)']]);
    expect(existsSync(join(work, 'linked', 'passwd'))).toBe(false);
    // What the container wrote over its image, as the replay uses it to tell outputs from the image's files.
    const changed = await engine.changes(outcome.containerId);
    expect(changed).toEqual(expect.arrayContaining([{ path: '/work/out/ok.txt', kind: 'added' }]));
    await engine.remove(outcome.containerId);
  });

  it.each([
    [{ kind: 'all' as const }],
    [{ kind: 'count' as const, count: 1 }],
    [{ kind: 'devices' as const, ids: ['0'] }],
  ])('says plainly that this engine cannot give GPUs (%o), and leaves no container', async (gpus) => {
    const caseLabels = { ...labels, 'dev.snapshot.case': `gpu-${gpus.kind}` };
    const error = await rejection(engine.run(spec({ gpus, labels: caseLabels }), collect().handlers));
    expect(error.code).toBe('GPU_RUNTIME_MISSING');
    expect(error.message).toBe('this engine cannot give containers GPUs (no NVIDIA runtime)');
    expect(error.hint).toBe("install the NVIDIA Container Toolkit on the engine's host, or pass --gpus none to replay on CPU");
    expect((await engine.listLabelled(caseLabels)).containers).toEqual([]);
  });

  it('names an image that is not there, and a command that cannot start, leaving no container', async () => {
    const caseLabels = { ...labels, 'dev.snapshot.case': 'cannot-start' };
    const noImage = await rejection(engine.run(spec({ image: `snapshot-test/absent:${runId}`, labels: caseLabels }), collect().handlers));
    expect(noImage.code).toBe('IMAGE_MISSING');
    const noCommand = await rejection(engine.run(spec({ command: ['/no/such/program'], labels: caseLabels }), collect().handlers));
    expect(noCommand.code).toBe('CONTAINER_START_FAILED');
    expect(noCommand.message).toContain('/no/such/program');
    expect((await engine.listLabelled(caseLabels)).containers).toEqual([]);
  });

  it('reports an out-of-memory kill', async () => {
    // Needs the memory cgroup; an engine without it says so in `docker info` and cannot enforce the limit.
    const limits = await runProcess('docker', ['info', '--format', '{{.MemoryLimit}}'], { timeoutMs: 15_000 });
    if (limits.stdout.trim() !== 'true') {
      console.warn('*** SKIPPING the OOM case: this engine has no memory limit support (docker info: MemoryLimit false) ***');
      return;
    }
    // tail holds the whole newline-free input in memory: far past 32 MiB.
    const outcome = await engine.run(spec({ command: ['sh', '-c', 'head -c 300m /dev/zero | tail > /dev/null'], memoryBytes: 32 * 1024 * 1024 }), collect().handlers);
    expect(outcome).toMatchObject({ oomKilled: true, exitCode: 137, timedOut: false });
    await engine.remove(outcome.containerId);
  });
});
