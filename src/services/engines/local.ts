// The local engine behind the replay pipeline: no container. The captured Python environment is
// rebuilt in a virtual environment on this host, from the same pinned requirements the Dockerfile
// installs (the build context's plan), cached by their hash and the interpreter; the code at the
// captured commit with its patch is exported into the replay's own folder (never the live tree);
// the training runs there with an environment built from nothing but the replay environment; the
// probes run in the new venv and on this host.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join, posix } from 'node:path';
import type { GpuRequest, OutputHandlers } from '../../core/container-engine.js';
import type { Snapshot } from '../../core/model.js';
import type { DoctorCheck, EventSink, PreparedEnvironment, ProbedEnvironment, ReplayBackend, RunRequest, RunResult } from '../../core/replay/backend.js';
import { hostGpuChecks } from '../../core/replay/doctor.js';
import { inside } from '../../core/replay/layout.js';
import { choosePython, localRunEnv, pipIndexes, redactUrl, venvKey, type PythonCandidate, type PythonChoice } from '../../core/replay/local.js';
import { assembleGpu } from '../../core/assemble.js';
import { ExternalError, InterruptedError, UserInputError } from '../../errors.js';
import { fileSize, fileStamp, isExecutable, makeDir, pathExists, removePath, StagedFolder, statKind, walkFiles, writeFileAtomic } from '../../adapters/fs.js';
import { linkInPlaceOf, moveFile, moveFolderInto, relocateScripts, staleStaging, STAGING_PREFIX, VENV_MARKER, venvCacheRoot } from '../../adapters/venv-cache.js';
import { checkIndex } from '../../adapters/package-index.js';
import { loadCompatTable } from '../../adapters/package-files.js';
import { runProcess, runShellCommand, spawnStreaming } from '../../adapters/process.js';
import { runPythonProbe } from '../../adapters/probes/python.js';
import { findPythons, identifyPython } from '../../adapters/probes/pythons.js';
import { collectSystem } from '../../adapters/probes/system-probes.js';
import { buildContext, CODE_FOLDER, type BuildContext } from '../build-context.js';
import type { ReplaySubject } from '../replay.js';

const PROBE_TIMEOUT_MS = 120_000;
const HOST_TIMEOUT_MS = 10_000;
const INDEX_TIMEOUT_MS = 5_000;
const VENV_TIMEOUT_MS = 300_000;

export interface LocalSettings {
  /** --python PATH: the interpreter to rebuild with. */
  python?: string;
  exactPython: boolean;
  /** --pip-index-url: pip's index instead of the configured one. */
  pipIndexUrl?: string;
  /** This host's environment: where Pythons are found, pip's settings. Never the training's. */
  env: NodeJS.ProcessEnv;
  toolVersion: string;
  gitTimeoutMs: number;
}

export class LocalReplay implements ReplayBackend {
  readonly kind = 'local';
  readonly codeRoot: string;
  /** The training reads its data in place (a link, not a read-only mount): the pipeline checks it again after the run. */
  readonly isolatesData = false;
  private context: BuildContext | null = null;
  private choice: PythonChoice | null = null;
  private staging: string | null = null;
  private runEnv: Record<string, string> | null = null;
  private readonly cacheRoot: string;

  constructor(
    private readonly settings: LocalSettings,
    private readonly subject: ReplaySubject,
  ) {
    this.codeRoot = join(subject.folder, CODE_FOLDER);
    this.cacheRoot = venvCacheRoot(settings.env);
  }

  get where(): string {
    return `this host (${hostname()}), environments cached in ${this.cacheRoot}`;
  }

  private get kerasHome(): string {
    return join(this.subject.folder, 'keras-home');
  }

  /** The probe's own copy: Keras writes its defaults into KERAS_HOME on first import, and the probe must see what the training started with. */
  private get probeKerasHome(): string {
    return join(this.subject.folder, 'keras-home-probe');
  }

  /** The interpreter, the GPUs, the kind of environment: a `fail` stops the replay before anything is built. */
  async check(snapshot: Snapshot, gpus: GpuRequest): Promise<DoctorCheck[]> {
    const { checks, choice } = await localChecks(snapshot, gpus, this.settings);
    this.choice = choice;
    return checks;
  }

