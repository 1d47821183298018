// A captured project on disk for replay tests: a real git repository with the training code
// committed, a snapshot beside it whose baseline is real files, and a typed fake engine that
// "runs" the training by writing outputs, so the pipeline is tested without Docker.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GpuRequest, OutputHandlers } from '../../src/core/container-engine.js';
import type { Snapshot } from '../../src/core/model.js';
import type { PythonProbeOutput, RawSystem } from '../../src/core/raw-probes.js';
import type { DoctorCheck, EventSink, PreparedEnvironment, ProbedEnvironment, ReplayBackend, RunRequest, RunResult } from '../../src/core/replay/backend.js';
import { serializeSnapshot } from '../../src/adapters/snapshot-file.js';
import { cleanEnv, repoRoot, runCli, tfPython } from './cli.js';
import { makeSnapshot } from './snapshot-fixture.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

export interface Project {
  repo: string;
  snapshotPath: string;
  snapshot: Snapshot;
  commit: string;
}

/** A repository at `<dir>/repo` whose snapshot (in `examples/`) holds a baseline metrics.json. */
export function makeProject(options: { metrics?: string; data?: { name: string; text: string } | null; env?: Record<string, string> } = {}): Project {
  const dir = mkdtempSync(join(tmpdir(), 'replay-project-'));
  const repo = join(dir, 'repo');
  const examples = join(repo, 'examples');
  mkdirSync(join(examples, 'snapshot.bundle', 'baseline'), { recursive: true });
  const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' } });
  git('init', '-q');
  writeFileSync(join(examples, 'train.py'), 'print("training")\n');
  git('add', '-A');
  git('commit', '-qm', 'training');
  const commit = git('rev-parse', 'HEAD').trim();
  const metrics = options.metrics ?? '{"loss": 0.25}\n';
  writeFileSync(join(examples, 'snapshot.bundle', 'baseline', 'metrics.json'), metrics);
  const base = makeSnapshot();
  const data: Snapshot['data'] = [];
  if (options.data) {
    mkdirSync(join(examples, 'data'), { recursive: true });
    writeFileSync(join(examples, 'data', options.data.name), options.data.text);
    const manifest = `${sha(options.data.text)}  ${options.data.name}\n`;
    mkdirSync(join(examples, 'snapshot.bundle', 'data'), { recursive: true });
    writeFileSync(join(examples, 'snapshot.bundle', 'data', '0.sha256'), manifest);
    data.push({ path: 'data', absolute: '/captured/repo/examples/data', in_repo: 'examples/data', kind: 'directory', file_count: 1, total_bytes: options.data.text.length, digest: sha(manifest), manifest_file: 'snapshot.bundle/data/0.sha256' });
  }
  const snapshot: Snapshot = {
    ...base,
    determinism: { env: options.env ?? { PYTHONHASHSEED: '0', TF_ENABLE_ONEDNN_OPTS: '0' }, findings: [] },
    // A CPU capture: no GPU, no CUDA build info, no CUDA wheels.
    frameworks: { ...base.frameworks, tensorflow: { ...(base.frameworks.tensorflow as NonNullable<Snapshot['frameworks']['tensorflow']>), build_info: null }, nvidia_wheels: [] },
    packages: base.packages,
    gpu: { ...base.gpu, available: false, devices: [], driver_version: null, driver_cuda_version: null, kernel_module: null, cuda_toolkit: null, cudnn: [] },
    code: {
      path: '/captured/repo/examples',
      repo_root: '/captured/repo',
      in_repo: 'examples',
      git: { commit, branch: 'main', remote_url: null, dirty: false, patch_file: null, patch_sha256: null, patch_size: null, patch_error: null, staged: [], untracked: [], submodules: [] },
    },
    data,
    run: {
      ...(base.run as NonNullable<Snapshot['run']>),
      command: 'python train.py',
      cwd: '/captured/repo/examples',
      cwd_in_repo: 'examples',
      outputs_dir: 'out',
      outputs_path: '/captured/repo/examples/out',
      outputs_in_repo: 'examples/out',
      stdout_log: 'snapshot.bundle/logs/stdout.log',
      stderr_log: 'snapshot.bundle/logs/stderr.log',
      baseline: { dir: 'snapshot.bundle/baseline', files: [{ path: 'metrics.json', size: Buffer.byteLength(metrics), sha256: sha(metrics), kind: 'metrics' }] },
    },
  };
  const snapshotPath = join(examples, 'snapshot.yaml');
  writeFileSync(snapshotPath, serializeSnapshot(snapshot));
  return { repo, snapshotPath, snapshot, commit };
}

