// The one module that talks to a Docker (or Podman) engine: a ContainerEngine over dockerode.
// Each connectEngine() call gives an engine value of its own, so several can exist at once; every
// failure leaves here as a SnapshotError with a stable code and a hint, never a library error.
// dockerode (with ssh2 and docker-modem) takes a quarter second to load: loaded on first connect,
// so a local replay, show or compare never pays for it.
import type Docker from 'dockerode';
import type { IncomingMessage } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { join } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import type {
  BuildEvent,
  BuildOptions,
  BuildResult,
  ContainerChange,
  ContainerEngine,
  CopyOutOptions,
  ContainerOutcome,
  ContainerSpec,
  EngineFacts,
  ExtractedFile,
  ImageFacts,
  OutputHandlers,
  ResolvedEndpoint,
} from '../core/container-engine.js';
import { contextPaths, dockerConfigDir, resolveEndpoint, selectContext, TLS_FILES, unreachableHint, type Env } from '../core/docker-endpoint.js';
import { ExternalError, InternalError, InterruptedError, SnapshotError, UserInputError } from '../errors.js';
import { filesPresent, readOptionalText } from './fs.js';
import { extractTarSafely } from './tar-extract.js';

export interface ConnectOptions {
  /** The --docker-host flag, when given. */
  dockerHost?: string | undefined;
  env: Env;
  homeDir: string;
}

/** A bound on the small calls (inspect, list, remove, kill): an engine that stops answering is an error, not a hang. */
const CALL_TIMEOUT_MS = 60_000;
/** How long a container's output may still arrive after it exited before we stop waiting for it. */
const OUTPUT_DRAIN_MS = 5_000;
/** A container's archive that stops moving for this long is given up. */
const OUTPUT_IDLE_MS = 60_000;
const LOG_TAIL_LINES = 20;
/** One output line longer than this is passed on in pieces (a progress bar without newlines). */
const MAX_LINE = 64 * 1024;

/** Decides the endpoint as the docker CLI would, reading only the files the decision needs. */
export async function resolveDockerEndpoint(options: ConnectOptions): Promise<ResolvedEndpoint> {
  const { env } = options;
  const configDir = dockerConfigDir(env, options.homeDir);
  const decidedByHost = options.dockerHost !== undefined || (env.DOCKER_HOST ?? '').trim() !== '';
  const readConfig = !decidedByHost && (env.DOCKER_CONTEXT ?? '').trim() === '';
  const configJson = readConfig ? await readOptionalText(join(configDir, 'config.json'), 'the docker CLI config') : null;
  const base = { flag: options.dockerHost, env, configDir, configJson };
  const selected = decidedByHost ? null : selectContext(base);
  let context = null;
  if (selected !== null) {
    const { metaPath, tlsDir } = contextPaths(configDir, selected.name);
    context = { name: selected.name, metaJson: await readOptionalText(metaPath, `docker context ${selected.name}`), tlsFiles: await filesPresent(tlsDir, TLS_FILES) };
  }
  return resolveEndpoint({ ...base, context });
}

/** Connects (lazily: nothing is sent until the first call; facts() is the check that it answers). */
export async function connectEngine(options: ConnectOptions): Promise<ContainerEngine> {
  const endpoint = await resolveDockerEndpoint(options);
  return new DockerEngine(endpoint, await dockerodeFor(endpoint, options.env));
}

async function dockerodeFor(resolved: ResolvedEndpoint, env: Env): Promise<Docker> {
  const { endpoint } = resolved;
  let options: Docker.DockerOptions & { agent?: HttpsAgent };
  switch (endpoint.kind) {
    case 'unix':
      options = { socketPath: endpoint.socketPath };
      break;
    case 'tcp': {
      options = { host: endpoint.host, port: endpoint.port, protocol: 'http' };
      if (endpoint.tls !== null) {
        const read = async (name: string) => (endpoint.tls?.certPath ? ((await readOptionalText(join(endpoint.tls.certPath, name), `the TLS file for ${resolved.source}`)) ?? undefined) : undefined);
        const [ca, cert, key] = await Promise.all(TLS_FILES.map(read));
        // The agent carries the TLS settings: docker-modem has no way to skip verification itself.
        options = { ...options, protocol: 'https', agent: new HttpsAgent({ ca, cert, key, rejectUnauthorized: endpoint.tls.verify }) };
      }
      break;
    }
    case 'ssh':
      options = { host: endpoint.host, port: endpoint.port ?? 22, protocol: 'ssh', username: endpoint.user ?? env.USER, sshOptions: { agent: env.SSH_AUTH_SOCK } };
      break;
  }
  const { default: DockerClient } = await import('dockerode');
  return withoutDockerEnv(() => new DockerClient(options));
}

