// Turns raw probe material into the snapshot's sections. Pure: every input is a value.
import {
  cudnnVersionFromLibraryName,
  detectContainer,
  isNoDeviceMessage,
  parseCpuinfo,
  parseCudaVersionJson,
  parseCudaVersionTxt,
  parseCudnnHeader,
  parseGlibcVersion,
  parseMemTotalBytes,
  parseNvccVersion,
  parseNvidiaSmiHeader,
  parseNvidiaSmiQuery,
  parseOsRelease,
  parseProcDriverVersion,
  parseTensorflowBuildInfo,
  parseTorchVersionFile,
} from './parse/index.js';
import { normalizePackageName } from './package-name.js';
import type { KerasSettings, CudnnInstall, FrameworksInfo, GpuInfo, PackageRecord, PackageSource, ProbeRecord, PythonInfo, SystemInfo } from './model.js';
import type { PythonProbeOutput, RawSystem } from './raw-probes.js';

/** Field by field: the probe may print more than the schema allows, and only these go into a snapshot. */
export function assemblePython(output: PythonProbeOutput): PythonInfo {
  const p = output.python;
  return {
    version: p.version,
    implementation: p.implementation,
    executable: p.executable,
    prefix: p.prefix,
    base_prefix: p.base_prefix,
    environment: p.environment,
    conda_env_name: p.conda_env_name ?? null,
    platform: p.platform,
  };
}

const METADATA_KINDS = new Set(['dist-info', 'egg-info', 'egg']);

export function assemblePackages(output: PythonProbeOutput): PackageRecord[] {
  return output.packages.map((pkg) => ({
    name: pkg.name,
    version: pkg.version,
    installer: pkg.installer,
    requested: pkg.requested,
    source: normaliseSource(pkg.source),
    metadata: typeof pkg.metadata === 'string' && METADATA_KINDS.has(pkg.metadata) ? (pkg.metadata as PackageRecord['metadata']) : null,
    location: typeof pkg.location === 'string' ? pkg.location : null,
    requires_tooling: Array.isArray(pkg.requires_tooling) ? pkg.requires_tooling.filter((r): r is string => typeof r === 'string') : [],
  }));
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function normaliseSource(source: Record<string, unknown> & { kind: string }): PackageSource {
  const url = str(source.url) ?? '';
  // PEP 610's subdirectory, and our note that credentials were removed, on any direct reference.
  const subdirectory = str(source.subdirectory);
  const common = { url, ...(subdirectory ? { subdirectory } : {}), ...(source.redacted === true ? { redacted: true } : {}) };
  switch (source.kind) {
    case 'vcs':
      return { kind: 'vcs', ...common, vcs: str(source.vcs) ?? 'git', commit_id: str(source.commit_id), requested_revision: str(source.requested_revision) };
    case 'editable':
      return { kind: 'editable', ...common };
    case 'local':
      return { kind: 'local', ...common };
    case 'archive':
      return { kind: 'archive', ...common, hash: str(source.hash) };
    default:
      return { kind: 'index' };
  }
}

/** keras.json's settings, keeping only values of the types Keras reads (a user's file may hold anything). */
function kerasSettings(value: unknown): KerasSettings | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const raw = value as Record<string, unknown>;
  const out: KerasSettings = {};
  for (const key of ['backend', 'floatx', 'image_data_format'] as const) if (typeof raw[key] === 'string') out[key] = raw[key] as string;
  if (typeof raw.epsilon === 'number' && Number.isFinite(raw.epsilon)) out.epsilon = raw.epsilon;
  if (typeof raw.nnx_enabled === 'boolean') out.nnx_enabled = raw.nnx_enabled;
  return out;
}

export function assembleFrameworks(output: PythonProbeOutput): FrameworksInfo {
  const f = output.frameworks;
  const torchFile = f.torch?.version_file_source ? parseTorchVersionFile(f.torch.version_file_source) : null;
  return {
    tensorflow: f.tensorflow
      ? {
          version: f.tensorflow.version,
          distribution: f.tensorflow.distribution,
          build_info: f.tensorflow.build_info_source ? parseTensorflowBuildInfo(f.tensorflow.build_info_source) : null,
        }
      : null,
    keras: f.keras ? { ...f.keras, config: kerasSettings((f.keras as { config?: unknown }).config) } : null,
    torch: f.torch
      ? {
          version: f.torch.version,
          cuda: torchFile?.cuda ?? null,
          git_version: torchFile?.git_version ?? null,
          debug: torchFile?.debug ?? null,
        }
      : null,
    jax: f.jax ? { version: f.jax.version, jaxlib: f.jax.jaxlib, cuda_plugins: [...f.jax.cuda_plugins] } : null,
    numpy: f.numpy ? { version: f.numpy.version } : null,
    nvidia_wheels: [...f.nvidia_wheels],
  };
}

export interface WheelCudnn {
  headers: Array<{ path: string; text: string }>;
  libraries: string[];
  wheels: Array<{ name: string; version: string }>;
}

function fileName(path: string): string {
  const target = path.split('=>').pop()?.trim() ?? path;
  return target.slice(target.lastIndexOf('/') + 1);
}

function libraryTarget(ldconfigLine: string): string {
  return (ldconfigLine.split('=>').pop() ?? ldconfigLine).trim();
}

