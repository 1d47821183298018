// The snapshot document: what `snapshot capture` writes and every later command reads.
// schemas/snapshot.schema.json is the contract for the YAML file; these types mirror it.
import type { RunRecording } from './recording.js';

/** The schema this tool writes; older ones are read through core/snapshot-versions.ts. */
export const SCHEMA_VERSION = 4;

export type ProbeStatus = 'ok' | 'absent' | 'timeout' | 'error';

export interface ProbeRecord {
  status: ProbeStatus;
  duration_ms: number;
  /** Why the probe is not ok: the missing binary, the timeout, the stderr tail. */
  reason?: string;
}

export interface PythonInfo {
  version: string;
  implementation: string;
  executable: string;
  prefix: string;
  base_prefix: string;
  /** venv, conda or system: decides how the environment is rebuilt. */
  environment: 'venv' | 'conda' | 'system';
  conda_env_name?: string | null;
  platform: string;
}

/** What PEP 610 adds to any direct reference: a subfolder of the repository or archive, and whether we removed credentials. */
interface DirectReference {
  url: string;
  subdirectory?: string;
  /** Signed-URL parameters (credentials) were removed: the URL will not download as recorded. */
  redacted?: boolean;
}

/** Where a distribution came from, as pip recorded it in direct_url.json (PEP 610). */
export type PackageSource =
  | { kind: 'index' }
  | (DirectReference & { kind: 'vcs'; vcs: string; commit_id: string | null; requested_revision?: string | null })
  | (DirectReference & { kind: 'editable' })
  | (DirectReference & { kind: 'local' })
  | (DirectReference & { kind: 'archive'; hash?: string | null });

export interface PackageRecord {
  name: string;
  version: string;
  installer: string | null;
  /** Installed at the user's request (pip's REQUESTED marker), not only as a dependency. */
  requested: boolean;
  source: PackageSource;
  /** How it is recorded on disk; null when unknown (schema 1). An egg-info with no recorded source is a legacy install. */
  metadata: 'dist-info' | 'egg-info' | 'egg' | null;
  /** The sys.path folder it lives in (a distribution's own /usr/lib/python3/dist-packages is not pip's). */
  location: string | null;
  /** Its requirements on setuptools or wheel, e.g. "setuptools", "wheel (<1.0,>=0.23.0)". */
  requires_tooling: string[];
}

export interface TensorflowInfo {
  /** null for a source build whose files carry no installed metadata. */
  version: string | null;
  /** Which distribution provides the `tensorflow` module: tensorflow, tensorflow-cpu, tf-nightly... */
  distribution: string | null;
  build_info: {
    cuda_version: string | null;
    cudnn_version: string | null;
    cuda_compute_capabilities: string[] | null;
    is_cuda_build: boolean | null;
    is_rocm_build: boolean | null;
    is_tensorrt_build?: boolean | null;
  } | null;
}

/** What a keras.json may set; Keras 3 reads these keys and no others. */
export interface KerasSettings {
  backend?: string;
  floatx?: string;
  epsilon?: number;
  image_data_format?: string;
  nnx_enabled?: boolean;
}

export interface KerasInfo {
  version: string | null;
  backend: string;
  /** How the backend was resolved, in Keras's own order. */
  backend_source: 'KERAS_BACKEND' | 'keras.json' | 'default';
  keras_home: string;
  tf_keras_version: string | null;
  use_legacy_keras: boolean;
  /** The keras.json settings in effect at capture (floatx, epsilon... change numerics); null without a keras.json. */
  config: KerasSettings | null;
}

export interface FrameworksInfo {
  tensorflow: TensorflowInfo | null;
  keras: KerasInfo | null;
  torch: { version: string | null; cuda: string | null; git_version?: string | null; debug?: boolean | null } | null;
  jax: { version: string | null; jaxlib: string | null; cuda_plugins: Array<{ name: string; version: string }> } | null;
  numpy: { version: string } | null;
  nvidia_wheels: Array<{ name: string; version: string }>;
}

export interface GpuDevice {
  index: number;
  name: string;
  uuid: string;
  compute_capability: string | null;
  memory_total_mib: number | null;
}

export interface CudnnInstall {
  version: string;
  /** header path, library path or wheel name it was read from */
  source: string;
  kind: 'header' | 'library' | 'wheel';
}

export interface GpuInfo {
  available: boolean;
  driver_version: string | null;
  /** The highest CUDA version the driver supports (nvidia-smi's "CUDA Version"), not an installed toolkit. */
  driver_cuda_version: string | null;
  devices: GpuDevice[];
  kernel_module: { version: string; flavor: 'proprietary' | 'open' | 'unknown'; raw: string } | null;
  cuda_toolkit: { version: string; release: string; source: string } | null;
  cudnn: CudnnInstall[];
}

export interface SystemInfo {
  os: { id: string | null; version_id: string | null; pretty_name: string | null; codename: string | null };
  kernel: string;
  arch: string;
  glibc: string | null;
  cpu: { model: string | null; logical_cores: number; flags: string[] };
  memory_total_bytes: number;
  container: { inside: boolean; runtime: string | null };
}

export interface Finding {
  level: 'warning' | 'info';
  code: string;
  message: string;
  /** What to do about it (a line to add, a variable to export), or null. */
  fix: string | null;
}

export interface DeterminismInfo {
  /** Only allowlisted variables that were set; nothing else is ever recorded. */
  env: Record<string, string>;
  findings: Finding[];
}