// docker-modem reads DOCKER_HOST, DOCKER_CERT_PATH (reading certificate files) and more from
// process.env on every construction and lets them override what it is given (its ssh options
// among them). The endpoint was decided from the env we were handed; hide the process's for the
// synchronous constructor call only.
const MODEM_ENV = ['DOCKER_HOST', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'DOCKER_CLIENT_TIMEOUT', 'DOCKER_PATH_PREFIX'];
function withoutDockerEnv<T>(make: () => T): T {
  const saved = new Map<string, string | undefined>();
  for (const key of MODEM_ENV) {
    saved.set(key, process.env[key]);
    delete process.env[key];
  }
  try {
    return make();
  } finally {
    for (const [key, value] of saved) if (value !== undefined) process.env[key] = value;
  }
}

interface ModemError {
  statusCode?: number;
  code?: string;
  json?: { message?: string } | null;
  message?: string;
  level?: string;
}

const CONNECTION_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'the connection was reset',
  EPIPE: 'the connection was closed',
  EACCES: 'permission denied on the socket',
  EPERM: 'permission denied on the socket',
  ETIMEDOUT: 'the connection timed out',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name does not resolve (DNS did not answer)',
  ECONNABORTED: 'the connection was aborted',
  ENOTSOCK: 'the path is not a socket',
};

/** The engine's own words for an HTTP error, without docker-modem's "(HTTP code 500) server error - " wrapping. */
function engineMessage(error: unknown): string {
  const e = error as ModemError;
  const text = e.json?.message ?? e.message ?? String(error);
  return oneLine(text.replace(/^\(HTTP code \d+\) [^-]*- /, ''));
}

function statusOf(error: unknown): number | undefined {
  return (error as ModemError | null)?.statusCode;
}

class DockerEngine implements ContainerEngine {
  constructor(
    readonly endpoint: ResolvedEndpoint,
    private readonly docker: Docker,
  ) {}