/** What the fake engine's probe answers: the captured environment itself, unless told otherwise. */
export function probedFrom(snapshot: Snapshot, cpuFlags: string[] = snapshot.system.cpu.flags): ProbedEnvironment {
  const python: PythonProbeOutput = {
    probe_version: 2,
    python: snapshot.python,
    packages: snapshot.packages.map((p) => ({ ...p, source: p.source as unknown as Record<string, unknown> & { kind: string }, metadata: p.metadata ?? undefined, location: p.location ?? undefined })),
    frameworks: {
      tensorflow: snapshot.frameworks.tensorflow ? { version: snapshot.frameworks.tensorflow.version, distribution: snapshot.frameworks.tensorflow.distribution, build_info_source: null } : null,
      keras: snapshot.frameworks.keras,
      torch: null,
      jax: null,
      numpy: snapshot.frameworks.numpy,
      nvidia_wheels: snapshot.frameworks.nvidia_wheels,
    },
    cuda_wheel_files: { cudnn_headers: [], libraries: [] },
    errors: [],
  };
  const absent = { probe: { status: 'absent' as const, duration_ms: 0, reason: 'not here' }, text: null };
  const ok = (text: string) => ({ probe: { status: 'ok' as const, duration_ms: 1 }, text });
  const raw: RawSystem = {
    nvidiaSmiQuery: absent,
    nvidiaSmiHeader: absent,
    procDriverVersion: absent,
    nvcc: absent,
    cudaVersionFile: null,
    cudnnHeaders: [],
    cudnnLibraries: ok(''),
    osRelease: ok('ID=ubuntu\nVERSION_ID="22.04"\nPRETTY_NAME="Ubuntu 22.04.4 LTS"\nVERSION_CODENAME=jammy\n'),
    cpuinfo: ok(`processor\t: 0\nmodel name\t: ${snapshot.system.cpu.model}\nflags\t\t: ${cpuFlags.join(' ')}\n`),
    meminfo: ok(`MemTotal: ${Math.round(snapshot.system.memory_total_bytes / 1024)} kB\n`),
    glibc: ok(`glibc ${snapshot.system.glibc}\n`),
    cgroup: null,
    dockerenv: true,
    containerenv: false,
    containerEnviron: {},
    kernel: snapshot.system.kernel,
    arch: snapshot.system.arch,
    logicalCores: snapshot.system.cpu.logical_cores,
    totalMemoryBytes: snapshot.system.memory_total_bytes,
  };
  return { python, host: { raw, hostname: 'replay-host' } };
}

/** A typed fake engine: each step does what it is told, and records what it was asked. */
export class FakeBackend implements ReplayBackend {
  readonly kind = 'fake';
  readonly where = 'in memory';
  readonly codeRoot = '/workspace/code';
  checks: DoctorCheck[] = [{ name: 'engine', status: 'ok', message: 'answers' }];
  prepared = 0;
  disposed = 0;
  requests: RunRequest[] = [];
  /** What the training "writes" into its outputs folder. */
  outputs: Record<string, string> = { 'metrics.json': '{"loss": 0.25}\n' };
  exitCode = 0;
  timedOut = false;
  stderr = 'epoch 1/1\n';
  prepareError: Error | null = null;
  /** The training wrote no outputs folder at all. */
  noOutputs = false;
  /** Called while the training "runs": a test aborts here. */
  duringRun: (() => void) | null = null;

  constructor(public probed: ProbedEnvironment) {}

  async check(_snapshot: Snapshot, _gpus: GpuRequest): Promise<DoctorCheck[]> {
    return this.checks;
  }

  async prepare(events: EventSink): Promise<PreparedEnvironment> {
    this.prepared++;
    events({ type: 'build', kind: 'step', text: 'Step 1/1 : FROM fake' });
    if (this.prepareError) throw this.prepareError;
    return { facts: { image_id: 'sha256:fake' }, handle: 'fake', description: 'a fake environment' };
  }

  async run(_env: PreparedEnvironment, request: RunRequest, output: OutputHandlers): Promise<RunResult> {
    this.requests.push(request);
    output.onStdout(Buffer.from('training\n'));
    output.onStderr(Buffer.from(this.stderr));
    this.duringRun?.();
    if (this.noOutputs) return { exitCode: this.exitCode, signal: null, oomKilled: false, timedOut: this.timedOut, startedAt: new Date(0).toISOString(), durationMs: 5, outputs: null };
    for (const [name, text] of Object.entries(this.outputs)) writeFileSync(join(request.collectTo, name), text);
    return { exitCode: this.exitCode, signal: null, oomKilled: false, timedOut: this.timedOut, startedAt: new Date(0).toISOString(), durationMs: 5, outputs: Object.entries(this.outputs).map(([path, text]) => ({ path, size: text.length })) };
  }

  async probe(): Promise<ProbedEnvironment> {
    return this.probed;
  }

  async dispose(): Promise<void> {
    this.disposed++;
  }
}

/**
 * The user's path for real, up to the replay: on "machine A" the Keras example is committed and
 * captured with the TF venv (the seed and epochs come from the environment through the shell, so
 * --env can change them), the snapshot is committed beside it, then the repository is cloned to
 * "machine B" and the original removed. Returns the clone and the snapshot's id.
 */
export async function captureThenClone(work: string): Promise<{ clone: string; snapshotId: string }> {
  const project = join(work, 'machine-a', 'project');
  cpSync(join(repoRoot, 'examples', 'keras-tiny'), project, { recursive: true });
  const git = (dir: string, ...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args]);
  git(project, 'init', '-q');
  writeFileSync(join(project, '.gitignore'), 'out/\n');
  git(project, 'add', '-A');
  git(project, 'commit', '-qm', 'the training');
  const captured = await runCli(['capture', '--python', tfPython, '--data', 'data', '--run', 'python train.py --out out --epochs ${EPOCHS:-2} --seed ${SEED:-42}', '--outputs', 'out', '--json'], {
    cwd: project,
    env: cleanEnv({ PYTHONHASHSEED: '0', TF_ENABLE_ONEDNN_OPTS: '0', KERAS_HOME: join(work, 'keras-home') }),
    timeoutMs: 300_000,
  });
  if (captured.exitCode !== 0) throw new Error(`capture failed (${captured.exitCode}): ${captured.stderr.slice(-2000)}`);
  git(project, 'add', 'snapshot.yaml', 'snapshot.bundle');
  git(project, 'commit', '-qm', 'the snapshot');
  // Machine B: another path; the original is gone.
  const clone = join(work, 'machine-b', 'clone');
  execFileSync('git', ['clone', '-q', project, clone]);
  rmSync(join(work, 'machine-a'), { recursive: true, force: true });
  return { clone, snapshotId: String(captured.json.result.id) };
}
