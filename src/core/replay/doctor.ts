// doctor's checks of the engine's host against what a snapshot needs, as pure functions: the
// GPUs and driver the host has, the driver its CUDA needs (data/compat.json's floors), and the
// GPU's compute capability against the capabilities the captured TensorFlow was built for.
import { driverFloor, type CompatTable } from '../dockerfile/compat.js';
import type { GpuInfo, Snapshot } from '../model.js';
import { compareVersions } from '../versions.js';
import type { DoctorCheck } from './backend.js';

/** The CUDA the snapshot's frameworks were built against, as major.minor; null without one. */
export function snapshotCuda(snapshot: Snapshot): string | null {
  const f = snapshot.frameworks;
  const raw = f.tensorflow?.build_info?.cuda_version ?? f.torch?.cuda ?? null;
  const match = raw === null ? null : /^(\d+)\.(\d+)/.exec(raw);
  return match ? `${match[1]}.${match[2]}` : null;
}

/** "9.0" -> 90; null when it is not a capability. */
function capability(value: string | null): number | null {
  const match = value === null ? null : /^(\d+)\.(\d+)$/.exec(value);
  return match ? Number(match[1]) * 10 + Number(match[2]) : null;
}

/**
 * Whether TensorFlow's built capabilities run on a GPU of capability `cc`: a cubin for exactly it
 * (sm_XY), or PTX of one at or below it (compute_XY), which the driver compiles at start-up.
 */
export function capabilitySupport(built: readonly string[], cc: number): 'native' | 'ptx' | 'none' {
  let ptx = false;
  for (const entry of built) {
    const match = /^(sm|compute)_(\d+)[a-z]?$/.exec(entry);
    if (!match) continue;
    const n = Number(match[2]);
    if (match[1] === 'sm' && n === cc) return 'native';
    if (match[1] === 'compute' && n <= cc) ptx = true;
  }
  return ptx ? 'ptx' : 'none';
}

export function hostGpuChecks(snapshot: Snapshot, host: GpuInfo, table: CompatTable, wantsGpus: boolean): DoctorCheck[] {
  const checks: DoctorCheck[] = [];
  if (!wantsGpus) return checks;
  if (!host.available || host.devices.length === 0) {
    checks.push({ name: 'gpus', status: 'fail', message: "the snapshot was captured on GPUs but the engine's host shows none (nvidia-smi found no device): replay on a GPU host, or pass --gpus none" });
    return checks;
  }
  const names = [...new Set(host.devices.map((d) => d.name))].join(', ');
  checks.push({ name: 'gpus', status: 'ok', message: `${host.devices.length} GPU(s): ${names}, driver ${host.driver_version ?? 'unknown'}` });
  const cuda = snapshotCuda(snapshot);
  const floor = cuda === null ? null : driverFloor(table, cuda);
  if (cuda !== null && floor !== null && host.driver_version !== null) {
    const ok = compareVersions(host.driver_version, floor) >= 0;
    checks.push({ name: 'driver', status: ok ? 'ok' : 'fail', message: ok ? `driver ${host.driver_version} runs CUDA ${cuda} (needs ${floor} or later)` : `driver ${host.driver_version} is older than ${floor}, the oldest that runs CUDA ${cuda}: upgrade the driver on the engine's host` });
  }
  const built = snapshot.frameworks.tensorflow?.build_info?.cuda_compute_capabilities ?? null;
  if (built !== null && built.length > 0) {
    for (const cc of [...new Set(host.devices.map((d) => d.compute_capability))]) {
      const n = capability(cc);
      if (n === null) continue;
      const support = capabilitySupport(built, n);
      checks.push(
        support === 'native'
          ? { name: 'compute capability', status: 'ok', message: `TensorFlow was built for compute capability ${cc}` }
          : support === 'ptx'
            ? { name: 'compute capability', status: 'warn', message: `TensorFlow has no kernels built for compute capability ${cc}, only PTX the driver compiles at start-up (minutes, and other code than a native build)` }
            : { name: 'compute capability', status: 'fail', message: `TensorFlow was built for ${built.join(', ')}, none of which runs on compute capability ${cc}` },
      );
    }
  }
  const captured = [...new Set(snapshot.gpu.devices.map((d) => d.compute_capability))].sort().join(', ');
  const here = [...new Set(host.devices.map((d) => d.compute_capability))].sort().join(', ');
  if (snapshot.gpu.available && captured !== here) checks.push({ name: 'gpu architecture', status: 'warn', message: `captured on compute capability ${captured || '?'}, the host has ${here || '?'}: other kernels, so expect at most equivalent, not identical` });
  return checks;
}
