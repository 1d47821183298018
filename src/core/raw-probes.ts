// What the adapters hand to the pure core: raw program outputs and file texts, each with the
// record of how its probe went. The core parses these; the adapters never interpret them.
import type { KerasInfo, ProbeRecord, PythonInfo } from './model.js';

export interface RawText {
  probe: ProbeRecord;
  text: string | null;
}

export interface RawSystem {
  nvidiaSmiQuery: RawText;
  nvidiaSmiHeader: RawText;
  procDriverVersion: RawText;
  nvcc: RawText;
  cudaVersionFile: { path: string; text: string } | null;
  cudnnHeaders: Array<{ path: string; text: string }>;
  cudnnLibraries: RawText;
  osRelease: RawText;
  cpuinfo: RawText;
  meminfo: RawText;
  glibc: RawText;
  cgroup: string | null;
  dockerenv: boolean;
  containerenv: boolean;
  containerEnviron: { KUBERNETES_SERVICE_HOST?: string; container?: string };
  kernel: string;
  arch: string;
  logicalCores: number;
  totalMemoryBytes: number;
}

/** The JSON that python/snapshot_probe.py prints, before interpretation. */
export interface PythonProbeOutput {
  probe_version: number;
  python: PythonInfo;
  packages: Array<{
    name: string;
    version: string;
    installer: string | null;
    requested: boolean;
    source: Record<string, unknown> & { kind: string };
    location?: string;
    metadata?: string;
    requires_tooling?: unknown[];
  }>;
  frameworks: {
    tensorflow: { version: string | null; distribution: string | null; build_info_source: string | null; build_info_path?: string | null } | null;
    keras: KerasInfo | null;
    torch: { version: string | null; version_file_source: string | null; version_file_path?: string | null } | null;
    jax: { version: string | null; jaxlib: string | null; cuda_plugins: Array<{ name: string; version: string }> } | null;
    numpy: { version: string } | null;
    nvidia_wheels: Array<{ name: string; version: string }>;
  };
  cuda_wheel_files: { cudnn_headers: string[]; libraries: string[] };
  errors: string[];
}
