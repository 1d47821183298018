// What python/snapshot_host.py printed where the replay ran (a container, a cluster node): the
// same raw material collectSystem gathers on our own host. It comes from the environment under
// test, so it is untrusted: every field is type-checked and every text capped before the parsers
// see it; a malformed field becomes an errored probe, never a crash.
import type { ProbeRecord, ProbeStatus } from '../model.js';
import type { RawSystem, RawText } from '../raw-probes.js';

const MAX_TEXT = 4 * 1024 * 1024;
const STATUSES: readonly ProbeStatus[] = ['ok', 'absent', 'timeout', 'error'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown, limit = MAX_TEXT): string | null {
  return typeof value === 'string' ? value.slice(0, limit) : null;
}

function probeRecord(value: unknown, field: string): ProbeRecord {
  if (!isRecord(value) || !STATUSES.includes(value.status as ProbeStatus)) return { status: 'error', duration_ms: 0, reason: `host probe: ${field} is malformed` };
  const duration = typeof value.duration_ms === 'number' && Number.isFinite(value.duration_ms) && value.duration_ms >= 0 ? Math.round(value.duration_ms) : 0;
  const reason = text(value.reason, 300);
  return reason === null ? { status: value.status as ProbeStatus, duration_ms: duration } : { status: value.status as ProbeStatus, duration_ms: duration, reason };
}

function rawText(value: unknown, field: string): RawText {
  if (!isRecord(value)) return { probe: { status: 'error', duration_ms: 0, reason: `host probe: ${field} is missing` }, text: null };
  return { probe: probeRecord(value.probe, field), text: text(value.text) };
}

function pathText(value: unknown): { path: string; text: string } | null {
  if (!isRecord(value)) return null;
  const path = text(value.path, 4096);
  const body = text(value.text, 256 * 1024);
  return path === null || body === null ? null : { path, text: body };
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : 0;
}

/** The host probe's JSON between its markers, or null when the output holds none. */
export function extractMarked(stdout: string, marker: string): unknown {
  const start = stdout.indexOf(marker);
  const end = stdout.lastIndexOf(marker);
  if (start < 0 || end <= start) return null;
  try {
    return JSON.parse(stdout.slice(start + marker.length, end));
  } catch {
    return null;
  }
}

export interface HostProbe {
  raw: RawSystem;
  hostname: string | null;
}

/** The host probe's document as RawSystem; null when it is not one at all. */
export function parseHostProbe(value: unknown): HostProbe | null {
  if (!isRecord(value) || value.host_probe_version !== 1) return null;
  const environ = isRecord(value.containerEnviron) ? value.containerEnviron : {};
  const headers = Array.isArray(value.cudnnHeaders) ? value.cudnnHeaders.slice(0, 16).map(pathText).filter((h): h is { path: string; text: string } => h !== null) : [];
  const kube = text(environ.KUBERNETES_SERVICE_HOST, 200);
  const container = text(environ.container, 200);
  return {
    raw: {
      nvidiaSmiQuery: rawText(value.nvidiaSmiQuery, 'nvidiaSmiQuery'),
      nvidiaSmiHeader: rawText(value.nvidiaSmiHeader, 'nvidiaSmiHeader'),
      procDriverVersion: rawText(value.procDriverVersion, 'procDriverVersion'),
      nvcc: rawText(value.nvcc, 'nvcc'),
      cudaVersionFile: pathText(value.cudaVersionFile),
      cudnnHeaders: headers,
      cudnnLibraries: rawText(value.cudnnLibraries, 'cudnnLibraries'),
      osRelease: rawText(value.osRelease, 'osRelease'),
      cpuinfo: rawText(value.cpuinfo, 'cpuinfo'),
      meminfo: rawText(value.meminfo, 'meminfo'),
      glibc: rawText(value.glibc, 'glibc'),
      cgroup: text(value.cgroup, 64 * 1024),
      dockerenv: value.dockerenv === true,
      containerenv: value.containerenv === true,
      containerEnviron: { ...(kube === null ? {} : { KUBERNETES_SERVICE_HOST: kube }), ...(container === null ? {} : { container }) },
      kernel: text(value.kernel, 200) ?? 'unknown',
      arch: text(value.arch, 50) ?? 'unknown',
      logicalCores: count(value.logicalCores),
      totalMemoryBytes: count(value.totalMemoryBytes),
    },
    hostname: text(value.hostname, 255),
  };
}
