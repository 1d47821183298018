// Comparing two .npz archives (np.savez: stored entries; np.savez_compressed: deflated) array by
// array. Each array's entry is streamed from both archives in lockstep, re-cut into aligned,
// preallocated chunks (stream chunks have arbitrary sizes), so memory stays flat.
import type { Readable } from 'node:stream';
import { blankTensorDiff, type TensorDiff, type Tolerance } from '../core/compare/model.js';
import { compareNpySources, type NpySource } from './npy-file.js';
import { ZipArchive, type ZipEntryInfo } from './zip.js';

export interface NpzComparison {
  /** The arrays present on both sides, in the baseline's order. */
  tensors: TensorDiff[];
  /** Arrays only in the baseline. */
  missing: string[];
  /** Arrays only in the candidate. */
  extra: string[];
  /** Set when an archive cannot be read at all (then tensors, missing and extra are empty). */
  error?: string;
}

/** Reads a stream's bytes into caller-provided buffers, exactly as many as asked (fewer only at its end). */
export class StreamSource implements NpySource {
  private readonly iterator: AsyncIterator<unknown>;
  private leftover: Uint8Array | null = null;
  private leftoverOffset = 0;

  constructor(
    readonly label: string,
    private readonly stream: Readable,
    readonly size: number | null,
  ) {
    this.iterator = stream[Symbol.asyncIterator]();
  }

  async read(target: Uint8Array, length: number): Promise<number> {
    let filled = 0;
    while (filled < length) {
      if (this.leftover === null) {
        const next = await this.iterator.next();
        if (next.done) break;
        const value = next.value;
        this.leftover = typeof value === 'string' ? Buffer.from(value) : (value as Uint8Array);
        this.leftoverOffset = 0;
      }
      const available = this.leftover.length - this.leftoverOffset;
      const take = Math.min(available, length - filled);
      target.set(this.leftover.subarray(this.leftoverOffset, this.leftoverOffset + take), filled);
      filled += take;
      this.leftoverOffset += take;
      if (this.leftoverOffset >= this.leftover.length) this.leftover = null;
    }
    return filled;
  }

  async close(): Promise<void> {
    this.stream.destroy();
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function arrays(entries: ZipEntryInfo[]): Map<string, ZipEntryInfo> {
  const out = new Map<string, ZipEntryInfo>();
  for (const e of entries) {
    if (e.name.endsWith('.npy') && !e.name.endsWith('/')) out.set(e.name.slice(0, -'.npy'.length), e);
  }
  return out;
}

async function compareEntry(baseline: ZipArchive, candidate: ZipArchive, b: ZipEntryInfo, c: ZipEntryInfo, name: string, tolerance: Tolerance): Promise<TensorDiff> {
  const opened = await Promise.allSettled([baseline.openStream(b.name), candidate.openStream(c.name)]);
  const sources: StreamSource[] = [];
  const failures: string[] = [];
  opened.forEach((r, i) => {
    const label = i === 0 ? 'baseline' : 'candidate';
    if (r.status === 'fulfilled') sources.push(new StreamSource(label, r.value, (i === 0 ? b : c).size));
    else failures.push(`${label}: ${message(r.reason)}`);
  });
  try {
    if (failures.length > 0) return blankTensorDiff(name, 'error', tolerance, { message: failures.join('; ') });
    return await compareNpySources(sources[0] as StreamSource, sources[1] as StreamSource, tolerance, name);
  } catch (err) {
    return blankTensorDiff(name, 'error', tolerance, { message: message(err) });
  } finally {
    await Promise.all(sources.map((s) => s.close()));
  }
}

/** Compares two .npz files array by array, each archive opened once; never throws for bad files. */
export async function compareNpzFiles(baselinePath: string, candidatePath: string, tolerance: Tolerance): Promise<NpzComparison> {
  const opened = await Promise.allSettled([ZipArchive.open(baselinePath), ZipArchive.open(candidatePath)]);
  const [a, b] = opened;
  try {
    if (a.status !== 'fulfilled' || b.status !== 'fulfilled') {
      const failures = opened.flatMap((r, i) => (r.status === 'rejected' ? [`${i === 0 ? 'baseline' : 'candidate'}: ${message(r.reason)}`] : []));
      return { tensors: [], missing: [], extra: [], error: failures.join('; ') };
    }
    const base = arrays(a.value.entries);
    const cand = arrays(b.value.entries);
    const tensors: TensorDiff[] = [];
    const missing: string[] = [];
    for (const [name, entry] of base) {
      const other = cand.get(name);
      if (other === undefined) missing.push(name);
      else tensors.push(await compareEntry(a.value, b.value, entry, other, name, tolerance));
    }
    const extra = [...cand.keys()].filter((name) => !base.has(name));
    return { tensors, missing, extra };
  } finally {
    for (const r of opened) if (r.status === 'fulfilled') r.value.close();
  }
}
