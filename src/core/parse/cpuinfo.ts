// /proc/cpuinfo on x86_64 ("flags : ...") and aarch64 ("Features : ..."). Only the flags that
// change numerical results or kernel selection are kept.

import type { SystemInfo } from '../model.js';
import { splitLines } from './text.js';

export type CpuInfo = SystemInfo['cpu'];

/** x86 flags that decide which SIMD/matrix kernels (and so which rounding) a framework uses. */
export const NUMERICS_CPU_FLAGS = [
  'sse4_1',
  'sse4_2',
  'avx',
  'avx2',
  'fma',
  'f16c',
  'avx512f',
  'avx512dq',
  'avx512bw',
  'avx512vl',
  'avx512_vnni',
  'avx512_bf16',
  'avx512_fp16',
  'amx_bf16',
  'amx_int8',
  'amx_tile',
  'avx_vnni',
] as const;

/** The aarch64 counterparts, from the "Features" line. */
export const AARCH64_NUMERICS_CPU_FLAGS = ['asimd', 'sve', 'sve2', 'bf16', 'i8mm', 'fphp', 'asimdhp'] as const;

const KEPT = new Set<string>([...NUMERICS_CPU_FLAGS, ...AARCH64_NUMERICS_CPU_FLAGS]);

/**
 * The CPU model, logical core count (the "processor" entries) and the numerics-relevant flags
 * that every logical CPU reports, sorted. On aarch64 without a "model name" the model is
 * "CPU implementer 0x41 part 0xd40" (or "CPU part 0xd40"), and null when neither is there.
 */
export function parseCpuinfo(text: string): CpuInfo {
  let logical = 0;
  let modelName: string | null = null;
  let implementer: string | null = null;
  let part: string | null = null;
  let common: string[] | null = null;

  for (const line of splitLines(text)) {
    const m = /^([^:]+?)\s*:\s*(.*)$/.exec(line.trim());
    if (!m) continue;
    const key = (m[1] as string).toLowerCase();
    const value = (m[2] as string).trim();
    if (key === 'processor' && /^\d+$/.test(value)) {
      logical++;
    } else if (key === 'model name' && modelName === null && value !== '') {
      modelName = value.replace(/\s+/g, ' ');
    } else if (key === 'cpu implementer' && implementer === null && value !== '') {
      implementer = value;
    } else if (key === 'cpu part' && part === null && value !== '') {
      part = value;
    } else if (key === 'flags' || key === 'features') {
      const mine = value.split(/\s+/).filter((f) => KEPT.has(f));
      common = common === null ? mine : common.filter((f) => mine.includes(f));
    }
  }

  let model = modelName;
  if (model === null && part !== null) model = implementer !== null ? `CPU implementer ${implementer} part ${part}` : `CPU part ${part}`;
  const flags = [...new Set(common ?? [])].sort();
  return { model, logical_cores: logical, flags };
}
