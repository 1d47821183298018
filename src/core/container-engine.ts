// The container engine as the replay pipeline sees it: a small interface of our own that a Docker
// (or Podman, which speaks the same API) connection implements in src/adapters/docker.ts. Services
// and engines hold only these types, never dockerode's, so they are unit-tested with a fake and the
// fleet can hold several engines at once.
import type { Readable } from 'node:stream';

/** How to reach an engine, decided once (flag, DOCKER_HOST, docker context, default socket). */
export type EngineEndpoint =
  | { kind: 'unix'; socketPath: string }
  | { kind: 'tcp'; host: string; port: number; tls: { certPath: string | null; verify: boolean } | null }
  | { kind: 'ssh'; host: string; port: number | null; user: string | null };

export interface ResolvedEndpoint {
  endpoint: EngineEndpoint;
  /** Where it came from, for messages: "--docker-host", "DOCKER_HOST", "docker context remote", "the default socket". */
  source: string;
  /** The endpoint as a user would write it (tcp://h:2376, unix:///var/run/docker.sock). */
  display: string;
  /** Which kind of source decided, so a hint can say what to change without parsing `source`. */
  origin: 'flag' | 'env' | 'context' | 'default';
}

/** What the engine says about itself and the machine it runs on (the engine's host, not ours). */
export interface EngineFacts {
  serverVersion: string;
  apiVersion: string;
  os: string;
  kernel: string;
  architecture: string;
  cpus: number;
  memoryBytes: number;
  /** Runtimes the engine has (runc, nvidia...). */
  runtimes: string[];
  defaultRuntime: string | null;
  /** The engine's data root and the free bytes there, when it could be read; null otherwise. */
  dockerRootDir: string | null;
  /** Whether the engine runs on this machine (a unix socket), so bind mounts of our files work. */
  local: boolean;
  /** "docker" or "podman", from the version's components. */
  flavour: 'docker' | 'podman';
}

export interface BuildOptions {
  /** Tags for the image (name:tag). */
  tags: string[];
  labels: Record<string, string>;
  buildArgs: Record<string, string>;
  network: 'host' | 'default';
  noCache: boolean;
  pull: boolean;
  /** The Dockerfile's path inside the context. */
  dockerfile: string;
}

/** One line of build progress, in the order the engine sent them. */
export type BuildEvent =
  | { kind: 'step'; text: string }
  | { kind: 'output'; text: string }
  | { kind: 'error'; text: string };

export interface BuildResult {
  imageId: string;
  durationMs: number;
}

export interface ImageFacts {
  id: string;
  repoDigests: string[];
  repoTags: string[];
  labels: Record<string, string>;
  sizeBytes: number;
  /** The image's env as Config.Env lists it (KEY=VALUE). */
  env: string[];
}

/** GPUs for a container: none, all of them, a count, or device ids / UUIDs. */
export type GpuRequest = { kind: 'none' } | { kind: 'all' } | { kind: 'count'; count: number } | { kind: 'devices'; ids: string[] };

export interface Mount {
  /** On the engine's host. */
  source: string;
  target: string;
  readOnly: boolean;
}

export interface ContainerSpec {
  image: string;
  /** argv, never a shell line: the command's own shell (if any) is in it. */
  command: string[];
  workdir: string;
  /** The whole environment beyond the image's own: nothing from our host leaks in. */
  env: Record<string, string>;
  mounts: Mount[];
  labels: Record<string, string>;
  gpus: GpuRequest;
  /** Killed (and reported as timed out) after this long; null for no limit. */
  timeoutMs: number | null;
  name?: string;
  /** A memory limit (swap included, so the limit is real): past it the kernel kills the command (oomKilled). */
  memoryBytes?: number;
}

export interface ContainerOutcome {
  containerId: string;
  exitCode: number | null;
  oomKilled: boolean;
  timedOut: boolean;
  /** Stopped through the abort signal (Ctrl-C, SIGTERM). */
  aborted: boolean;
  startedAt: string;
  durationMs: number;
}

export interface OutputHandlers {
  onStdout: (chunk: Buffer) => void;
  onStderr: (chunk: Buffer) => void;
  /** The container exists: told before it starts, so a forced exit can remove it. */
  onCreated?: (containerId: string) => void;
}

/** Bounds and reports for taking files out of a container. */
export interface CopyOutOptions {
  maxBytes?: number;
  maxEntries?: number;
  /** An entry left out (a link that points outside the folder, or to a folder), with why. */
  onSkip?: (path: string, why: string) => void;
}

/** A path the container changed in its own layer (GET /containers/{id}/changes). */
export interface ContainerChange {
  path: string;
  kind: 'changed' | 'added' | 'deleted';
}

/** A file taken out of a container, where it now is, relative to the destination. */
export interface ExtractedFile {
  path: string;
  size: number;
}

export interface ContainerEngine {
  readonly endpoint: ResolvedEndpoint;
  /** Answers within timeoutMs or throws ENGINE_UNREACHABLE with what to do. */
  facts(timeoutMs: number): Promise<EngineFacts>;
  /** Streams the context (a tar) to the engine; throws BUILD_FAILED on the first error event. */
  build(context: Readable, options: BuildOptions, onEvent: (event: BuildEvent) => void, signal?: AbortSignal): Promise<BuildResult>;
  inspectImage(ref: string): Promise<ImageFacts | null>;
  /** Whether a registry answers for this image within timeoutMs (its manifest, nothing pulled): null when it does, else why not. */
  pullable(ref: string, timeoutMs: number): Promise<string | null>;
  /** Creates, starts and waits for a container; it is left for copyOut and removed by remove(). */
  run(spec: ContainerSpec, output: OutputHandlers, signal?: AbortSignal): Promise<ContainerOutcome>;
  /** Copies a folder out of a (stopped) container into destDir, refusing entries that would leave it. */
  copyOut(containerId: string, pathInContainer: string, destDir: string, options?: CopyOutOptions): Promise<ExtractedFile[]>;
  /** What the container wrote over its image: tells files the command made from files the image had. */
  changes(containerId: string): Promise<ContainerChange[]>;
  remove(containerId: string): Promise<void>;
  /** Containers and images carrying all these labels. */
  listLabelled(labels: Record<string, string>): Promise<{ containers: string[]; running: string[]; images: string[] }>;
  removeImage(id: string): Promise<void>;
}