/**
 * cuDNN as installed system-wide (headers, ldconfig) and as pip wheels: what is installed is not
 * always what is loaded, so every copy found is recorded with where it came from.
 */
export function collectCudnn(raw: RawSystem, wheel: WheelCudnn): CudnnInstall[] {
  const found: CudnnInstall[] = [];
  const seen = new Set<string>();
  const add = (entry: CudnnInstall) => {
    const key = `${entry.kind}:${entry.source}`;
    if (!seen.has(key)) {
      seen.add(key);
      found.push(entry);
    }
  };
  for (const header of [...raw.cudnnHeaders, ...wheel.headers]) {
    const version = parseCudnnHeader(header.text);
    if (version) add({ version, source: header.path, kind: 'header' });
  }
  const libraryPaths = [...(raw.cudnnLibraries.text ?? '').split('\n').filter(Boolean).map(libraryTarget), ...wheel.libraries];
  for (const path of libraryPaths) {
    const version = cudnnVersionFromLibraryName(fileName(path));
    if (version) add({ version, source: path, kind: 'library' });
  }
  for (const w of wheel.wheels) {
    if (/^nvidia-cudnn(-cu\d+)?$/.test(normalizePackageName(w.name))) add({ version: w.version, source: w.name, kind: 'wheel' });
  }
  return found;
}

export function assembleGpu(raw: RawSystem, wheel: WheelCudnn): GpuInfo {
  const queryText = raw.nvidiaSmiQuery.probe.status === 'ok' ? raw.nvidiaSmiQuery.text ?? '' : '';
  const query = parseNvidiaSmiQuery(queryText);
  const header = raw.nvidiaSmiHeader.probe.status === 'ok' ? parseNvidiaSmiHeader(raw.nvidiaSmiHeader.text ?? '') : { driverVersion: null, cudaVersion: null };
  const kernelModule = raw.procDriverVersion.text ? parseProcDriverVersion(raw.procDriverVersion.text) : null;
  const nvcc = raw.nvcc.probe.status === 'ok' && raw.nvcc.text ? parseNvccVersion(raw.nvcc.text) : null;
  let cudaToolkit: GpuInfo['cuda_toolkit'] = nvcc ? { version: nvcc.version, release: nvcc.release, source: 'nvcc --version' } : null;
  if (cudaToolkit === null && raw.cudaVersionFile) {
    const version = raw.cudaVersionFile.path.endsWith('.json') ? parseCudaVersionJson(raw.cudaVersionFile.text) : parseCudaVersionTxt(raw.cudaVersionFile.text);
    if (version) cudaToolkit = { version, release: version.split('.').slice(0, 2).join('.'), source: raw.cudaVersionFile.path };
  }
  return {
    available: query.devices.length > 0,
    driver_version: query.driverVersion ?? header.driverVersion ?? kernelModule?.version ?? null,
    driver_cuda_version: header.cudaVersion,
    devices: query.devices,
    kernel_module: kernelModule,
    cuda_toolkit: cudaToolkit,
    cudnn: collectCudnn(raw, wheel),
  };
}

export function assembleSystem(raw: RawSystem): SystemInfo {
  const os = raw.osRelease.text ? parseOsRelease(raw.osRelease.text) : { id: null, version_id: null, pretty_name: null, codename: null };
  const cpu = raw.cpuinfo.text ? parseCpuinfo(raw.cpuinfo.text) : { model: null, logical_cores: raw.logicalCores, flags: [] };
  const memory = raw.meminfo.text ? parseMemTotalBytes(raw.meminfo.text) : null;
  return {
    os,
    kernel: raw.kernel,
    arch: raw.arch,
    glibc: raw.glibc.text ? parseGlibcVersion(raw.glibc.text) : null,
    cpu: { model: cpu.model, logical_cores: cpu.logical_cores > 0 ? cpu.logical_cores : raw.logicalCores, flags: cpu.flags },
    memory_total_bytes: memory ?? raw.totalMemoryBytes,
    container: detectContainer({ dockerenv: raw.dockerenv, containerenv: raw.containerenv, cgroup: raw.cgroup, environ: raw.containerEnviron }),
  };
}

/**
 * The probe table. A missing GPU is not a failure: nvidia-smi that is absent, or that says there
 * is no driver or device, is recorded as `absent` with its reason.
 */
export function systemProbeRecords(raw: RawSystem): Record<string, ProbeRecord> {
  const smi = raw.nvidiaSmiQuery.probe;
  const noDevice = smi.status === 'error' && isNoDeviceMessage(raw.nvidiaSmiQuery.text ?? '');
  return {
    'nvidia-smi': noDevice ? { ...smi, status: 'absent', reason: `no NVIDIA GPU or driver: ${firstLine(raw.nvidiaSmiQuery.text)}` } : smi,
    'nvidia-driver': raw.procDriverVersion.probe,
    nvcc: raw.nvcc.probe,
    ldconfig: raw.cudnnLibraries.probe,
    'os-release': raw.osRelease.probe,
    cpuinfo: raw.cpuinfo.probe,
    meminfo: raw.meminfo.probe,
    glibc: raw.glibc.probe,
  };
}

function firstLine(text: string | null): string {
  return (text ?? '').trim().split('\n')[0]?.trim() ?? '';
}