  async prepare(events: EventSink, signal?: AbortSignal): Promise<PreparedEnvironment> {
    const { subject, settings } = this;
    if (this.choice === null) this.choice = (await localChecks(subject.snapshot, subject.gpus, settings)).choice;
    const python = (this.choice as PythonChoice).candidate;
    this.context = await buildContext({
      snapshot: subject.snapshot,
      snapshotPath: subject.snapshotPath,
      repoDir: subject.repository.root,
      target: subject.gpus.kind === 'none' ? 'cpu' : 'gpu',
      noCode: false,
      commitOnly: false,
      toolVersion: settings.toolVersion,
      timeoutMs: settings.gitTimeoutMs,
      signal,
    });
    // The Dockerfile's base-image notes do not apply here; the code's and the packages' do.
    for (const warning of this.context.warnings.filter((w) => !/base image|FROM /i.test(w))) events({ type: 'warning', message: warning });
    const requirements = this.context.plan.files['requirements.txt'];
    await writeFileAtomic(join(subject.folder, 'requirements.txt'), requirements);
    // The code at the captured commit with its patch, from the very entries the image gets.
    events({ type: 'build', kind: 'step', text: `exporting the code at ${subject.repository.commit.slice(0, 12)} into ${this.codeRoot}` });
    const staged = await StagedFolder.create(this.codeRoot);
    try {
      for await (const entry of this.context.entries()) {
        if (!entry.name.startsWith(`${CODE_FOLDER}/`)) continue;
        await staged.writeEntry(entry.name.slice(CODE_FOLDER.length + 1), entry);
      }
      await staged.finishEntries();
      await staged.commit(false);
    } catch (error) {
      await staged.discard();
      throw error;
    }
    if (signal?.aborted) throw new InterruptedError(signal, 'exporting the code');
    // Keras reads its backend and numerics from KERAS_HOME/keras.json: the captured one, never the user's.
    const kerasJson = this.context.plan.files['keras.json'];
    for (const home of [this.kerasHome, this.probeKerasHome]) {
      await makeDir(home);
      if (kerasJson !== undefined) await writeFileAtomic(join(home, 'keras.json'), kerasJson);
    }

    const key = venvKey(requirements, python);
    const venv = join(this.cacheRoot, key);
    let reused = true;
    const started = performance.now();
    if ((await pathExists(join(venv, VENV_MARKER))) && (await isExecutable(join(venv, 'bin', 'python')))) {
      events({ type: 'build', kind: 'step', text: `reusing the cached environment ${venv} (Python ${python.version}, ${this.context.plan.requirements.pinned} pinned packages)` });
    } else {
      reused = false;
      await this.buildVenv(venv, key, python, join(subject.folder, 'requirements.txt'), events, signal);
    }
    return {
      handle: venv,
      description: `venv ${venv} (Python ${python.version})`,
      facts: {
        venv,
        venv_key: key,
        venv_reused: reused,
        venv_ms: Math.round(performance.now() - started),
        python: python.path,
        python_version: python.version,
        python_origin: python.origin,
        python_exact: this.choice?.kind === 'exact',
        requirements_pinned: this.context.plan.requirements.pinned,
        code_commit: subject.repository.commit,
      },
    };
  }