  /** ENGINE_UNREACHABLE for a connection that failed; null when the engine answered (with an error). */
  private unreachable(error: unknown, timedOutAfterMs?: number): ExternalError | null {
    const e = error as ModemError;
    let why: string | null = null;
    if (timedOutAfterMs !== undefined) why = `no answer within ${timedOutAfterMs} ms`;
    else if (e?.code === 'ENOENT' && this.endpoint.endpoint.kind === 'unix') why = `no socket at ${this.endpoint.endpoint.socketPath}`;
    else if (e?.code !== undefined && CONNECTION_CODES[e.code] !== undefined) why = CONNECTION_CODES[e.code] as string;
    else if (e?.code !== undefined && /^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED)/.test(e.code)) why = `TLS failed: ${oneLine(e.message ?? e.code)}`;
    else if (e?.level === 'client-authentication' || e?.level === 'client-socket' || e?.level === 'client-timeout') why = `ssh failed: ${oneLine(e.message ?? '')}`;
    if (why === null) return null;
    const hint = e?.code === 'EACCES' || e?.code === 'EPERM' ? `Add your user to the engine's group (often \`docker\`) or use a rootless engine's socket. ${unreachableHint(this.endpoint)}` : unreachableHint(this.endpoint);
    return new ExternalError('ENGINE_UNREACHABLE', `cannot reach the Docker engine at ${this.endpoint.display} (${this.endpoint.source}): ${why}`, {
      hint,
      data: { endpoint: this.endpoint.display, source: this.endpoint.source },
      cause: error,
    });
  }

  /** Any failure of a call, as a SnapshotError: unreachable, interrupted, or the engine's refusal. */
  private failure(error: unknown, what: string, signal?: AbortSignal, timeout?: { signal: AbortSignal; ms: number }): SnapshotError {
    if (error instanceof SnapshotError) return error;
    if (signal?.aborted) return new InterruptedError(signal, what);
    const timedOut = timeout?.signal.aborted ? timeout.ms : undefined;
    const unreachable = this.unreachable(error, timedOut);
    if (unreachable !== null) return unreachable;
    return new ExternalError('ENGINE_ERROR', `the Docker engine at ${this.endpoint.display} failed to ${what}: ${engineMessage(error)}`, {
      hint: 'The engine refused the request; its message says why. Check `docker info` and the engine\'s logs if it is not clear.',
      data: { status: statusOf(error) },
      cause: error,
    });
  }

  /** A small call, bounded in time. */
  private async call<T>(what: string, action: (abortSignal: AbortSignal) => Promise<T>, ms = CALL_TIMEOUT_MS): Promise<T> {
    const controller = new AbortController();
    const signal = controller.signal;
    let timer: NodeJS.Timeout | undefined;
    // Raced, not only signalled: some dockerode calls (attach) ignore the signal, and an engine
    // that accepts the connection but never answers must not hang a replay.
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new Error(`no answer within ${ms} ms`));
      }, ms);
    });
    try {
      return await Promise.race([action(signal), expired]);
    } catch (error) {
      throw this.failure(error, what, undefined, { signal, ms });
    } finally {
      clearTimeout(timer);
    }
  }

  async facts(timeoutMs: number): Promise<EngineFacts> {
    const signal = AbortSignal.timeout(timeoutMs);
    let version: Docker.DockerVersion;
    let info: Record<string, unknown>;
    // dockerode takes an abort signal on these too; its types do not say so.
    const docker = this.docker as unknown as Record<'ping' | 'version' | 'info', (options: { abortSignal: AbortSignal }) => Promise<unknown>>;
    try {
      await docker.ping.call(this.docker, { abortSignal: signal });
      [version, info] = (await Promise.all([docker.version.call(this.docker, { abortSignal: signal }), docker.info.call(this.docker, { abortSignal: signal })])) as [Docker.DockerVersion, Record<string, unknown>];
    } catch (error) {
      const unreachable = this.unreachable(error, signal.aborted ? timeoutMs : undefined);
      if (unreachable !== null) throw unreachable;
      // It answered, but not as a Docker engine should (a proxy's error page, a server error).
      throw new ExternalError('ENGINE_UNREACHABLE', `the Docker engine at ${this.endpoint.display} (${this.endpoint.source}) does not answer properly: ${engineMessage(error)}`, {
        hint: unreachableHint(this.endpoint),
        data: { endpoint: this.endpoint.display, source: this.endpoint.source, status: statusOf(error) },
        cause: error,
      });
    }
    const components = (version as { Components?: Array<{ Name?: string }> }).Components ?? [];
    const runtimes = info.Runtimes !== null && typeof info.Runtimes === 'object' ? Object.keys(info.Runtimes as object).sort() : [];
    return {
      serverVersion: String(version.Version ?? ''),
      apiVersion: String(version.ApiVersion ?? ''),
      os: String(version.Os ?? info.OSType ?? ''),
      kernel: String(version.KernelVersion ?? info.KernelVersion ?? ''),
      architecture: String(version.Arch ?? info.Architecture ?? ''),
      cpus: Number(info.NCPU ?? 0),
      memoryBytes: Number(info.MemTotal ?? 0),
      runtimes,
      defaultRuntime: typeof info.DefaultRuntime === 'string' ? info.DefaultRuntime : null,
      dockerRootDir: typeof info.DockerRootDir === 'string' ? info.DockerRootDir : null,
      local: this.endpoint.endpoint.kind === 'unix',
      flavour: components.some((c) => /podman/i.test(c.Name ?? '')) ? 'podman' : 'docker',
    };
  }

  async build(context: Readable, options: BuildOptions, onEvent: (event: BuildEvent) => void, signal?: AbortSignal): Promise<BuildResult> {
    if (signal?.aborted) throw new InterruptedError(signal, 'the image build');
    const started = performance.now();
    // Our own controller: the first error event aborts the request as Ctrl-C does.
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    let contextError: unknown = null;
    context.once('error', (error) => {
      contextError = error;
    });
    const query = {
      ...(options.tags.length > 0 ? { t: options.tags } : {}),
      dockerfile: options.dockerfile,
      labels: options.labels,
      buildargs: options.buildArgs,
      networkmode: options.network,
      nocache: options.noCache,
      pull: options.pull,
      rm: true,
      // Intermediate containers go even when a step fails: nothing is left behind.
      forcerm: true,
      // The classic builder streams "Step n/m" and errors as JSON lines; BuildKit would need a session.
      version: '1' as const,
      abortSignal: controller.signal,
    };
    try {
      let response: IncomingMessage;
      try {
        // dockerode types t as one string; the API (and docker-modem's query) takes several.
        response = (await this.docker.buildImage(context, query as unknown as Docker.ImageBuildOptions)) as IncomingMessage;
      } catch (error) {
        if (contextError !== null) throw contextFailed(contextError);
        const failed = this.failure(error, 'build the image', signal);
        if (failed.code === 'ENGINE_ERROR') throw buildFailed(null, engineMessage(error), []);
        throw failed;
      }
      const imageId = await followBuild(response, onEvent, controller, signal, () => contextError);
      const full = imageId.startsWith('sha256:') ? imageId : ((await this.inspectImage(imageId))?.id ?? imageId);
      return { imageId: full, durationMs: Math.round(performance.now() - started) };
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async pullable(ref: string, timeoutMs: number): Promise<string | null> {
    try {
      const image = this.docker.getImage(ref) as unknown as { distribution(options: { abortSignal: AbortSignal }): Promise<unknown> };
      await image.distribution({ abortSignal: AbortSignal.timeout(timeoutMs) });
      return null;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return `no registry gives ${ref} within ${Math.round(timeoutMs / 1000)} s (${message.replace(/\s+/g, ' ').slice(0, 200)})`;
    }
  }

  async inspectImage(ref: string): Promise<ImageFacts | null> {
    try {
      const image = await this.call(`inspect image ${ref}`, (abortSignal) => this.docker.getImage(ref).inspect({ abortSignal } as Docker.ImageInspectOptions));
      return {
        id: image.Id,
        repoDigests: image.RepoDigests ?? [],
        repoTags: image.RepoTags ?? [],
        labels: image.Config?.Labels ?? {},
        sizeBytes: image.Size,
        env: image.Config?.Env ?? [],
      };
    } catch (error) {
      if (statusOf((error as SnapshotError).cause) === 404) return null;
      throw error;
    }
  }

  async run(spec: ContainerSpec, output: OutputHandlers, signal?: AbortSignal): Promise<ContainerOutcome> {
    const body = createBody(spec);
    if (signal?.aborted) throw new InterruptedError(signal, 'the container run');
    let container: Docker.Container;
    try {
      container = await this.call('create the container', (abortSignal) => this.docker.createContainer({ ...body, abortSignal }));
    } catch (error) {
      throw runFailure(error, spec, 'create');
    }
    output.onCreated?.(container.id);
    // Bounded too: an engine that stopped answering must not hold the error that says so.
    const discard = () => this.call(`remove container ${container.id}`, (abortSignal) => container.remove({ force: true, v: true, abortSignal })).catch(() => undefined);
    let stoppedBy: 'timeout' | 'aborted' | null = null;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      // Attached before start, so not a byte of output is missed. (No abort signal: it would cut
      // the attached stream when the call's bound ends, not just the request.)
      const stream = (await this.call('attach to the container', () => container.attach({ stream: true, stdout: true, stderr: true }))) as unknown as Readable;
      const drained = new Promise<void>((resolve) => {
        stream.once('end', resolve);
        stream.once('close', resolve);
        stream.once('error', () => resolve());
      });
      this.docker.modem.demuxStream(stream, sink(output.onStdout), sink(output.onStderr));
      if (signal?.aborted) throw new InterruptedError(signal, 'the container run');
      try {
        await this.call('start the container', (abortSignal) => container.start({ abortSignal }));
      } catch (error) {
        stream.destroy();
        throw runFailure(error, spec, 'start');
      }
      const started = performance.now();
      // Once we kill, the container must be gone within CALL_TIMEOUT_MS, or the wait is given up:
      // an engine that cannot stop a container must not hang a replay.
      let killStuck: (error: Error) => void = () => undefined;
      const stuck = new Promise<never>((_, reject) => (killStuck = reject));
      let stuckTimer: NodeJS.Timeout | undefined;
      const stop = (why: 'timeout' | 'aborted') => {
        if (stoppedBy !== null) return;
        stoppedBy = why;
        // An already exited container answers 409: nothing to stop.
        void container.kill({ abortSignal: AbortSignal.timeout(CALL_TIMEOUT_MS) }).catch(() => undefined);
        stuckTimer = setTimeout(
          () => killStuck(new ExternalError('CONTAINER_STUCK', `the container ${container.id.slice(0, 12)} did not stop within ${CALL_TIMEOUT_MS} ms of being killed`, { hint: 'Check the engine (`docker ps`, its logs); remove the container by hand if it stays.' })),
          CALL_TIMEOUT_MS,
        );
      };
      if (spec.timeoutMs !== null) timer = setTimeout(() => stop('timeout'), spec.timeoutMs);
      if (signal !== undefined) {
        onAbort = () => stop('aborted');
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      }
      // Unbounded until a stop: the timeout or the signal ends the wait (by ending the container).
      try {
        await Promise.race([container.wait(), stuck]);
      } catch (error) {
        stream.destroy();
        throw this.failure(error, 'wait for the container');
      } finally {
        clearTimeout(stuckTimer);
      }
      const durationMs = Math.round(performance.now() - started);
      let drainTimer: NodeJS.Timeout | undefined;
      await Promise.race([drained, new Promise<void>((resolve) => (drainTimer = setTimeout(resolve, OUTPUT_DRAIN_MS)))]);
      clearTimeout(drainTimer);
      stream.destroy();
      const state = (await this.call('inspect the container', (abortSignal) => container.inspect({ abortSignal } as Docker.ContainerInspectOptions))).State;
      return {
        containerId: container.id,
        exitCode: typeof state.ExitCode === 'number' ? state.ExitCode : null,
        oomKilled: state.OOMKilled === true,
        timedOut: stoppedBy === 'timeout',
        aborted: stoppedBy === 'aborted',
        startedAt: state.StartedAt,
        durationMs,
      };
    } catch (error) {
      // Thrown before an outcome: the caller has no id to remove, so the container goes now.
      await discard();
      throw error;
    } finally {
      clearTimeout(timer);
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
    }
  }

  async copyOut(containerId: string, pathInContainer: string, destDir: string, options: CopyOutOptions = {}): Promise<ExtractedFile[]> {
    if (!pathInContainer.startsWith('/')) throw new InternalError(`copyOut needs an absolute path in the container, not ${pathInContainer}`);
    let archive: Readable;
    // The bound is on the answer's start only: a signal handed to the request would also cut the
    // archive's stream when it fires, and a large checkpoint takes longer than any call bound.
    // While it streams, it must keep moving (OUTPUT_IDLE_MS without a byte ends it).
    try {
      archive = (await this.call(`copy ${pathInContainer} out of the container`, () => this.docker.getContainer(containerId).getArchive({ path: pathInContainer }))) as unknown as Readable;
    } catch (error) {
      if (statusOf((error as SnapshotError).cause) === 404) {
        throw new ExternalError('OUTPUT_MISSING', `the container has no ${pathInContainer} to copy out`, {
          hint: 'The command did not write its outputs there; check its output paths and its log.',
          data: { path: pathInContainer },
        });
      }
      throw error;
    }
    return extractTarSafely(archive, destDir, { stripFirst: true, what: `the container's ${pathInContainer}`, maxBytes: options.maxBytes, maxEntries: options.maxEntries, onSkip: options.onSkip, idleMs: OUTPUT_IDLE_MS });
  }

  async changes(containerId: string): Promise<ContainerChange[]> {
    const answer = await this.call(`list the changes of container ${containerId}`, (abortSignal) => {
      const container = this.docker.getContainer(containerId) as unknown as { changes(options: object): Promise<unknown> };
      return container.changes({ abortSignal });
    });
    // The engine answers JSON (null for no change); docker-modem parses it only when the answer
    // says it is JSON, so raw bytes or text are parsed here. Anything else counts as no change:
    // then no output counts as written, which can only make a verdict stricter.
    let listed: unknown = answer;
    if (Buffer.isBuffer(listed) || typeof listed === 'string') {
      try {
        listed = JSON.parse(String(listed));
      } catch {
        listed = null;
      }
    }
    if (!Array.isArray(listed)) return [];
    const kinds: Record<number, ContainerChange['kind']> = { 0: 'changed', 1: 'added', 2: 'deleted' };
    return (listed as Array<{ Path?: unknown; Kind?: unknown }>).flatMap((c) => (typeof c?.Path === 'string' && typeof c.Kind === 'number' && kinds[c.Kind] !== undefined ? [{ path: c.Path, kind: kinds[c.Kind] as ContainerChange['kind'] }] : []));
  }

  async remove(containerId: string): Promise<void> {
    try {
      await this.call(`remove container ${containerId}`, (abortSignal) => this.docker.getContainer(containerId).remove({ force: true, v: true, abortSignal }));
    } catch (error) {
      const status = statusOf((error as SnapshotError).cause);
      // Gone already, or being removed (a second remove while the first runs).
      if (status === 404 || (status === 409 && /already in progress/i.test(engineMessage((error as SnapshotError).cause)))) return;
      throw error;
    }
  }

  async listLabelled(labels: Record<string, string>): Promise<{ containers: string[]; running: string[]; images: string[] }> {
    const label = Object.entries(labels).map(([key, value]) => `${key}=${value}`);
    // No label at all would list (and a sweep remove) everything on the engine.
    if (label.length === 0) throw new InternalError('listLabelled needs at least one label');
    const filters = { label };
    const [containers, images] = await Promise.all([
      this.call('list containers', (abortSignal) => this.docker.listContainers({ all: true, filters, abortSignal })),
      this.call('list images', (abortSignal) => this.docker.listImages({ filters, abortSignal })),
    ]);
    return { containers: containers.map((c) => c.Id).sort(), running: containers.filter((c) => c.State === 'running').map((c) => c.Id).sort(), images: images.map((i) => i.Id).sort() };
  }

  async removeImage(id: string): Promise<void> {
    try {
      await this.call(`remove image ${id}`, (abortSignal) => this.docker.getImage(id).remove({ force: true, abortSignal }));
    } catch (error) {
      if (statusOf((error as SnapshotError).cause) === 404) return;
      throw error;
    }
  }
}

