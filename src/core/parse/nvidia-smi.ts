// nvidia-smi output: the CSV query and the plain table header. See
// shared/reference/cuda-matrix.md §4 for the shapes. nvidia-smi's human output is documented
// as unstable, so everything here is lenient and returns null rather than guessing.

import type { GpuDevice } from '../model.js';
import { firstMatch, nonEmptyLines } from './text.js';

/** The fields the capture spawns `nvidia-smi --query-gpu=...` with, in this order. */
export const NVIDIA_SMI_QUERY_FIELDS = ['index', 'name', 'uuid', 'compute_cap', 'memory.total', 'driver_version'] as const;

export type NvidiaSmiQueryField = (typeof NVIDIA_SMI_QUERY_FIELDS)[number];

/** The argument list matching NVIDIA_SMI_QUERY_FIELDS, with the header row kept. */
export function nvidiaSmiQueryArgs(fields: readonly string[] = NVIDIA_SMI_QUERY_FIELDS): string[] {
  return [`--query-gpu=${fields.join(',')}`, '--format=csv,nounits'];
}

/** Query names that nvidia-smi prints under another header name. */
const HEADER_ALIASES: Record<string, string> = {
  gpu_name: 'name',
  gpu_uuid: 'uuid',
  'gpu_index': 'index',
};

function headerKey(cell: string): string {
  const key = cell
    .replace(/\[[^\]]*\]/g, '')
    .trim()
    .toLowerCase();
  return HEADER_ALIASES[key] ?? key;
}

/** "[N/A]", "N/A", "[Not Supported]", "" → null; anything else trimmed. */
function cellValue(cell: string | undefined): string | null {
  if (cell === undefined) return null;
  const v = cell.trim();
  if (v === '' || /^\[?(N\/A|Not Supported|Unknown Error|Insufficient Permissions|GPU requires reset)\]?$/i.test(v)) return null;
  return v;
}

function parseMib(cell: string | null): number | null {
  if (cell === null) return null;
  const m = /^(\d+(?:\.\d+)?)\s*(MiB|GiB)?$/i.exec(cell);
  if (!m) return null;
  const n = Number(m[1]);
  return m[2]?.toLowerCase() === 'gib' ? Math.round(n * 1024) : n;
}

function splitCsvLine(line: string): string[] {
  return line.split(',').map((c) => c.trim());
}

/**
 * Parses `nvidia-smi --query-gpu=<fields> --format=csv,nounits` output, header row included,
 * mapping columns by header name (units in brackets are ignored, so `memory.total [MiB]` is
 * `memory.total`). Works with or without `nounits` and without the compute_cap column (old
 * drivers). Headerless output is read only when it has exactly NVIDIA_SMI_QUERY_FIELDS's
 * columns. Rows with the wrong number of cells (error lines) are skipped.
 */
export function parseNvidiaSmiQuery(csv: string): { devices: GpuDevice[]; driverVersion: string | null } {
  const lines = nonEmptyLines(csv);
  const devices: GpuDevice[] = [];
  let driverVersion: string | null = null;

  const headerAt = lines.findIndex((line) => {
    const keys = splitCsvLine(line).map(headerKey);
    return keys.includes('uuid') || (keys.includes('index') && keys.includes('name'));
  });
  let columns: string[];
  let rows: string[];
  if (headerAt >= 0) {
    columns = splitCsvLine(lines[headerAt] as string).map(headerKey);
    rows = lines.slice(headerAt + 1);
  } else {
    columns = [...NVIDIA_SMI_QUERY_FIELDS];
    rows = lines.filter((line) => /^\d+\s*,/.test(line));
  }

  for (const [ordinal, line] of rows.entries()) {
    const cells = splitCsvLine(line);
    if (cells.length !== columns.length) continue;
    const get = (key: string): string | null => {
      const i = columns.indexOf(key);
      return i < 0 ? null : cellValue(cells[i]);
    };
    const indexText = get('index');
    const index = indexText !== null && /^\d+$/.test(indexText) ? Number(indexText) : ordinal;
    const cc = get('compute_cap');
    devices.push({
      index,
      name: get('name') ?? '',
      uuid: get('uuid') ?? '',
      compute_capability: cc !== null && /^\d+\.\d+$/.test(cc) ? cc : null,
      memory_total_mib: parseMib(get('memory.total')),
    });
    driverVersion ??= get('driver_version');
  }
  return { devices, driverVersion };
}

/**
 * The driver version and the highest CUDA version the driver supports, from the header of
 * plain `nvidia-smi`. Pre-410 drivers print no CUDA field; R6xx prints "KMD Version" and
 * "CUDA UMD Version"; "CUDA Version: N/A" gives null.
 */
export function parseNvidiaSmiHeader(text: string): { driverVersion: string | null; cudaVersion: string | null } {
  const driverVersion =
    firstMatch(text, /Driver Version:\s*(\d+(?:\.\d+)*)/) ?? firstMatch(text, /KMD Version:\s*(\d+(?:\.\d+)*)/);
  const cuda = firstMatch(text, /CUDA(?: UMD)? Version:\s*(\d+(?:\.\d+)*|N\/A)/);
  return { driverVersion, cudaVersion: cuda === null || cuda === 'N/A' ? null : cuda };
}

const NO_DEVICE_PATTERNS: RegExp[] = [
  /NVIDIA-SMI has failed because it couldn'?t communicate with the NVIDIA driver/i,
  /No devices were found/i,
  /NVIDIA-SMI couldn'?t find libnvidia-ml\.so library/i,
];

/**
 * True when nvidia-smi says there is no usable GPU or driver (rather than failing some
 * other way, such as a driver/library version mismatch, which is worth reporting as an error).
 */
export function isNoDeviceMessage(text: string): boolean {
  return NO_DEVICE_PATTERNS.some((re) => re.test(text));
}
