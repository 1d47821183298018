// The local engine behind the replay pipeline: no container. The captured Python environment is
// rebuilt in a virtual environment on this host, from the same pinned requirements the Dockerfile
// installs (the build context's plan), cached by their hash and the interpreter; the code at the
// captured commit with its patch is exported into the replay's own folder (never the live tree);
// the training runs there with an environment built from nothing but the replay environment; the
// probes run in the new venv and on this host.
import { hostname } from 'node:os';
import { dirname, join, posix, resolve } from 'node:path';
import type { GpuRequest, OutputHandlers } from '../../core/container-engine.js';
import type { Snapshot } from '../../core/model.js';
import type { DoctorCheck, EventSink, PreparedEnvironment, ProbedEnvironment, ReplayBackend, RunRequest, RunResult } from '../../core/replay/backend.js';
import { hostGpuChecks } from '../../core/replay/doctor.js';
import { inside, type ReplayLayout } from '../../core/replay/layout.js';
import { choosePython, localRunEnv, pipIndexes, redactUrl, requirementsIndexes, venvKey, type PythonCandidate, type PythonChoice } from '../../core/replay/local.js';
import { assembleGpu } from '../../core/assemble.js';
import { ExternalError, InterruptedError, UserInputError } from '../../errors.js';
import { fileSize, fileStamp, isExecutable, makeDir, pathExists, removePath, StagedFolder, statKind, walkFiles, writeFileAtomic } from '../../adapters/fs.js';
import { copyOut, installedDistributions, moveFolderInto, pythonIdentityCache, readVenvMarker, placeDataLink, reallyInside, relocateScripts, stagingName, staleStaging, VENV_MARKER, venvCacheRoot } from '../../adapters/venv-cache.js';
import { checkIndex } from '../../adapters/package-index.js';
import { loadCompatTable } from '../../adapters/package-files.js';
import { runProcess, runShellCommand, spawnStreaming } from '../../adapters/process.js';
import { runPythonProbe } from '../../adapters/probes/python.js';
import { RECORDER_DIR } from '../../adapters/probes/recorder.js';
import { withRecorder } from '../../core/recording.js';
import type { ReloadRunner } from '../../core/reload.js';
import { pythonExecutor } from '../../adapters/probes/reload.js';
import { RELOAD_TIMEOUT_MS } from '../reload.js';
import { findPythons, identifyPython } from '../../adapters/probes/pythons.js';
import { collectSystem } from '../../adapters/probes/system-probes.js';
import { buildContext, CODE_FOLDER, type BuildContext } from '../build-context.js';
import type { ReplaySubject } from '../replay.js';