  private async buildVenv(venv: string, key: string, python: PythonCandidate, requirementsFile: string, events: EventSink, signal?: AbortSignal): Promise<void> {
    await makeDir(this.cacheRoot);
    for (const stale of await staleStaging(this.cacheRoot)) {
      events({ type: 'build', kind: 'output', text: `removing ${stale}, left by a build that did not finish` });
      await removePath(stale);
    }
    const staging = join(this.cacheRoot, `${STAGING_PREFIX}${key}-${process.pid}-${randomBytes(4).toString('hex')}`);
    this.staging = staging;
    try {
      events({ type: 'build', kind: 'step', text: `creating the environment with ${python.path} (Python ${python.version}) in ${staging}` });
      const made = await runProcess(python.path, ['-m', 'venv', staging], { timeoutMs: VENV_TIMEOUT_MS, signal, env: pipEnv(this.settings.env) });
      if (made.outcome === 'aborted') throw new InterruptedError(signal, 'creating the environment');
      if (made.outcome !== 'ok') throw new ExternalError('VENV_FAILED', `${python.path} -m venv failed: ${made.reason ?? made.outcome}`, { hint: 'Check that this Python has its venv module (Debian: apt-get install python3-venv).' });
      const pip = join(staging, 'bin', 'python');
      await this.checkIndexes(pip, events, signal);
      const args = ['-m', 'pip', 'install', '--no-deps', '--no-input', '--disable-pip-version-check', ...(this.settings.pipIndexUrl === undefined ? [] : ['--index-url', this.settings.pipIndexUrl]), '-r', requirementsFile];
      events({ type: 'build', kind: 'step', text: `installing the pinned requirements: pip install --no-deps -r ${requirementsFile}` });
      const installing = spawnStreaming(pip, args, { env: pipEnv(this.settings.env), signal });
      let pending = '';
      for await (const chunk of installing.stdout) {
        pending += chunk.toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) if (line.trim() !== '') events({ type: 'build', kind: 'output', text: line });
      }
      const result = await installing.result;
      if (result.outcome === 'aborted' || signal?.aborted) throw new InterruptedError(signal, 'installing the requirements');
      if (result.outcome !== 'ok') {
        const logTail = result.stderr.split('\n').filter((l) => l.trim() !== '').slice(-20);
        throw new ExternalError('VENV_INSTALL_FAILED', `pip could not install the pinned requirements: ${result.reason ?? result.outcome}`, { hint: `See ${requirementsFile}; pass --pip-index-url for a mirror that holds every pinned version.`, data: { logTail } });
      }
      await relocateScripts(staging, staging, venv);
      await writeFileAtomic(join(staging, VENV_MARKER), `${JSON.stringify({ key, python: python.path, python_version: python.version, created_at: new Date().toISOString(), tool_version: this.settings.toolVersion }, null, 2)}\n`);
      // Another replay may have put the same environment there first: its copy is as good as ours.
      if (!(await moveFolderInto(staging, venv, VENV_MARKER))) await removePath(staging);
      this.staging = null;
      events({ type: 'build', kind: 'step', text: `cached the environment as ${venv}` });
    } finally {
      if (this.staging !== null) await removePath(this.staging).catch(() => undefined);
      this.staging = null;
    }
  }

  /** Every index pip is configured with answers, or a clear error naming it, in seconds (pip alone retries for minutes). */
  private async checkIndexes(python: string, events: EventSink, signal?: AbortSignal): Promise<void> {
    const listed = await runProcess(python, ['-m', 'pip', 'config', 'list'], { timeoutMs: 60_000, env: pipEnv(this.settings.env), signal });
    const indexes = pipIndexes(listed.outcome === 'ok' ? listed.stdout : '', this.settings.pipIndexUrl);
    const targets: Array<{ url: string; what: string }> = [];
    if (indexes.indexUrl !== null) targets.push({ url: indexes.indexUrl, what: `the index (${indexes.indexSource})` });
    for (const url of indexes.extraIndexUrls) targets.push({ url, what: 'an extra index (pip.conf or PIP_EXTRA_INDEX_URL)' });
    for (const url of indexes.findLinks) targets.push({ url, what: 'a find-links location (pip.conf or PIP_FIND_LINKS)' });
    events({ type: 'build', kind: 'step', text: `checking ${targets.length} package location(s): ${targets.map((t) => redactUrl(t.url)).join(', ')}` });
    const results = await Promise.all(targets.map(async (t) => ({ ...t, check: await checkIndex(t.url, INDEX_TIMEOUT_MS, this.settings.env) })));
    for (const r of results) {
      if (r.check.ok) continue;
      if (r.check.proxied) {
        events({ type: 'warning', message: `${r.what} ${redactUrl(r.url)} did not answer directly (${r.check.reason}); pip goes through the proxy, so the install goes on` });
        continue;
      }
      throw new ExternalError('PIP_INDEX_UNREACHABLE', `${r.what} ${redactUrl(r.url)} does not answer: ${r.check.reason}`, {
        hint: indexes.indexSource === "pip's default index" && r.url === indexes.indexUrl ? 'No index is configured, so pip would use PyPI, which does not answer from here: pass --pip-index-url URL (or set PIP_INDEX_URL) to a mirror that does.' : 'Pass --pip-index-url URL to an index that answers, or fix PIP_INDEX_URL / PIP_EXTRA_INDEX_URL / PIP_FIND_LINKS or pip.conf (pip config list shows them).',
        data: { url: redactUrl(r.url) },
      });
    }
  }

  async run(env: PreparedEnvironment, request: RunRequest, output: OutputHandlers, _events: EventSink, signal?: AbortSignal): Promise<RunResult> {
    const outputsRel = inside(this.codeRoot, request.outputsPath);
    if (outputsRel === null || outputsRel === '') {
      throw new UserInputError('OUTPUTS_OUTSIDE_CODE', `the training writes its outputs to ${request.outputsPath}, outside the code tree the local engine exports (${this.codeRoot}); replaying here would write into that folder of yours`, {
        hint: 'Capture with an --outputs folder given relative to the working directory, or replay in a container (--engine docker), which isolates it.',
      });
    }
    for (const mount of request.data) await this.placeData(mount.source, mount.target);
    this.runEnv = localRunEnv({ replayEnv: request.env, venv: env.handle, kerasHome: this.kerasHome, host: this.settings.env, gpus: request.gpus });
    if ((await statKind(request.workdir)) !== 'directory') await makeDir(request.workdir);
    // What the export already holds in the outputs folder (the commit's copies): a file the
    // training does not write again is not its output, and must not compare equal for it.
    const before = new Map<string, string>();
    if ((await statKind(request.outputsPath)) === 'directory') {
      for (const file of await walkFiles(request.outputsPath)) before.set(file.relativePath, await fileStamp(String(file.absolutePath)));
    }
    const outcome = await runShellCommand(request.command, { cwd: request.workdir, env: this.runEnv, onStdout: output.onStdout, onStderr: output.onStderr, signal, timeoutMs: request.timeoutMs });
    if (signal?.aborted) throw new InterruptedError(signal, 'the training');
    if (outcome.failedToStart !== null) throw new ExternalError('RUN_NOT_STARTED', `the training could not start: ${outcome.failedToStart}`, { hint: 'Check the command line and the working directory.' });
    let outputs: RunResult['outputs'] = null;
    const untouched: string[] = [];
    if ((await statKind(request.outputsPath)) === 'directory') {
      outputs = [];
      for (const file of await walkFiles(request.outputsPath)) {
        if (before.get(file.relativePath) === (await fileStamp(String(file.absolutePath)))) {
          untouched.push(file.relativePath);
          continue;
        }
        const target = join(request.collectTo, ...file.relativePath.split('/'));
        // The export is the replay's own: its files move, nothing of the user's is touched.
        await moveFile(file.absolutePath, target);
        outputs.push({ path: file.relativePath, size: (await fileSize(target)) ?? 0 });
      }
    }
    return { exitCode: outcome.exitCode, signal: outcome.signal, oomKilled: false, timedOut: outcome.timedOut, startedAt: outcome.startedAt.toISOString(), durationMs: outcome.durationMs, outputs, untouched };
  }

  /** The data where the training looks for it: in the exported tree a link to the verified copy; elsewhere only where it already is. */
  private async placeData(source: string, target: string): Promise<void> {
    if (source === target) return;
    const rel = inside(this.codeRoot, target);
    if (rel === null) {
      throw new UserInputError('DATA_OUTSIDE_CODE', `the training reads ${target}, outside the exported code tree, and the data is at ${source} on this host: the local engine does not write outside the replay's folder`, {
        hint: `Put the data at ${target} (or a link there to ${source}), or replay in a container (--engine docker), which mounts it there.`,
      });
    }
    const placed = join(this.codeRoot, ...rel.split(posix.sep));
    // What the export holds there is the commit's copy, ours to replace: the verified data wins, as a mount would.
    await linkInPlaceOf(placed, source);
  }

  async probe(env: PreparedEnvironment, _gpus: GpuRequest, runEnv: Record<string, string>, signal?: AbortSignal): Promise<ProbedEnvironment> {
    const probeEnv = { ...(this.runEnv ?? localRunEnv({ replayEnv: {}, venv: env.handle, kerasHome: this.kerasHome, host: this.settings.env, gpus: this.subject.gpus })), KERAS_HOME: this.probeKerasHome };
    let python;
    try {
      python = (await runPythonProbe({ path: join(env.handle, 'bin', 'python'), origin: '--python' }, PROBE_TIMEOUT_MS, probeEnv, signal)).output;
    } catch (error) {
      if (error instanceof InterruptedError) throw error;
      throw new ExternalError('PROBE_FAILED', `the environment probe failed in ${env.handle}: ${error instanceof Error ? error.message : String(error)}`, { hint: `Run ${join(env.handle, 'bin', 'python')} python/snapshot_probe.py to see why.` });
    }
    const raw = await collectSystem(HOST_TIMEOUT_MS, signal);
    // What the training had: the environment built for its run (the replay environment within it).
    const had: Record<string, string> = {};
    for (const [key, value] of Object.entries(this.runEnv ?? runEnv)) if (value !== undefined) had[key] = value;
    return { python, host: { raw, hostname: hostname() }, env: had };
  }

  async dispose(): Promise<void> {
    if (this.staging !== null) await removePath(this.staging).catch(() => undefined);
    await this.context?.dispose().catch(() => undefined);
    this.context = null;
  }
}

