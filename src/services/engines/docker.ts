// The Docker (and Podman, through its Docker-compatible API) engine behind the replay pipeline:
// builds the snapshot's image from a context streamed in memory, runs the training in a container
// with the data mounted read-only, copies the outputs out through the Engine API, and runs the
// probes inside the image. It holds a ContainerEngine (our own interface), never dockerode.
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { withRecorder } from '../../core/recording.js';
import type { ReloadExecutor, ReloadRunner } from '../../core/reload.js';
import { RELOAD_SCRIPT } from '../../adapters/probes/reload.js';
import { RELOAD_TIMEOUT_MS } from '../reload.js';
import type { ContainerChange, ContainerEngine, ContainerSpec, EngineFacts, GpuRequest, OutputHandlers } from '../../core/container-engine.js';
import { nvidiaSmiQueryArgs } from '../../core/parse/index.js';
import { extractMarked, parseHostProbe } from '../../core/parse/host-probe.js';
import type { Snapshot } from '../../core/model.js';
import type { DoctorCheck, EventSink, PreparedEnvironment, ProbedEnvironment, ReplayBackend, RunRequest, RunResult } from '../../core/replay/backend.js';
import { formatBytes } from '../../core/units.js';
import { assembleGpu } from '../../core/assemble.js';
import { hostGpuChecks } from '../../core/replay/doctor.js';
import { loadCompatTable } from '../../adapters/package-files.js';
import { collectSystem } from '../../adapters/probes/system-probes.js';
import { ExternalError, InterruptedError, UserInputError } from '../../errors.js';
import { freeBytes, readText, removePath } from '../../adapters/fs.js';
import { HOST_PROBE_SCRIPT, parseProbeJson } from '../../adapters/probes/python.js';
import { buildContext, type BuildContext } from '../build-context.js';
import type { ReplaySubject } from '../replay.js';

/** Every container and image we make carries this label: `snapshot prune` finds them by it. */
export const MANAGED_LABEL = 'dev.snapshot.managed';
export const REPLAY_LABEL = 'dev.snapshot.replay';
export const SNAPSHOT_LABEL = 'dev.snapshot.snapshot-id';

/** Inside the image: where the code layer puts the repository (templates/dockerfile/code.tmpl). */
const CODE_ROOT = '/workspace/code';
const ENGINE_TIMEOUT_MS = 5000;
/** Below this much free space where the engine keeps images, a TensorFlow image may not fit. */
const LOW_DISK_BYTES = 10 * 1024 ** 3;
const PROBE_TIMEOUT_MS = 120_000;

export interface DockerReplayOptions {
  engine: ContainerEngine;
  subject: ReplaySubject;
  baseImage?: string;
  pythonFrom?: 'base' | 'apt' | 'uv';
  buildArgs: Record<string, string>;
  network: 'host' | 'default';
  noCache: boolean;
  pull: boolean;
  toolVersion: string;
  /** Bound on each quick git step while the code tree is prepared. */
  gitTimeoutMs: number;
}

/** Build arguments land in the image's history (`docker history --no-trunc`): no credentials in them. */
/** Where the image keeps the recorder, and where the training writes its record in the container. */
const CONTAINER_RECORDER_DIR = '/opt/snapshot/recorder';
const CONTAINER_RECORD_DIR = '/tmp/snapshot-record';
/** The reload check in a container: the baseline's models, the request, and the script's own folder. */
const RELOAD_MODELS = '/tmp/snapshot-reload/models';
const RELOAD_IN = '/tmp/snapshot-reload/request';
const RELOAD_OUT_PARENT = '/tmp';
const RELOAD_OUT = '/tmp/snapshot-reload-out';