const PROBE_TIMEOUT_MS = 120_000;
const HOST_TIMEOUT_MS = 10_000;
const INDEX_TIMEOUT_MS = 5_000;
const VENV_TIMEOUT_MS = 300_000;
/** The whole pip install at most (a TF or torch set from a slow mirror takes minutes, never an hour); with pip's own --retries 2 --timeout 30 a stalled index fails instead of hanging. */
export const PIP_INSTALL_TIMEOUT_MS = 60 * 60_000;
const DOCKER_HINT = 'replay in a container (--engine docker), which isolates it';

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
  async check(snapshot: Snapshot, gpus: GpuRequest, layout?: ReplayLayout): Promise<DoctorCheck[]> {
    if (layout !== undefined) refuseUnsafeLayout(snapshot, layout, this.codeRoot);
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
    const changed = await this.cachedVenvChange(venv);
    if (changed !== null) {
      events({ type: 'warning', message: `the cached environment ${venv} changed since it was built (${changed}): it is removed and built again` });
      await this.setAside(venv);
    }
    if (changed === null && (await pathExists(join(venv, VENV_MARKER))) && (await isExecutable(join(venv, 'bin', 'python')))) {
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

  /** How a cached venv differs from what it held when built (a package installed into it, one removed), or null: as built, or not there. */
  private async cachedVenvChange(venv: string): Promise<string | null> {
    const marker = await readVenvMarker(venv);
    if (marker === null) return null;
    // A venv cached before the marker listed its packages cannot be checked: built again once.
    if (!Array.isArray(marker.installed) || !marker.installed.every((n) => typeof n === 'string')) return 'its record lists no packages';
    const was = new Set(marker.installed as string[]);
    const now = await installedDistributions(venv);
    const added = now.filter((n) => !was.has(n));
    const removed = [...was].filter((n) => !now.includes(n));
    if (added.length === 0 && removed.length === 0) return null;
    const list = (names: string[]) => names.slice(0, 5).map((n) => n.replace(/\.(dist|egg)-info$/, '')).join(', ') + (names.length > 5 ? ', ...' : '');
    return [added.length > 0 ? `added: ${list(added)}` : '', removed.length > 0 ? `removed: ${list(removed)}` : ''].filter(Boolean).join('; ');
  }

  /** Moves a cached venv out of its key's place (no later replay finds it there), then removes it. */
  private async setAside(venv: string): Promise<void> {
    const aside = join(this.cacheRoot, stagingName('changed'));
    await moveFolderInto(venv, aside, VENV_MARKER).catch(() => false);
    await removePath(aside).catch(() => undefined);
  }

  private async buildVenv(venv: string, key: string, python: PythonCandidate, requirementsFile: string, events: EventSink, signal?: AbortSignal): Promise<void> {
    await makeDir(this.cacheRoot);
    for (const stale of await staleStaging(this.cacheRoot)) {
      events({ type: 'build', kind: 'output', text: `removing ${stale}, left by a build that did not finish` });
      await removePath(stale);
    }
    const staging = join(this.cacheRoot, stagingName(key));
    this.staging = staging;
    try {
      events({ type: 'build', kind: 'step', text: `creating the environment with ${python.path} (Python ${python.version}) in ${staging}` });
      const made = await runProcess(python.path, ['-m', 'venv', staging], { timeoutMs: VENV_TIMEOUT_MS, signal, env: pipEnv(this.settings.env) });
      if (made.outcome === 'aborted') throw new InterruptedError(signal, 'creating the environment');
      if (made.outcome !== 'ok') throw new ExternalError('VENV_FAILED', `${python.path} -m venv failed: ${made.reason ?? made.outcome}`, { hint: 'Check that this Python has its venv module (Debian: apt-get install python3-venv).' });
      const pip = join(staging, 'bin', 'python');
      await this.checkIndexes(pip, requirementsFile, events, signal);
      const args = ['-m', 'pip', 'install', '--no-deps', '--no-input', '--disable-pip-version-check', '--retries', '2', '--timeout', '30', ...(this.settings.pipIndexUrl === undefined ? [] : ['--index-url', this.settings.pipIndexUrl]), '-r', requirementsFile];
      events({ type: 'build', kind: 'step', text: `installing the pinned requirements: pip install --no-deps -r ${requirementsFile}` });
      const installing = spawnStreaming(pip, args, { env: pipEnv(this.settings.env), signal, timeoutMs: PIP_INSTALL_TIMEOUT_MS });
      let pending = '';
      for await (const chunk of installing.stdout) {
        pending += chunk.toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) if (line.trim() !== '') events({ type: 'build', kind: 'output', text: line });
      }
      const result = await installing.result;
      if (result.outcome === 'aborted' || signal?.aborted) throw new InterruptedError(signal, 'installing the requirements');
      if (result.outcome === 'timeout') {
        throw new ExternalError('VENV_INSTALL_TIMEOUT', `pip did not finish installing the pinned requirements within ${PIP_INSTALL_TIMEOUT_MS / 60_000} minutes and was stopped`, { hint: 'An index or mirror is stalling: check the ones the log names, or pass --pip-index-url URL to one that answers.', data: { logTail: result.stderr.split('\n').filter((l) => l.trim() !== '').slice(-20) } });
      }
      if (result.outcome !== 'ok') {
        const logTail = result.stderr.split('\n').filter((l) => l.trim() !== '').slice(-20);
        throw new ExternalError('VENV_INSTALL_FAILED', `pip could not install the pinned requirements: ${result.reason ?? result.outcome}`, { hint: `See ${requirementsFile}; pass --pip-index-url for a mirror that holds every pinned version.`, data: { logTail } });
      }
      await relocateScripts(staging, staging, venv);
      const installed = await installedDistributions(staging);
      await writeFileAtomic(join(staging, VENV_MARKER), `${JSON.stringify({ key, python: python.path, python_version: python.version, created_at: new Date().toISOString(), tool_version: this.settings.toolVersion, installed }, null, 2)}\n`);
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
  private async checkIndexes(python: string, requirementsFile: string, events: EventSink, signal?: AbortSignal): Promise<void> {
    const listed = await runProcess(python, ['-m', 'pip', 'config', 'list'], { timeoutMs: 60_000, env: pipEnv(this.settings.env), signal });
    const indexes = pipIndexes(listed.outcome === 'ok' ? listed.stdout : '', this.settings.pipIndexUrl);
    const targets: Array<{ url: string; what: string }> = [];
    if (indexes.indexUrl !== null) targets.push({ url: indexes.indexUrl, what: `the index (${indexes.indexSource})` });
    for (const url of indexes.extraIndexUrls) targets.push({ url, what: 'an extra index (pip.conf or PIP_EXTRA_INDEX_URL)' });
    for (const url of indexes.findLinks) targets.push({ url, what: 'a find-links location (pip.conf or PIP_FIND_LINKS)' });
    // The requirements file's own lines (torch's wheel index): pip uses them too.
    const named = requirementsIndexes(this.context?.plan.files['requirements.txt'] ?? '');
    for (const url of named.indexUrls) targets.push({ url, what: `the index the requirements file names (${requirementsFile})` });
    for (const url of named.extraIndexUrls) targets.push({ url, what: `an extra index the requirements file names (${requirementsFile})` });
    // pip reads a relative find-links path from the requirements file's folder.
    for (const url of named.findLinks) targets.push({ url: /^[a-z][a-z0-9+.-]*:/i.test(url) ? url : resolve(dirname(requirementsFile), url), what: `a find-links location the requirements file names (${requirementsFile})` });
    events({ type: 'build', kind: 'step', text: `checking ${targets.length} package location(s): ${targets.map((t) => redactUrl(t.url)).join(', ')}` });
    const results = await Promise.all(targets.map(async (t) => ({ ...t, check: await checkIndex(t.url, INDEX_TIMEOUT_MS, this.settings.env) })));
    for (const r of results) {
      if (r.check.ok) continue;
      if (r.check.proxied) {
        events({ type: 'warning', message: `${r.what} ${redactUrl(r.url)} did not answer directly (${r.check.reason}); pip goes through the proxy, so the install goes on` });
        continue;
      }
      throw new ExternalError('PIP_INDEX_UNREACHABLE', `${r.what} ${redactUrl(r.url)} does not answer: ${r.check.reason}`, {
        hint: r.what.includes('requirements file') ? `The snapshot's packages need this index (${redactUrl(r.url)}), and it does not answer from here: pass --pip-index-url URL to a mirror that holds those wheels too, or replay where it answers.` : indexes.indexSource === "pip's default index" && r.url === indexes.indexUrl ? 'No index is configured, so pip would use PyPI, which does not answer from here: pass --pip-index-url URL (or set PIP_INDEX_URL) to a mirror that does.' : 'Pass --pip-index-url URL to an index that answers, or fix PIP_INDEX_URL / PIP_EXTRA_INDEX_URL / PIP_FIND_LINKS or pip.conf (pip config list shows them).',
        data: { url: redactUrl(r.url) },
      });
    }
  }

  async run(env: PreparedEnvironment, request: RunRequest, output: OutputHandlers, events: EventSink, signal?: AbortSignal): Promise<RunResult> {
    // check() refused what the layout shows; the export's committed symlinks show only now: the
    // working directory and the outputs folder must really lie inside the export, links followed.
    const workdir = await reallyInside(this.codeRoot, request.workdir);
    if (!workdir.inside) {
      throw new UserInputError('WORKDIR_OUTSIDE_CODE', `the training's working directory ${request.workdir} really is ${workdir.real}, outside the exported code (${workdir.rootReal}): a committed symlink leads out of it, and the training would run in that folder of yours`, { hint: `Remove the link from the repository, or ${DOCKER_HINT}.` });
    }
    const outputsAt = await reallyInside(this.codeRoot, request.outputsPath, true);
    if (inside(this.codeRoot, request.outputsPath) === null || !outputsAt.inside) {
      throw new UserInputError('OUTPUTS_OUTSIDE_CODE', `the training writes its outputs to ${request.outputsPath}, which really is ${outputsAt.real}, outside the code tree the local engine exports (${outputsAt.rootReal}): replaying here would write into that folder of yours`, {
        hint: `A committed symlink leads the outputs folder out of the repository: remove it, or ${DOCKER_HINT}.`,
        data: { outputs: request.outputsPath, real: outputsAt.real },
      });
    }
    for (const mount of request.data) await this.placeData(mount.source, mount.target, events);
    this.runEnv = localRunEnv({ replayEnv: request.env, venv: env.handle, kerasHome: this.kerasHome, host: this.settings.env, gpus: request.gpus });
    // The recorder on the training's own PYTHONPATH (the host's was removed above); the probe's environment does not get it.
    const trainingEnv = request.recordTo === null ? this.runEnv : withRecorder(this.runEnv, RECORDER_DIR, join(request.recordTo, 'record.json'));
    if ((await statKind(request.workdir)) !== 'directory') await makeDir(request.workdir);
    // What the export already holds in the outputs folder (the commit's copies): a file the
    // training does not write again is not its output, and must not compare equal for it.
    const before = new Map<string, string>();
    if ((await statKind(request.outputsPath)) === 'directory') {
      for (const file of await walkFiles(request.outputsPath)) before.set(file.relativePath, await fileStamp(String(file.absolutePath)));
    }
    const outcome = await runShellCommand(request.command, { cwd: request.workdir, env: trainingEnv, onStdout: output.onStdout, onStderr: output.onStderr, signal, timeoutMs: request.timeoutMs });
    if (signal?.aborted) throw new InterruptedError(signal, 'the training');
    if (outcome.failedToStart !== null) throw new ExternalError('RUN_NOT_STARTED', `the training could not start: ${outcome.failedToStart}`, { hint: 'Check the command line and the working directory.' });
    let outputs: RunResult['outputs'] = null;
    const untouched: string[] = [];
    const skipped: NonNullable<RunResult['skipped']> = [];
    if ((await statKind(request.outputsPath)) === 'directory') {
      outputs = [];
      // Links are followed only inside the outputs folder (a link to a file there is collected as
      // a copy, as from a container); one that leads out of it, or nowhere, is left out and said.
      const written: Awaited<ReturnType<typeof walkFiles>> = [];
      let bytes = 0;
      for (const file of await walkFiles(request.outputsPath, (path, why) => skipped.push({ path, why }))) {
        if (before.get(file.relativePath) === (await fileStamp(String(file.absolutePath)))) {
          untouched.push(file.relativePath);
          continue;
        }
        written.push(file);
        bytes += (await fileSize(String(file.absolutePath))) ?? 0;
      }
      // The bounds a container's copy-out has: nothing past them is copied (the training already
      // filled this disk once; collecting must not do it twice).
      if (written.length > request.maxOutputFiles || bytes > request.maxOutputBytes) {
        throw new ExternalError('OUTPUTS_TOO_LARGE', `the training wrote ${written.length} file(s), ${bytes} bytes, into ${request.outputsPath}: more than a replay collects (${request.maxOutputFiles} files, ${request.maxOutputBytes} bytes: four times the baseline, at least 10,000 files and 1 GiB)`, {
          hint: `The files stay in ${request.outputsPath} to look at; a training that writes far more than its baseline did is not the captured one (check its arguments), or recapture the baseline with everything it now writes.`,
          data: { files: written.length, bytes },
        });
      }
      for (const file of written) {
        const target = join(request.collectTo, ...file.relativePath.split('/'));
        // Copied, never moved: a file reached through a link is moved by no rename, and the
        // export stays whole for whoever looks at it after.
        await copyOut(file.absolutePath, target);
        outputs.push({ path: file.relativePath, size: (await fileSize(target)) ?? 0 });
      }
    }
    return { exitCode: outcome.exitCode, signal: outcome.signal, oomKilled: false, timedOut: outcome.timedOut, startedAt: outcome.startedAt.toISOString(), durationMs: outcome.durationMs, outputs, untouched, skipped };
  }

  /**
   * The data where the training looks for it: what the export already holds there is the
   * commit's and is kept (nothing in the export is removed to place data); elsewhere in the
   * export a link to the verified data, made only where no committed symlink leads out of it.
   */
  private async placeData(source: string, target: string, events: EventSink): Promise<void> {
    if (source === target) return;
    const rel = inside(this.codeRoot, target);
    if (rel === null) {
      throw new UserInputError('DATA_OUTSIDE_CODE', `the training reads ${target}, outside the exported code tree, and the data is at ${source} on this host: the local engine does not write outside the replay's folder`, {
        hint: `Put the data at ${target} (or a link there to ${source}), or replay in a container (--engine docker), which mounts it there.`,
      });
    }
    const placed = join(this.codeRoot, ...rel.split(posix.sep));
    if ((await placeDataLink(this.codeRoot, placed, source)) === 'kept') {
      events({ type: 'build', kind: 'step', text: `data ${rel}: the code at the captured commit holds it, and the training reads that copy (the verified data is at ${source})` });
    }
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

  /** The reload script in the new venv, with the environment the training had (the recorder left out). */
  reloader(env: PreparedEnvironment, _modelsRoot: string, runEnv: Record<string, string>): ReloadRunner {
    const had = this.runEnv ?? localRunEnv({ replayEnv: runEnv, venv: env.handle, kerasHome: this.kerasHome, host: this.settings.env, gpus: this.subject.gpus });
    return { execute: pythonExecutor(join(env.handle, 'bin', 'python'), had, RELOAD_TIMEOUT_MS) };
  }

  async dispose(): Promise<void> {
    if (this.staging !== null) await removePath(this.staging).catch(() => undefined);
    await this.context?.dispose().catch(() => undefined);
    this.context = null;
  }
}

/**
 * What the local engine refuses from the layout alone, before anything is built: a training that
 * would run in, write to or read as data a folder of the user's rather than the export. The
 * command line itself names an absolute outputs folder or the captured working directory, so no
 * mapping makes those safe here; a container isolates them.
 */
export function refuseUnsafeLayout(snapshot: Snapshot, layout: ReplayLayout, codeRoot: string): void {
  if (inside(codeRoot, layout.workdir) === null) {
    throw new UserInputError('WORKDIR_OUTSIDE_CODE', `the training ran in ${layout.workdir}, outside its repository: the local engine would run it in that folder of yours, not in the export (${codeRoot})`, {
      hint: `Capture from a working directory inside the repository, or ${DOCKER_HINT}.`,
    });
  }
  const outputsDir = snapshot.run?.outputs_dir ?? '';
  if (posix.isAbsolute(outputsDir)) {
    throw new UserInputError('OUTPUTS_ABSOLUTE', `the training writes its outputs to ${outputsDir}, an absolute path its command line may name too: the local engine would let it write into that folder of yours`, {
      hint: `Capture with an --outputs folder given relative to the working directory, or ${DOCKER_HINT}.`,
    });
  }
  const outputsRel = inside(codeRoot, layout.outputsPath);
  if (outputsRel === null || outputsRel === '') {
    throw new UserInputError('OUTPUTS_OUTSIDE_CODE', `the training writes its outputs to ${layout.outputsPath}, ${outputsRel === '' ? 'the whole' : 'outside the'} code tree the local engine exports (${codeRoot}): replaying here would write into that folder of yours`, {
      hint: `Capture with an --outputs folder inside the working directory, or ${DOCKER_HINT}.`,
    });
  }
  for (const d of layout.data) {
    if (d.source === d.target) continue;
    const rel = inside(codeRoot, d.target);
    if (rel === null) {
      throw new UserInputError('DATA_OUTSIDE_CODE', `the training reads ${d.target}, outside the exported code tree, and the data is at ${d.source} on this host: the local engine does not write outside the replay's folder`, {
        hint: `Put the data at ${d.target} (or a link there to ${d.source}), or replay in a container (--engine docker), which mounts it there.`,
      });
    }
    const holds = rel === '' ? 'is the whole exported code tree' : inside(d.target, layout.workdir) !== null ? "holds the training's working directory" : inside(d.target, layout.outputsPath) !== null ? 'holds the outputs folder' : null;
    if (holds !== null) {
      throw new UserInputError('DATA_TARGET_OVERLAPS_RUN', `data '${d.captured}' (${d.target} in the replay) ${holds}: placing it would put ${d.source}, your own tree, in place of the export, and the training would run and write there`, {
        hint: `Capture only the data files or folders the training reads (--data data/), or ${DOCKER_HINT}.`,
        data: { data: d.captured, target: d.target, source: d.source },
      });
    }
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
  } else {
    const cacheFile = pythonIdentityCache(settings.env);
    await makeDir(dirname(cacheFile)).catch(() => undefined);
    candidates = await findPythons(settings.env, minor, cacheFile);
  }
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