export interface SubmoduleRecord {
  /** Path from the repository's top level (nested submodules included). */
  path: string;
  /** The commit checked out at capture (what the training ran), null when not initialized. */
  commit: string | null;
  url: string | null;
  initialized: boolean;
  dirty: boolean;
  /** The submodule's own uncommitted changes, like the superproject's patch. */
  patch_file: string | null;
  patch_sha256: string | null;
  patch_size: number | null;
  patch_error: string | null;
  /** Files untracked in the submodule at capture: in no rebuild (schema 3; [] when migrated). */
  untracked: string[];
}

export interface CodeInfo {
  path: string;
  /** The repository's top level at capture; null without a repository or from an older schema. */
  repo_root: string | null;
  /** The code folder relative to the repository root ('' is the root); null as repo_root. */
  in_repo: string | null;
  git: {
    /** null: the repository had no commit yet (an unborn HEAD); the staged and untracked files say what there was. */
    commit: string | null;
    branch: string | null;
    remote_url: string | null;
    dirty: boolean;
    /** Path of the uncommitted patch, relative to the snapshot file. */
    patch_file: string | null;
    /** sha256 and size of the patch, checked wherever it is read (null without a patch, or from schema 1). */
    patch_sha256: string | null;
    patch_size: number | null;
    /** Why the uncommitted changes could not be saved (capture --allow-missing-patch): the code is not the captured tree. */
    patch_error: string | null;
    staged: string[];
    untracked: string[];
    submodules: SubmoduleRecord[];
  } | null;
}

export type OutputKind = 'metrics' | 'npy' | 'npz' | 'h5' | 'keras' | 'csv' | 'other';

export interface FileEntry {
  path: string;
  size: number;
  sha256: string;
}

export interface DataRecord {
  path: string;
  /** Absolute at capture; null when an older schema did not record it. */
  absolute: string | null;
  /** Relative to the repository root when the data sat inside it, else null. */
  in_repo: string | null;
  kind: 'file' | 'directory';
  file_count: number;
  total_bytes: number;
  /** sha256 over the sorted "sha256  path" lines: one value that changes when any file does. */
  digest: string;
  /**
   * The manifest in a file of its own, relative to the snapshot: those "sha256  path" lines, as
   * sha256sum writes and checks them, so the digest is that file's sha256. null: `files` lists them (schema 1).
   */
  manifest_file: string | null;
  files?: FileEntry[];
}

export interface RunRecord {
  command: string;
  cwd: string;
  /** The working directory relative to the repository root; null outside it (or from an older schema). */
  cwd_in_repo: string | null;
  exit_code: number | null;
  signal: string | null;
  duration_ms: number;
  started_at: string;
  status: 'succeeded' | 'failed';
  stdout_log: string;
  stderr_log: string;
  /** What the training wrote; a kept log over the cap holds its head and tail only. null: unknown (schema 1). */
  stdout_bytes: number | null;
  stderr_bytes: number | null;
  logs_truncated: boolean;
  outputs_dir: string;
  /** The outputs folder, absolute, at capture. */
  outputs_path: string;
  /** The outputs folder relative to the repository root; null outside it (or from an older schema). */
  outputs_in_repo: string | null;
  baseline: { dir: string; files: Array<FileEntry & { kind: OutputKind }> } | null;
  /** What the recorder saw the training do (seeds, fit's model, parameters and data); null: not recorded. */
  record: RunRecording | null;
  /** capture --repeat: whether the training gives the same outputs run after run on this host; null: not checked. */
  repeat: RepeatCheck | null;
  /** The saved models among the outputs, loaded again in this environment and run on a fixed, seeded input; null: not checked. */
  reload: ReloadCheck | null;
}

export interface ReloadedModel {
  /** The model's path among the outputs ('/'-separated). */
  path: string;
  format: 'keras' | 'h5' | 'savedmodel';
  status: 'ok' | 'error';
  /** Why it did not load or run, or null. */
  message: string | null;
  inputs: Array<{ name: string; shape: number[]; dtype: string }>;
  /** The bundle's .npz of its predictions, relative to the snapshot; null when it did not load. */
  predictions: string | null;
  sha256: string | null;
}

export interface ReloadCheck {
  /** The seed of the synthetic input, and its batch size. */
  seed: number;
  batch: number;
  duration_ms: number;
  models: ReloadedModel[];
}

/** capture --repeat N: the training run N times here, the outputs compared with the first run's. */
export interface RepeatCheck {
  runs: number;
  /** The tolerance policy the outputs were compared under; null: bit for bit. */
  policy: string | null;
  /** deterministic: every run bit-identical; equivalent: within the policy; nondeterministic: an output moved; error: a run failed or could not be judged. */
  verdict: 'deterministic' | 'equivalent' | 'nondeterministic' | 'error';
  message: string;
  /** The outputs that moved between runs, and by how much. */
  moved: Array<{ path: string; status: string; max_abs_diff: number | null; message: string | null }>;
  /** Where the runs parted first, from their records: the seeds, the data at fit, the model, its initial weights, or only in training. */
  divergence: { stage: 'seeds' | 'data' | 'architecture' | 'initial_weights' | 'training'; message: string } | null;
  /** The finding codes that explain it. */
  explained_by: string[];
  /** --explain: the fixes tried, each in a pair of runs, and the one that made the runs identical. */
  explain: { budget: number; runs: number; tried: Array<{ fix: string; code: string; identical: boolean; verdict: string }>; fixed_by: string | null } | null;
}

export interface Snapshot {
  schema: number;
  id: string;
  created_at: string;
  tool: { name: string; version: string };
  python: PythonInfo;
  packages: PackageRecord[];
  frameworks: FrameworksInfo;
  gpu: GpuInfo;
  system: SystemInfo;
  determinism: DeterminismInfo;
  code: CodeInfo | null;
  data: DataRecord[];
  run: RunRecord | null;
  probes: Record<string, ProbeRecord>;
}
