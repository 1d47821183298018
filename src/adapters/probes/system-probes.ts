// Gathers the raw material about the machine: program outputs and system files, each probe in
// parallel under its own timeout. Nothing is interpreted here; core/assemble-system.ts parses.
import { arch, cpus, release, totalmem } from 'node:os';
import { nvidiaSmiQueryArgs } from '../../core/parse/index.js';
import type { ProbeRecord } from '../../core/model.js';
import type { RawSystem, RawText } from '../../core/raw-probes.js';
import { pathExists, readTextIfExists } from '../fs.js';
import { runProcess, type ProcessResult } from '../process.js';

export function probeFromProcess(result: ProcessResult): ProbeRecord {
  const status = result.outcome === 'ok' ? 'ok' : result.outcome === 'failed' || result.outcome === 'aborted' ? 'error' : result.outcome;
  return result.reason === undefined
    ? { status, duration_ms: result.durationMs }
    : { status, duration_ms: result.durationMs, reason: result.reason };
}

async function command(cmd: string, args: string[], timeoutMs: number, signal?: AbortSignal): Promise<RawText> {
  const result = await runProcess(cmd, args, { timeoutMs, signal, maxBuffer: 8 * 1024 * 1024 });
  // A failing nvidia-smi still explains itself on stdout ("couldn't communicate with the driver").
  const text = result.outcome === 'ok' || result.outcome === 'failed' ? result.stdout + result.stderr : null;
  return { probe: probeFromProcess(result), text: result.outcome === 'ok' ? result.stdout : text };
}

async function file(path: string): Promise<RawText> {
  const started = performance.now();
  const text = await readTextIfExists(path);
  const duration_ms = Math.round(performance.now() - started);
  return text === null
    ? { probe: { status: 'absent', duration_ms, reason: `${path} not found` }, text: null }
    : { probe: { status: 'ok', duration_ms }, text };
}

const CUDNN_HEADER_CANDIDATES = [
  '/usr/include/cudnn_version.h',
  '/usr/include/x86_64-linux-gnu/cudnn_version_v9.h',
  '/usr/include/x86_64-linux-gnu/cudnn_version_v8.h',
  '/usr/include/aarch64-linux-gnu/cudnn_version_v9.h',
  '/usr/include/aarch64-linux-gnu/cudnn_version_v8.h',
  '/usr/local/cuda/include/cudnn_version.h',
  '/usr/include/cudnn.h',
  '/usr/local/cuda/include/cudnn.h',
];

export async function readHeaders(paths: string[]): Promise<Array<{ path: string; text: string }>> {
  const found = await Promise.all(
    paths.map(async (path) => {
      const text = await readTextIfExists(path, 256 * 1024);
      return text === null ? null : { path, text };
    }),
  );
  return found.filter((entry): entry is { path: string; text: string } => entry !== null);
}

/** Runs every system probe at once; the slowest one (under its timeout) sets the pace. */
export async function collectSystem(timeoutMs: number, signal?: AbortSignal): Promise<RawSystem> {
  const run = (cmd: string, args: string[]) => command(cmd, args, timeoutMs, signal);
  const [
    nvidiaSmiQuery,
    nvidiaSmiHeader,
    procDriverVersion,
    nvcc,
    cudaJson,
    cudaTxt,
    cudnnHeaders,
    cudnnLibraries,
    osRelease,
    cpuinfo,
    meminfo,
    glibc,
    cgroup,
    dockerenv,
    containerenv,
  ] = await Promise.all([
    run('nvidia-smi', nvidiaSmiQueryArgs()),
    run('nvidia-smi', []),
    file('/proc/driver/nvidia/version'),
    run('nvcc', ['--version']),
    readTextIfExists('/usr/local/cuda/version.json'),
    readTextIfExists('/usr/local/cuda/version.txt'),
    readHeaders(CUDNN_HEADER_CANDIDATES),
    run('ldconfig', ['-p']),
    file('/etc/os-release').then(async (r) => (r.text === null ? file('/usr/lib/os-release') : r)),
    file('/proc/cpuinfo'),
    file('/proc/meminfo'),
    run('getconf', ['GNU_LIBC_VERSION']).then(async (r) => (r.probe.status === 'ok' ? r : run('ldd', ['--version']))),
    readTextIfExists('/proc/1/cgroup'),
    pathExists('/.dockerenv'),
    pathExists('/run/.containerenv'),
  ]);
  const cudaVersionFile = cudaJson !== null
    ? { path: '/usr/local/cuda/version.json', text: cudaJson }
    : cudaTxt !== null
      ? { path: '/usr/local/cuda/version.txt', text: cudaTxt }
      : null;
  return {
    nvidiaSmiQuery,
    nvidiaSmiHeader,
    procDriverVersion,
    nvcc,
    cudaVersionFile,
    cudnnHeaders,
    cudnnLibraries: { ...cudnnLibraries, text: filterCudnnLines(cudnnLibraries.text) },
    osRelease,
    cpuinfo,
    meminfo,
    glibc,
    cgroup,
    dockerenv,
    containerenv,
    containerEnviron: pickDefined({ KUBERNETES_SERVICE_HOST: process.env.KUBERNETES_SERVICE_HOST, container: process.env.container }),
    kernel: release(),
    arch: arch() === 'x64' ? 'x86_64' : arch() === 'arm64' ? 'aarch64' : arch(),
    logicalCores: cpus().length,
    totalMemoryBytes: totalmem(),
  };
}

/** Keeps only the cuDNN lines of `ldconfig -p`, which lists every library on the system. */
function filterCudnnLines(text: string | null): string | null {
  if (text === null) return null;
  return text
    .split('\n')
    .filter((line) => /libcudnn[^ ]*\.so/.test(line))
    .map((line) => line.trim())
    .join('\n');
}

function pickDefined<T extends Record<string, string | undefined>>(values: T): { [K in keyof T]?: string } {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: string };
}