export function assertNoCredentials(buildArgs: Record<string, string>): void {
  for (const [key, value] of Object.entries(buildArgs)) {
    // pip takes several URLs separated by spaces: every one is looked at, wherever it sits.
    for (const part of value.split(/\s+/).filter(Boolean)) {
      const userinfo = /^[a-z][a-z0-9+.-]*:\/\/[^/?#\s]*@/i.test(part);
      const secretQuery = /[?&](token|access_token|auth|password|passwd|secret|key|api_key|sig|signature|x-amz-signature|x-goog-signature)=/i.test(part);
      if (userinfo || secretQuery) {
        throw new UserInputError('BUILD_ARG_CREDENTIALS', `--build-arg ${key}: a URL in it carries credentials, and build arguments are kept in the image's history for anyone who has the image`, {
          hint: 'Use an index without credentials (a local mirror), or put them in pip.conf on a mirror the build reaches through --build-network host; never in a build argument.',
        });
      }
    }
  }
}

export class DockerReplay implements ReplayBackend {
  readonly kind = 'docker';
  readonly codeRoot = CODE_ROOT;
  private readonly containers = new Set<string>();
  private context: BuildContext | null = null;
  private facts: EngineFacts | null = null;

  constructor(private readonly options: DockerReplayOptions) {
    assertNoCredentials(options.buildArgs);
  }

  get where(): string {
    return `${this.options.engine.endpoint.display} (${this.options.engine.endpoint.source})`;
  }

  private labels(): Record<string, string> {
    return { [MANAGED_LABEL]: 'true', [REPLAY_LABEL]: this.options.subject.id, [SNAPSHOT_LABEL]: this.options.subject.snapshot.id };
  }

  async check(snapshot: Snapshot, gpus: GpuRequest): Promise<DoctorCheck[]> {
    const result = await dockerChecks(this.options.engine, snapshot, gpus);
    this.facts = result.facts;
    return result.checks;
  }

  async prepare(events: EventSink, signal?: AbortSignal): Promise<PreparedEnvironment> {
    const { subject, engine } = this.options;
    const target = subject.gpus.kind === 'none' ? 'cpu' : 'gpu';
    this.context = await buildContext({
      snapshot: subject.snapshot,
      snapshotPath: subject.snapshotPath,
      repoDir: subject.repository.root,
      baseImage: this.options.baseImage,
      target,
      pythonFrom: this.options.pythonFrom,
      noCode: false,
      commitOnly: false,
      toolVersion: this.options.toolVersion,
      timeoutMs: this.options.gitTimeoutMs,
      signal,
    });
    for (const warning of this.context.warnings) events({ type: 'warning', message: warning });
    const started = performance.now();
    const built = await engine.build(
      this.context.pack() as unknown as import('node:stream').Readable,
      {
        tags: [`snapshot-replay:${subject.snapshot.id.slice(0, 12)}`],
        labels: { [MANAGED_LABEL]: 'true', [SNAPSHOT_LABEL]: subject.snapshot.id },
        buildArgs: this.options.buildArgs,
        network: this.options.network,
        noCache: this.options.noCache,
        pull: this.options.pull,
        dockerfile: 'Dockerfile',
      },
      (event) => events({ type: 'build', kind: event.kind === 'step' ? 'step' : 'output', text: event.text }),
      signal,
    );
    if (signal?.aborted) throw new InterruptedError(signal, 'the build');
    const base = this.context.plan.base.image;
    const baseImage = await engine.inspectImage(base);
    return {
      handle: built.imageId,
      description: `image ${built.imageId.slice(0, 19)} from ${base}`,
      facts: {
        image_id: built.imageId,
        base_image: base,
        // RepoDigests when the base came from a registry, else its image id.
        base_digest: baseImage?.repoDigests[0] ?? baseImage?.id ?? null,
        build_ms: built.durationMs,
        build_wall_ms: Math.round(performance.now() - started),
        code_commit: this.options.subject.repository.commit,
      },
    };
  }

  private async runContainer(spec: Omit<ContainerSpec, 'labels'>, output: OutputHandlers, signal?: AbortSignal) {
    // Known from its creation, so a forced exit (a second Ctrl-C) removes it too.
    const outcome = await this.options.engine.run({ ...spec, labels: this.labels() }, { ...output, onCreated: (id) => this.containers.add(id) }, signal);
    this.containers.add(outcome.containerId);
    return outcome;
  }

  async run(env: PreparedEnvironment, request: RunRequest, output: OutputHandlers, _events: EventSink, signal?: AbortSignal): Promise<RunResult> {
    const outcome = await this.runContainer(
      {
        image: env.handle,
        // The captured command line, through the image's shell as the user typed it.
        command: ['/bin/sh', '-c', request.command],
        workdir: request.workdir,
        env: request.recordTo === null ? request.env : withRecorder(request.env, CONTAINER_RECORDER_DIR, `${CONTAINER_RECORD_DIR}/record.json`),
        mounts: request.data.map((d) => ({ source: d.source, target: d.target, readOnly: true })),
        gpus: request.gpus,
        timeoutMs: request.timeoutMs,
      },
      output,
      signal,
    );
    if (outcome.aborted || signal?.aborted) throw new InterruptedError(signal, 'the training');
    if (request.recordTo !== null) {
      // The record, out of the container beside the outputs; none there is said by the pipeline.
      await this.options.engine.copyOut(outcome.containerId, CONTAINER_RECORD_DIR, request.recordTo, { maxBytes: 64 * 1024 * 1024, maxEntries: 16, onSkip: () => undefined }).catch(() => undefined);
    }
    let outputs: RunResult['outputs'] = null;
    const skipped: Array<{ path: string; why: string }> = [];
    try {
      outputs = await this.options.engine.copyOut(outcome.containerId, request.outputsPath, request.collectTo, {
        maxBytes: request.maxOutputBytes,
        maxEntries: request.maxOutputFiles,
        onSkip: (path, why) => skipped.push({ path, why }),
      });
    } catch (error) {
      // No outputs folder in the container: the comparison then finds every baseline output missing.
      if (!(error instanceof ExternalError && error.code === 'OUTPUT_MISSING')) throw error;
    }
    // The code layer holds the whole commit: a file in the outputs folder that the training did not
    // write is the commit's copy, and would compare equal to a baseline it was copied from.
    let untouched: string[] = [];
    if (outputs !== null) {
      const written = writtenUnder(await this.options.engine.changes(outcome.containerId), request.outputsPath);
      untouched = outputs.filter((f) => !written.has(f.path)).map((f) => f.path);
      for (const path of untouched) await removePath(join(request.collectTo, ...path.split('/')));
      outputs = outputs.filter((f) => written.has(f.path));
    }
    await this.removeContainer(outcome.containerId);
    return { exitCode: outcome.exitCode, signal: null, oomKilled: outcome.oomKilled, timedOut: outcome.timedOut, startedAt: outcome.startedAt, durationMs: outcome.durationMs, outputs, untouched, skipped };
  }

  async probe(env: PreparedEnvironment, gpus: GpuRequest, runEnv: Record<string, string>, signal?: AbortSignal): Promise<ProbedEnvironment> {
    // With the training's own environment: a PYTHONPATH or a device setting passed with --env
    // changes what Python sees, and the record must say what the training saw.
    const capture = async (command: string[], what: string): Promise<string> => {
      const chunks: Buffer[] = [];
      const errors: Buffer[] = [];
      const outcome = await this.runContainer(
        { image: env.handle, command, workdir: '/', env: runEnv, mounts: [], gpus, timeoutMs: PROBE_TIMEOUT_MS },
        { onStdout: (c) => chunks.push(c), onStderr: (c) => errors.push(c) },
        signal,
      );
      await this.removeContainer(outcome.containerId);
      if (outcome.aborted || signal?.aborted) throw new InterruptedError(signal, 'probing');
      if (outcome.exitCode !== 0) throw new ExternalError('PROBE_FAILED', `the ${what} failed inside the image (exit ${outcome.exitCode ?? '?'}): ${Buffer.concat(errors).toString('utf8').trim().split('\n').slice(-1)[0] ?? ''}`, { hint: 'Run it by hand in the image to see why.' });
      return Buffer.concat(chunks).toString('utf8');
    };
    const marker = `SNAPSHOT-PROBE-${randomBytes(8).toString('hex')}`;
    const python = parseProbeJson(await capture(['python', '/opt/snapshot/snapshot_probe.py', '--marker', marker], 'environment probe'), marker);
    if (python === null) throw new ExternalError('PROBE_FAILED', 'the environment probe inside the image printed no answer', { hint: 'Run python /opt/snapshot/snapshot_probe.py in the image to see why.' });
    // The host probe travels as an argument: any image with a Python runs it, nothing is added to the image.
    const hostMarker = `SNAPSHOT-HOST-${randomBytes(8).toString('hex')}`;
    const script = await readText(HOST_PROBE_SCRIPT, 'the host probe', 256 * 1024);
    const host = parseHostProbe(extractMarked(await capture(['python', '-c', script, '--marker', hostMarker, '--nvidia-smi-query', ...nvidiaSmiQueryArgs()], 'host probe'), hostMarker));
    if (host === null) throw new ExternalError('PROBE_FAILED', 'the host probe inside the image printed no answer', { hint: 'Check that python runs in the image.' });
    // What the training had: the image's own ENV (its base's included), then ours on top.
    const image = await this.options.engine.inspectImage(env.handle);
    return { python, host, env: { ...parseEnvList(image?.env ?? []), ...runEnv } };
  }

  /**
   * The reload script in a container of the image: the baseline's models mounted read-only, the
   * request beside them, the script's folder copied out into ours. A remote engine cannot mount
   * our files: then it is not run.
   */
  reloader(env: PreparedEnvironment, modelsRoot: string, runEnv: Record<string, string>, gpus: GpuRequest): ReloadRunner | { unavailable: string } {
    if (this.facts !== null && !this.facts.local) return { unavailable: "the engine is remote, and its containers cannot mount the baseline's models from this machine" };
    const execute: ReloadExecutor = async ({ requestPath, outDir }, signal) => {
      const script = await readText(RELOAD_SCRIPT, 'the reload script', 256 * 1024);
      // Only the tail is kept: the last line says why it failed, and a model that prints while it loads must not fill memory.
      let errorTail = '';
      // The script travels as an argument, as the host probe does: nothing is added to the image.
      const outcome = await this.runContainer(
        {
          image: env.handle,
          command: ['/bin/sh', '-c', `mkdir -p ${RELOAD_OUT} && exec python -B -c "$1" --request ${RELOAD_IN}/request.json --out ${RELOAD_OUT}`, 'sh', script],
          workdir: RELOAD_OUT_PARENT,
          env: { ...runEnv, TF_CPP_MIN_LOG_LEVEL: '3' },
          mounts: [
            { source: modelsRoot, target: RELOAD_MODELS, readOnly: true },
            { source: dirname(requestPath), target: RELOAD_IN, readOnly: true },
          ],
          gpus,
          timeoutMs: RELOAD_TIMEOUT_MS,
        },
        { onStdout: () => undefined, onStderr: (c) => (errorTail = (errorTail + c.toString('utf8')).slice(-16 * 1024)) },
        signal,
      );
      if (outcome.aborted || signal?.aborted) {
        await this.removeContainer(outcome.containerId).catch(() => undefined);
        return { outcome: 'aborted', durationMs: outcome.durationMs };
      }
      try {
        await this.options.engine.copyOut(outcome.containerId, RELOAD_OUT, outDir, { maxBytes: 256 * 1024 * 1024, maxEntries: 1000, onSkip: () => undefined });
      } catch (error) {
        // No folder: the script never ran; what it did not write is said per model.
        if (!(error instanceof ExternalError && error.code === 'OUTPUT_MISSING')) throw error;
      } finally {
        await this.removeContainer(outcome.containerId).catch(() => undefined);
      }
      const last = errorTail.trim().split('\n').slice(-1)[0] ?? '';
      if (outcome.timedOut) return { outcome: 'timeout', reason: `the reload ran past ${RELOAD_TIMEOUT_MS / 1000} s and was stopped`, durationMs: outcome.durationMs };
      if (outcome.exitCode !== 0) return { outcome: 'failed', reason: `the reload exited ${outcome.exitCode ?? '?'}${outcome.oomKilled ? ' (out of memory)' : ''}${last ? `: ${last.slice(0, 300)}` : ''}`, durationMs: outcome.durationMs };
      return { outcome: 'ok', durationMs: outcome.durationMs };
    };
    return { execute, modelPath: (model) => (model.name === '.' ? RELOAD_MODELS : `${RELOAD_MODELS}/${model.name}`) };
  }

  private async removeContainer(id: string): Promise<void> {
    await this.options.engine.remove(id);
    this.containers.delete(id);
  }

  async dispose(): Promise<void> {
    for (const id of [...this.containers]) await this.removeContainer(id).catch(() => undefined);
    await this.context?.dispose().catch(() => undefined);
    this.context = null;
  }

  /** For doctor without a build: the engine's facts as last read. */
  get engineFacts(): EngineFacts | null {
    return this.facts;
  }
}

/**
 * doctor's checks of a Docker engine, for a snapshot or none: it answers (a one-line error within
 * seconds when it does not), its runtimes against the GPUs asked for, a remote engine's mounts, the
 * architecture, free disk, and on a local engine the host's GPUs and driver against the snapshot's needs.
 */
export async function dockerChecks(engine: ContainerEngine, snapshot: Snapshot | null, gpus: GpuRequest): Promise<{ facts: EngineFacts; checks: DoctorCheck[] }> {
  const facts = await engine.facts(ENGINE_TIMEOUT_MS);
  const where = `${engine.endpoint.display} (${engine.endpoint.source})`;
  const checks: DoctorCheck[] = [{ name: 'engine', status: 'ok', message: `${facts.flavour} ${facts.serverVersion} (API ${facts.apiVersion}) at ${where}, ${facts.os} ${facts.architecture}, ${facts.cpus} CPUs, ${formatBytes(facts.memoryBytes)}` }];
  if (snapshot !== null) checks.push(...engineChecks(facts, snapshot, gpus, snapshot.data.length > 0));
  else checks.push({ name: 'gpu runtime', status: facts.runtimes.includes('nvidia') ? 'ok' : 'warn', message: facts.runtimes.includes('nvidia') ? 'the NVIDIA runtime is there' : `no NVIDIA runtime (runtimes: ${facts.runtimes.join(', ') || 'none'}): containers get no GPUs here` });
  if (facts.local && facts.dockerRootDir !== null) {
    const free = await freeBytes(facts.dockerRootDir);
    if (free !== null) checks.push({ name: 'disk', status: free < LOW_DISK_BYTES ? 'warn' : 'ok', message: `${formatBytes(free)} free in ${facts.dockerRootDir}${free < LOW_DISK_BYTES ? ': a framework image may not fit' : ''}` });
  }
  // The GPUs and driver are the engine's host's: only a local engine's host is this machine.
  if (snapshot !== null && facts.local && gpus.kind !== 'none' && snapshot.gpu.available) {
    const [raw, table] = await Promise.all([collectSystem(ENGINE_TIMEOUT_MS), loadCompatTable()]);
    checks.push(...hostGpuChecks(snapshot, assembleGpu(raw, { headers: [], libraries: [], wheels: [] }), table, true));
  }
  return { facts, checks };
}

/** KEY=VALUE lines (an image's Config.Env) as a record; malformed lines are skipped. */
export function parseEnvList(lines: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of lines) {
    const at = typeof line === 'string' ? line.indexOf('=') : -1;
    if (at > 0) out[line.slice(0, at)] = line.slice(at + 1);
  }
  return out;
}

