// Reading two .npz archives (np.savez: stored entries; np.savez_compressed: deflated) entry by
// entry. Every entry is judged, as np.load sees it: an entry whose bytes start with the .npy magic
// is an array, whatever else is in the archive (a notes.txt, a meta.json, a folder entry) is
// compared by its bytes, with a text diff when small; each under the key np.load gives it. Each entry is
// streamed from both archives in lockstep, so memory stays flat.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { blankTensorDiff, type MetricDiff, type TensorDiff, type Tolerance } from '../../core/compare/model.js';
import { looksLikeText, TEXT_DIFF_MAX_BYTES, unifiedTextDiff } from '../../core/compare/text-diff.js';
import type { PairOptions } from '../../core/compare/tensor-pair.js';
import { StreamByteReader } from './byte-reader.js';
import { compareNpyReaders } from './npy-file.js';
import { ZipArchive, type ZipEntryInfo } from './zip.js';

export interface NpzComparison {
  /** Array entries present on both sides (one item per array they hold), sorted by name. */
  tensors: TensorDiff[];
  /** Non-array entries present on both sides, by entry name: identical or different by bytes. */
  entries: MetricDiff[];
  /** Names of entries only in the baseline / only in the candidate (arrays without '.npy'). */
  missing: string[];
  extra: string[];
  /** Set when an archive cannot be read at all. */
  error?: string;
}

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function startsWithMagic(archive: ZipArchive, entry: ZipEntryInfo): Promise<boolean> {
  if (entry.size < MAGIC.length) return false;
  const stream = await archive.openStream(entry.name);
  try {
    const reader = new StreamByteReader('', stream, entry.size);
    const head = new Uint8Array(MAGIC.length);
    const got = await reader.read(head, head.length);
    return got === MAGIC.length && Buffer.from(head).equals(MAGIC);
  } finally {
    stream.destroy();
  }
}

interface Classified {
  entry: ZipEntryInfo;
  /** The name np.load gives it: without '.npy' for arrays. */
  name: string;
  array: boolean;
}

/**
 * Every entry under the key np.load opens it by. np.load lists each entry of the archive (a
 * folder entry 'dir/' too) with a '.npy' suffix removed, and its key 'x' opens the entry named
 * 'x' when there is one, else 'x.npy': so 'x.npy' is 'x' unless an entry 'x' exists, and then it
 * is reached as 'x.npy'. Each entry has its own key, whatever the order of the archive, so none
 * is lost and each is compared.
 */
async function classify(archive: ZipArchive): Promise<Map<string, Classified>> {
  const entries = archive.entries;
  const stored = new Set(entries.map((e) => e.name));
  const out = new Map<string, Classified>();
  for (const entry of entries) {
    const array = !entry.name.endsWith('/') && (await startsWithMagic(archive, entry));
    const stripped = entry.name.endsWith('.npy') ? entry.name.slice(0, -'.npy'.length) : entry.name;
    const name = stripped !== entry.name && stored.has(stripped) ? entry.name : stripped;
    out.set(name, { entry, name, array });
  }
  return out;
}

async function digest(stream: Readable, keep: number): Promise<{ sha256: string; size: number; head: Buffer | null }> {
  const hash = createHash('sha256');
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = chunk as Buffer;
    hash.update(buffer);
    if (size + buffer.length <= keep) parts.push(buffer);
    size += buffer.length;
  }
  return { sha256: hash.digest('hex'), size, head: size <= keep ? Buffer.concat(parts) : null };
}

async function compareBytesEntry(a: ZipArchive, b: ZipArchive, ea: ZipEntryInfo, eb: ZipEntryInfo, name: string): Promise<MetricDiff> {
  const [da, db] = await Promise.all([digest(await a.openStream(ea.name), TEXT_DIFF_MAX_BYTES), digest(await b.openStream(eb.name), TEXT_DIFF_MAX_BYTES)]);
  const same = da.sha256 === db.sha256 && da.size === db.size;
  const diff: MetricDiff = { key: name, status: same ? 'identical' : 'different', baseline: `sha256:${da.sha256}`, candidate: `sha256:${db.sha256}`, difference: null, tolerance: null };
  if (same) return diff;
  diff.message = `entry content differs (${da.size} bytes in the baseline, ${db.size} in the candidate)`;
  if (da.head && db.head && looksLikeText(da.head) && looksLikeText(db.head)) diff.text_diff = unifiedTextDiff(da.head.toString('utf8'), db.head.toString('utf8'));
  return diff;
}

async function compareArrayEntry(a: ZipArchive, b: ZipArchive, ea: ZipEntryInfo, eb: ZipEntryInfo, name: string, tolerance: Tolerance, options: PairOptions): Promise<TensorDiff[]> {
  const opened = await Promise.allSettled([a.openStream(ea.name), b.openStream(eb.name)]);
  const readers = opened.map((r, i) => (r.status === 'fulfilled' ? new StreamByteReader(i === 0 ? 'baseline' : 'candidate', r.value, (i === 0 ? ea : eb).size) : null));
  try {
    const failures = opened.flatMap((r, i) => (r.status === 'rejected' ? [`${i === 0 ? 'baseline' : 'candidate'}: ${message(r.reason)}`] : []));
    if (failures.length > 0) return [blankTensorDiff(name, 'error', tolerance, { message: failures.join('; ') })];
    return await compareNpyReaders(readers[0] as StreamByteReader, readers[1] as StreamByteReader, tolerance, name, options);
  } catch (err) {
    return [blankTensorDiff(name, 'error', tolerance, { message: message(err) })];
  } finally {
    await Promise.all(readers.map((r) => r?.close()));
  }
}

/** Compares two .npz files entry by entry, each archive opened once; never throws for bad files. */
export async function compareNpzFiles(baselinePath: string, candidatePath: string, toleranceFor: (name: string) => Tolerance, options: PairOptions = {}): Promise<NpzComparison> {
  const opened = await Promise.allSettled([ZipArchive.open(baselinePath), ZipArchive.open(candidatePath)]);
  const [a, b] = opened;
  try {
    if (a.status !== 'fulfilled' || b.status !== 'fulfilled') {
      const failures = opened.flatMap((r, i) => (r.status === 'rejected' ? [`${i === 0 ? 'baseline' : 'candidate'}: ${message(r.reason)}`] : []));
      return { tensors: [], entries: [], missing: [], extra: [], error: failures.join('; ') };
    }
    const [base, cand] = await Promise.all([classify(a.value), classify(b.value)]);
    const tensors: TensorDiff[] = [];
    const entries: MetricDiff[] = [];
    const missing: string[] = [];
    for (const [name, left] of [...base.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
      const right = cand.get(name);
      if (right === undefined) {
        missing.push(name);
      } else if (left.array && right.array) {
        tensors.push(...(await compareArrayEntry(a.value, b.value, left.entry, right.entry, name, toleranceFor(name), options)));
      } else if (!left.array && !right.array) {
        entries.push(await compareBytesEntry(a.value, b.value, left.entry, right.entry, name));
      } else {
        entries.push({ key: name, status: 'different', baseline: left.array ? 'an array' : 'not an array', candidate: right.array ? 'an array' : 'not an array', difference: null, tolerance: null, message: 'an array on one side only' });
      }
    }
    const extra = [...cand.keys()].filter((name) => !base.has(name)).sort();
    return { tensors, entries, missing, extra };
  } catch (err) {
    return { tensors: [], entries: [], missing: [], extra: [], error: message(err) };
  } finally {
    for (const r of opened) if (r.status === 'fulfilled') r.value.close();
  }
}