/** pip's environment: the user's pip settings stay; what changes how Python starts does not. */
function pipEnv(host: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...host, PIP_NO_INPUT: '1', PIP_DISABLE_PIP_VERSION_CHECK: '1' };
  for (const name of ['PYTHONPATH', 'PYTHONHOME', 'PYTHONSTARTUP', 'PYTHONUSERBASE', 'PYTHONINSPECT', 'LD_PRELOAD', 'VIRTUAL_ENV', 'CONDA_PREFIX', 'PIP_USER', 'PIP_TARGET', 'PIP_PREFIX', 'PIP_REQUIRE_VIRTUALENV']) delete env[name];
  return env;
}

/**
 * The local engine's checks, for replay and doctor: the interpreter (exact, nearest of the same
 * minor, or what to install), a conda snapshot's packages pip cannot rebuild, and the GPUs a
 * GPU snapshot needs on this host.
 */
export async function localChecks(snapshot: Snapshot, gpus: GpuRequest, settings: Pick<LocalSettings, 'python' | 'exactPython' | 'env'>): Promise<{ checks: DoctorCheck[]; choice: PythonChoice }> {
  const checks: DoctorCheck[] = [];
  const wanted = { version: snapshot.python.version, implementation: snapshot.python.implementation || 'CPython' };
  const minor = /^(\d+\.\d+)\./.exec(wanted.version)?.[1] ?? '3';
  let candidates: PythonCandidate[];
  if (settings.python !== undefined) {
    const found = (await isExecutable(settings.python)) ? await identifyPython(settings.python, '--python') : null;
    if (found === null) throw new UserInputError('PYTHON_NOT_FOUND', `--python ${settings.python}: not a Python interpreter that runs`, { hint: 'Pass the path of a Python interpreter, e.g. --python ~/.pyenv/versions/3.11.7/bin/python.' });
    candidates = [found];
  } else candidates = await findPythons(settings.env, minor);
  const choice = choosePython(candidates, wanted, settings.exactPython);
  checks.push(
    choice.kind === 'exact'
      ? { name: 'python', status: 'ok', message: `${choice.candidate.implementation} ${choice.candidate.version} at ${choice.candidate.path} (${choice.candidate.origin})` }
      : { name: 'python', status: 'warn', message: `no Python ${choice.wanted} here: the replay uses ${choice.candidate.version} at ${choice.candidate.path} (${choice.candidate.origin}), and the report shows the difference (--exact-python refuses this)` },
  );
  if (snapshot.python.environment === 'conda') {
    const conda = snapshot.packages.filter((p) => (p.installer ?? '').toLowerCase() === 'conda').map((p) => `${p.name} ${p.version}`);
    checks.push({
      name: 'conda',
      status: 'warn',
      message: `the snapshot comes from a conda environment; pip rebuilds it from the index${conda.length > 0 ? `, and ${conda.length} package(s) conda installed may not be there under the same name and version (${conda.slice(0, 8).join(', ')}${conda.length > 8 ? ', ...' : ''})` : ''}: if pip cannot install one, recreate the environment with conda (conda create --file of the captured list) and pass its python with --python, or replay with --engine docker`,
    });
  }
  if (gpus.kind !== 'none') {
    if (snapshot.gpu.available || gpus.kind !== 'all') {
      const [raw, table] = await Promise.all([collectSystem(HOST_TIMEOUT_MS), loadCompatTable()]);
      const host = assembleGpu(raw, { headers: [], libraries: [], wheels: [] });
      const gpuChecks = hostGpuChecks(snapshot, host, table, true);
      checks.push(...gpuChecks.map((c) => (c.name === 'gpus' && c.status === 'fail' ? { ...c, message: `the snapshot needs GPUs (--gpus ${gpus.kind}) but this host shows none (nvidia-smi found no device): replay on a GPU host, or pass --gpus none to replay on CPU (the report then says the comparison crossed hardware classes)` } : c)));
      if (host.devices.length === 0 && !gpuChecks.some((c) => c.status === 'fail')) checks.push({ name: 'gpus', status: 'fail', message: `GPUs were asked for (--gpus ${gpus.kind}) but this host shows none: pass --gpus none to replay on CPU` });
    }
  } else if (snapshot.gpu.available) {
    checks.push({ name: 'gpus', status: 'warn', message: 'replaying on CPU (--gpus none) a snapshot captured on GPUs: the comparison crosses hardware classes' });
  }
  return { checks, choice };
}