/** The create request: only what the spec says, so nothing from our own environment leaks in. */
function createBody(spec: ContainerSpec): Docker.ContainerCreateOptions {
  if (spec.command.length === 0) throw new InternalError('a container needs a command');
  const env = Object.entries(spec.env).map(([key, value]) => {
    if (key === '' || key.includes('=') || key.includes('\0') || value.includes('\0')) {
      throw new UserInputError('CONTAINER_ENV_INVALID', `the environment variable ${JSON.stringify(key)} cannot be given to a container`, {
        hint: 'Names must be non-empty without "=", and neither name nor value may hold a NUL byte.',
      });
    }
    return `${key}=${value}`;
  });
  for (const mount of spec.mounts) {
    if (!mount.source.startsWith('/') || !mount.target.startsWith('/')) {
      throw new UserInputError('CONTAINER_MOUNT_INVALID', `the mount ${mount.source} -> ${mount.target} needs absolute paths on both sides`, { hint: 'Give absolute paths.' });
    }
  }
  const gpus = spec.gpus;
  const deviceRequests: Docker.DeviceRequest[] =
    gpus.kind === 'none'
      ? []
      : [{ Driver: '', Capabilities: [['gpu']], ...(gpus.kind === 'all' ? { Count: -1 } : gpus.kind === 'count' ? { Count: gpus.count } : { DeviceIDs: gpus.ids }) }];
  return {
    Image: spec.image,
    Cmd: spec.command,
    WorkingDir: spec.workdir,
    Env: env,
    Labels: spec.labels,
    Tty: false,
    OpenStdin: false,
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    ...(spec.name !== undefined ? { name: spec.name } : {}),
    HostConfig: {
      Mounts: spec.mounts.map((m) => ({ Type: 'bind' as const, Source: m.source, Target: m.target, ReadOnly: m.readOnly })),
      ...(deviceRequests.length > 0 ? { DeviceRequests: deviceRequests } : {}),
      ...(spec.memoryBytes !== undefined ? { Memory: spec.memoryBytes, MemorySwap: spec.memoryBytes } : {}),
    },
  };
}