/**
 * The files the container wrote (added or changed) under a folder, as paths relative to it. The
 * changes list names every folder on the way too; only what is under `folder` counts.
 */
export function writtenUnder(changes: readonly ContainerChange[], folder: string): Set<string> {
  const prefix = folder.endsWith('/') ? folder : `${folder}/`;
  return new Set(changes.filter((c) => c.kind !== 'deleted' && c.path.startsWith(prefix)).map((c) => c.path.slice(prefix.length)));
}

/** The checks that follow from the engine's facts alone: GPUs, a remote engine's mounts, the architecture. */
export function engineChecks(facts: EngineFacts, snapshot: Snapshot, gpus: GpuRequest, hasData: boolean): DoctorCheck[] {
  const checks: DoctorCheck[] = [];
  if (gpus.kind !== 'none') {
    const nvidia = facts.runtimes.includes('nvidia');
    checks.push(
      nvidia
        ? { name: 'gpu runtime', status: 'ok', message: `the NVIDIA runtime is there (${facts.runtimes.join(', ')})` }
        : { name: 'gpu runtime', status: 'fail', message: `the snapshot needs GPUs (--gpus ${gpus.kind}) but this engine has no NVIDIA runtime (runtimes: ${facts.runtimes.join(', ') || 'none'}): install the NVIDIA Container Toolkit on the engine's host, or pass --gpus none to replay on CPU` },
    );
  } else if (snapshot.gpu.available) {
    checks.push({ name: 'gpu runtime', status: 'warn', message: 'replaying on CPU (--gpus none) a snapshot captured on GPUs: the comparison crosses hardware classes' });
  }
  if (!facts.local && hasData) {
    checks.push({ name: 'data mounts', status: 'fail', message: 'the engine is remote, and its containers cannot mount data from this machine' + ': run replay on the engine\'s host (or with a local engine there)' });
  }
  const arch = facts.architecture === 'amd64' ? 'x86_64' : facts.architecture === 'arm64' ? 'aarch64' : facts.architecture;
  if (arch !== snapshot.system.arch) {
    checks.push({ name: 'architecture', status: 'warn', message: `the engine runs ${arch}, the snapshot was captured on ${snapshot.system.arch}: wheels and kernels differ, and an image built for one may not run on the other` });
  }
  return checks;
}
