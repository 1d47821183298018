// The replay pipeline's view of where a replay runs. "Environment ready -> verify data -> run ->
// collect -> probe again -> compare -> explain" is written once in services/replay.ts; Docker, a
// local venv and the engines after them each implement this small interface. Nothing here names
// dockerode, a scheduler or a process: an engine is a value the pipeline is handed.
import type { GpuRequest, OutputHandlers } from '../container-engine.js';
import type { PythonProbeOutput } from '../raw-probes.js';
import type { Snapshot } from '../model.js';
import type { HostProbe } from '../parse/host-probe.js';
import type { ReplayLayout } from './layout.js';
import type { ReloadRunner } from '../reload.js';

/** What the user watches while a replay runs; under --json each one is a JSON line on stderr. */
export type ReplayEvent =
  | { type: 'stage'; stage: ReplayStage; message: string }
  | { type: 'build'; kind: 'step' | 'output'; text: string }
  | { type: 'log'; stream: 'stdout' | 'stderr'; text: string }
  | { type: 'warning'; message: string }
  /** Which engine replays, and why (`--engine auto` says what it found). */
  | { type: 'engine'; kind: string; reason: string };

export type ReplayStage = 'doctor' | 'prepare' | 'verify-data' | 'run' | 'collect' | 'probe' | 'compare' | 'reload' | 'explain';

export type EventSink = (event: ReplayEvent) => void;

/** One check of doctor: ok, warn or fail, with its reason. */
export interface DoctorCheck {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  message: string;
}

/** Where the code, its working directory, the outputs and each data path go in the replay's environment. */
export interface PreparedEnvironment {
  /** What the replay record keeps about it (image id, base image and digest, venv path...). */
  facts: Record<string, string | number | boolean | null>;
  /** Handle for the engine's own use (an image id, a venv path). */
  handle: string;
  /** Paths inside the environment are POSIX paths under codeRoot or absolute. */
  description: string;
}

export interface DataMount {
  /** On the machine the engine runs on. */
  source: string;
  /** Where the training expects it, inside the environment. */
  target: string;
}

export interface RunRequest {
  /** The captured command line, run through the environment's shell as the user typed it. */
  command: string;
  /** Absolute, inside the environment. */
  workdir: string;
  /** The whole replay environment: nothing from our host beyond it. */
  env: Record<string, string>;
  data: DataMount[];
  /** Absolute, inside the environment: the folder the training writes its outputs to. */
  outputsPath: string;
  /** On our host: an empty folder the outputs are copied into. */
  collectTo: string;
  timeoutMs: number | null;
  gpus: GpuRequest;
  /** Bounds on the outputs collected: a runaway training must not fill this disk. */
  maxOutputBytes: number;
  maxOutputFiles: number;
  /** On our host: an empty folder the recorder's record.json is to land in; null: not recorded (--no-record). */
  recordTo: string | null;
}

export interface RunResult {
  exitCode: number | null;
  signal: string | null;
  oomKilled: boolean;
  timedOut: boolean;
  startedAt: string;
  durationMs: number;
  /** Files collected into collectTo; null when the training wrote no outputs folder. */
  outputs: Array<{ path: string; size: number }> | null;
  /**
   * Files in the outputs folder the training did not write (the code at the captured commit
   * already held them): left out of the collected outputs, since they prove nothing about the run.
   */
  untouched?: string[];
  /** Output entries left out (a link that points outside the folder), with why. */
  skipped?: Array<{ path: string; why: string }>;
}

export interface ProbedEnvironment {
  python: PythonProbeOutput;
  host: HostProbe;
  /** The environment the training had, as the engine saw it (the image's own ENV included). */
  env?: Record<string, string>;
}

export interface ReplayBackend {
  /** "docker", "venv"... as the replay record names it. */
  readonly kind: string;
  /** The engine's endpoint or place, for messages. */
  readonly where: string;
  /** Where the repository's top level is inside the environment (absolute, POSIX). */
  readonly codeRoot: string;
  /** Why this engine (the flag, or what --engine auto found); null when nobody chose. */
  readonly reason?: string | null;
  /** false: the training reads the data in place, not from a read-only mount, so it is checked again after the run. Default true. */
  readonly isolatesData?: boolean;
  /** doctor's checks of this engine for this snapshot; a `fail` stops the replay before anything is built. */
  /** `layout`: where the replay places the run (the pipeline passes it; doctor does not): an engine refuses what it cannot place safely, by throwing. */
  check(snapshot: Snapshot, gpus: GpuRequest, layout?: ReplayLayout): Promise<DoctorCheck[]>;
  /** Environment ready: build the image, or create the venv. */
  prepare(events: EventSink, signal?: AbortSignal): Promise<PreparedEnvironment>;
  /** Runs the training and collects its outputs; its output reaches `output` chunk by chunk as it comes. */
  run(env: PreparedEnvironment, request: RunRequest, output: OutputHandlers, events: EventSink, signal?: AbortSignal): Promise<RunResult>;
  /** The probes again, inside the environment: Python, packages, frameworks, and the host as it sees it. */
  probe(env: PreparedEnvironment, gpus: GpuRequest, runEnv: Record<string, string>, signal?: AbortSignal): Promise<ProbedEnvironment>;
  /**
   * How the saved-model reload script runs in this environment on the baseline's models, which lie
   * under `modelsRoot` on our host, with `runEnv` (the training's); a reason instead when this
   * engine cannot reach them (a remote engine cannot mount our files). Absent: not supported.
   */
  reloader?(env: PreparedEnvironment, modelsRoot: string, runEnv: Record<string, string>, gpus: GpuRequest): ReloadRunner | { unavailable: string };
  /** Removes what the replay made and does not keep (containers; images stay for the cache). */
  dispose(env: PreparedEnvironment | null): Promise<void>;
}