/** A create or start that failed: a GPU the engine cannot give, a missing image, a command that cannot run. */
function runFailure(error: unknown, spec: ContainerSpec, step: 'create' | 'start'): SnapshotError {
  if (!(error instanceof SnapshotError) || error.code !== 'ENGINE_ERROR') return error instanceof SnapshotError ? error : InternalError.from(error);
  const message = engineMessage(error.cause);
  if (/could not select device driver .* with capabilities: \[\[gpu\]\]/.test(message)) {
    return new ExternalError('GPU_RUNTIME_MISSING', 'this engine cannot give containers GPUs (no NVIDIA runtime)', {
      hint: "install the NVIDIA Container Toolkit on the engine's host, or pass --gpus none to replay on CPU",
      data: { engineMessage: message, gpus: spec.gpus },
      cause: error.cause,
    });
  }
  if (spec.gpus.kind !== 'none' && /nvidia-container-cli|nvml|cuda/i.test(message)) {
    return new ExternalError('GPU_UNAVAILABLE', `the engine's NVIDIA runtime could not give the container GPUs: ${message}`, {
      hint: "check the NVIDIA driver on the engine's host (nvidia-smi there), or pass --gpus none to replay on CPU",
      data: { engineMessage: message, gpus: spec.gpus },
      cause: error.cause,
    });
  }
  if (step === 'create' && statusOf(error.cause) === 404) {
    return new ExternalError('IMAGE_MISSING', `the engine has no image ${spec.image}`, { hint: 'Build the image first (or pull it); check `docker images`.', data: { image: spec.image }, cause: error.cause });
  }
  return new ExternalError(step === 'create' ? 'CONTAINER_CREATE_FAILED' : 'CONTAINER_START_FAILED', `the container could not ${step === 'create' ? 'be created' : 'start'}: ${message}`, {
    hint: step === 'create' ? 'Check the image, the mounts (their sources must exist on the engine\'s host) and the limits.' : 'Check the command (it must exist in the image) and the working folder.',
    data: { engineMessage: message, command: spec.command },
    cause: error.cause,
  });
}

function sink(write: (chunk: Buffer) => void): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      try {
        write(chunk);
        done();
      } catch (error) {
        done(error as Error);
      }
    },
  });
}

/**
 * Reads the classic builder's JSON lines as they come: `stream` text becomes step and output
 * events, the image id comes from aux.ID (or "Successfully built"), and the first error event
 * fails the build at once (the request is aborted, so nothing further is built or waited for).
 */
export function followBuild(
  response: Readable & { complete?: boolean },
  onEvent: (event: BuildEvent) => void,
  controller: AbortController,
  signal: AbortSignal | undefined,
  contextError: () => unknown,
): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let pending = '';
    let partialLine = '';
    let step: string | null = null;
    let imageId: string | null = null;
    let builtId: string | null = null;
    const tail: string[] = [];
    let settled = false;
    const finish = (error: Error | null, id?: string) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if (error !== null) {
        response.destroy();
        controller.abort();
        reject(error);
      } else resolve(id as string);
    };
    const onAbort = () => finish(new InterruptedError(signal, 'the image build'));
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });

    const emitOutput = (line: string) => {
      // The classic builder wraps a step's stderr in colour codes (ESC[91m ... ESC[0m): they are
      // markup, not output, and would break every line they touch in a log or a message.
      // eslint-disable-next-line no-control-regex
      const text = line.replace(/\u001b\[[0-9;]*m/g, '').replace(/\r$/, '');
      const stepMatch = /^Step \d+\/\d+ : /.test(text);
      if (stepMatch) {
        step = text;
        onEvent({ kind: 'step', text });
        return;
      }
      const built = /^Successfully built ([0-9a-f]{12,64})\s*$/.exec(text);
      if (built) builtId = built[1] as string;
      tail.push(text);
      if (tail.length > LOG_TAIL_LINES) tail.shift();
      onEvent({ kind: 'output', text });
    };
    const addText = (text: string) => {
      partialLine += text;
      let newline: number;
      while ((newline = partialLine.indexOf('\n')) >= 0) {
        emitOutput(partialLine.slice(0, newline));
        partialLine = partialLine.slice(newline + 1);
      }
      if (partialLine.length > MAX_LINE) {
        emitOutput(partialLine);
        partialLine = '';
      }
    };
    const flushPartial = () => {
      if (partialLine !== '') emitOutput(partialLine);
      partialLine = '';
    };
    const handle = (line: string) => {
      if (line.trim() === '') return;
      let event: Record<string, unknown>;
      try {
        event = JSON.parse(line) as Record<string, unknown>;
      } catch {
        addText(`${line}\n`);
        return;
      }
      if (typeof event.stream === 'string') addText(event.stream);
      if (typeof event.status === 'string') addText(`${[event.status, event.progress].filter((part) => typeof part === 'string' && part !== '').join(' ')}\n`);
      const aux = event.aux as { ID?: unknown } | undefined;
      if (aux !== undefined && typeof aux?.ID === 'string') imageId = aux.ID;
      const detail = event.errorDetail as { message?: unknown } | undefined;
      if (event.error !== undefined || detail !== undefined) {
        flushPartial();
        const message = typeof detail?.message === 'string' ? detail.message : String(event.error);
        onEvent({ kind: 'error', text: message });
        finish(buildFailed(step, message, [...tail]));
      }
    };
    response.on('data', (chunk: Buffer) => {
      if (settled) return;
      pending += chunk.toString('utf8');
      let newline: number;
      while (!settled && (newline = pending.indexOf('\n')) >= 0) {
        handle(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
      }
    });
    response.on('end', () => {
      if (settled) return;
      handle(pending);
      flushPartial();
      if (settled) return;
      const id = imageId ?? builtId;
      if (id !== null) finish(null, id);
      else finish(contextError() !== null ? contextFailed(contextError()) : buildFailed(step, 'the engine ended the build without naming an image', [...tail]));
    });
    response.on('error', (error) => finish(contextError() !== null ? contextFailed(contextError()) : buildFailed(step, `the build stream broke: ${oneLine(error.message)}`, [...tail])));
    response.on('close', () => {
      if (!settled && response.complete !== true) finish(buildFailed(step, 'the engine closed the build stream', [...tail]));
    });
  });
}

function buildFailed(step: string | null, error: string, logTail: string[]): ExternalError {
  const parsed = step === null ? null : /^Step (\d+\/\d+) : (.*)$/.exec(step);
  const where = parsed ? `at step ${parsed[1]} (${oneLine(parsed[2] as string).slice(0, 200)})` : 'before its first step';
  return new ExternalError('BUILD_FAILED', `the image build failed ${where}: ${oneLine(error)}`, {
    hint: 'The last lines of its output are above; fix the Dockerfile or what the failing step runs, then build again.',
    data: { step, error, logTail },
  });
}

function contextFailed(error: unknown): ExternalError {
  return new ExternalError('BUILD_CONTEXT_FAILED', `the build context could not be sent: ${oneLine(error instanceof Error ? error.message : String(error))}`, {
    hint: 'A file of the context could not be read; check the context folder.',
    cause: error,
  });
}

/** One line, without control characters, for a message. */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
}
