// Comparing two .npy arrays by streaming their data sections, in fixed chunks, through the pure
// accumulator of core/compare/tensor-compare. Memory stays flat whatever the file size: two pairs of
// preallocated chunk buffers (the next pair is read while the current one is compared).
// Nothing here throws because a file is bad: the TensorDiff says 'error' and why.
import { open, type FileHandle } from 'node:fs/promises';
import { blankTensorDiff, type TensorDiff, type Tolerance } from '../core/compare/model.js';
import { elementCount, formatShape, npyDataIsPickled, npyHeaderLength, parseNpyHeader, MAX_NPY_HEADER_BYTES, type NpyHeader } from '../core/compare/npy-header.js';
import { createTensorAccumulator, fortranToC } from '../core/compare/tensor-compare.js';

/** Bytes per chunk and side (rounded down to whole elements). */
export const NPY_CHUNK_BYTES = 8 * 1024 * 1024;
/** Arrays with different memory orders are reordered in memory up to this size (per side). */
export const MAX_REORDER_BYTES = 64 * 1024 * 1024;

/** A sequential reader of one .npy's bytes: from a file or from a zip entry's stream. */
export interface NpySource {
  /** 'baseline' or 'candidate', for messages. */
  readonly label: string;
  /** Total bytes (header and data) when known beforehand. */
  readonly size: number | null;
  /** Reads the next `length` bytes into target[0..]; fewer only at the end of the data. */
  read(target: Uint8Array, length: number): Promise<number>;
  close(): Promise<void>;
}

class FileSource implements NpySource {
  private position = 0;

  constructor(
    readonly label: string,
    private readonly handle: FileHandle,
    readonly size: number,
  ) {}

  async read(target: Uint8Array, length: number): Promise<number> {
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await this.handle.read(target, filled, length - filled, this.position);
      if (bytesRead === 0) break;
      filled += bytesRead;
      this.position += bytesRead;
    }
    return filled;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}


async function readHeader(source: NpySource): Promise<NpyHeader> {
  const prefix = new Uint8Array(12);
  const got = await source.read(prefix, 12);
  const total = npyHeaderLength(prefix.subarray(0, got));
  if (total > MAX_NPY_HEADER_BYTES) throw new Error(`implausible .npy header length ${total}`);
  if (total < got) throw new Error('bad .npy header: header length too small');
  const bytes = new Uint8Array(total);
  bytes.set(prefix.subarray(0, got));
  const rest = await source.read(bytes.subarray(got), total - got);
  if (rest < total - got) throw new Error('truncated header');
  return parseNpyHeader(bytes);
}

/** Compares two .npy byte sources; the sources are left open (the caller closes them). */
export async function compareNpySources(baseline: NpySource, candidate: NpySource, tolerance: Tolerance, name = ''): Promise<TensorDiff> {
  const diff = blankTensorDiff(name, 'error', tolerance);
  const headers = await Promise.all(
    [baseline, candidate].map(async (source) => {
      try {
        return await readHeader(source);
      } catch (err) {
        return `${source.label}: ${message(err)}`;
      }
    }),
  );
  const [bh, ch] = headers as [NpyHeader | string, NpyHeader | string];
  if (typeof bh !== 'string') {
    diff.dtype.baseline = bh.dtype.descr;
    diff.shape.baseline = bh.shape;
  }
  if (typeof ch !== 'string') {
    diff.dtype.candidate = ch.dtype.descr;
    diff.shape.candidate = ch.shape;
  }
  if (typeof bh === 'string' || typeof ch === 'string') {
    diff.message = [bh, ch].filter((h): h is string => typeof h === 'string').join('; ');
    return diff;
  }

  const why: string[] = [];
  if (bh.dtype.descr !== ch.dtype.descr) why.push(`dtype differs: ${bh.dtype.descr} vs ${ch.dtype.descr}`);
  const sameShape = bh.shape.length === ch.shape.length && bh.shape.every((d, i) => d === ch.shape[i]);
  if (!sameShape) why.push(`shape differs: ${formatShape(bh.shape)} vs ${formatShape(ch.shape)}`);
  if (why.length > 0) {
    diff.status = 'different';
    diff.message = why.join('; ');
    return diff;
  }

  const elements = elementCount(bh.shape);
  diff.elements = elements;
  const dtype = bh.dtype;
  const pickled = npyDataIsPickled(dtype);
  const dataBytes = elements * dtype.itemsize;

  if (!pickled) {
    const truncated: string[] = [];
    for (const [source, header] of [
      [baseline, bh],
      [candidate, ch],
    ] as const) {
      if (source.size === null) continue;
      const have = source.size - header.dataOffset;
      if (have < dataBytes) truncated.push(`${source.label} is truncated: ${dataBytes - have} of ${dataBytes} data bytes missing`);
    }
    if (truncated.length > 0) {
      diff.message = truncated.join('; ');
      return diff;
    }
  }

  try {
    if (pickled) {
      const same = await sameBytes(baseline, candidate);
      diff.status = same ? 'identical' : 'different';
      diff.max_abs_diff = null;
      diff.max_rel_diff = null;
      diff.mismatched = same ? 0 : elements;
      diff.mismatched_fraction = same || elements === 0 ? 0 : 1;
      diff.message = `object array (${dtype.descr}) is stored pickled: compared as whole bytes${same ? '' : ', so which elements differ is unknown'}`;
      return diff;
    }

    let stats;
    if (bh.fortranOrder !== ch.fortranOrder && bh.shape.length > 1) {
      if (dataBytes > MAX_REORDER_BYTES) {
        diff.message =
          `memory order differs (baseline ${bh.fortranOrder ? 'Fortran' : 'C'}, candidate ${ch.fortranOrder ? 'Fortran' : 'C'}) ` +
          `and the arrays (${dataBytes} bytes each) are larger than the ${MAX_REORDER_BYTES} bytes that are reordered in memory`;
        return diff;
      }
      const a = await readAll(baseline, dataBytes);
      const b = await readAll(candidate, dataBytes);
      const acc = createTensorAccumulator({ dtype, shape: bh.shape, tolerance });
      acc.add(
        bh.fortranOrder ? fortranToC(a, bh.shape, dtype.itemsize) : a,
        ch.fortranOrder ? fortranToC(b, ch.shape, dtype.itemsize) : b,
        0,
      );
      stats = acc.finish();
    } else {
      stats = await streamCompare(baseline, candidate, bh, dataBytes, tolerance);
    }
    Object.assign(diff, stats);
    if (dtype.kind === 'other') diff.message = `${dtype.descr} is not a numeric dtype: elements compared as bytes`;
    return diff;
  } catch (err) {
    diff.status = 'error';
    diff.message = message(err);
    return diff;
  }
}

async function readAll(source: NpySource, bytes: number): Promise<Uint8Array> {
  const out = new Uint8Array(bytes);
  const got = await source.read(out, bytes);
  if (got < bytes) throw new Error(`${source.label} is truncated: ${bytes - got} of ${bytes} data bytes missing`);
  return out;
}

async function streamCompare(baseline: NpySource, candidate: NpySource, header: NpyHeader, dataBytes: number, tolerance: Tolerance) {
  const { dtype, shape, fortranOrder } = header;
  const acc = createTensorAccumulator({ dtype, shape, tolerance, fortranOrder });
  const itemsize = dtype.itemsize;
  const chunk = Math.max(itemsize, Math.floor(Math.min(NPY_CHUNK_BYTES, Math.max(dataBytes, 1)) / itemsize) * itemsize);
  // Two pairs: one being compared, one being read.
  type Pair = readonly [Uint8Array, Uint8Array];
  const buffers: [Pair, Pair] = [
    [new Uint8Array(chunk), new Uint8Array(chunk)],
    [new Uint8Array(chunk), new Uint8Array(chunk)],
  ];
  const readPair = async (pair: readonly [Uint8Array, Uint8Array], length: number): Promise<void> => {
    const [ga, gb] = await Promise.all([baseline.read(pair[0], length), candidate.read(pair[1], length)]);
    const missing = [
      [baseline, ga],
      [candidate, gb],
    ]
      .filter(([, got]) => (got as number) < length)
      .map(([s, got]) => `${(s as NpySource).label} is truncated: data ended ${length - (got as number)} bytes early`);
    if (missing.length > 0) throw new Error(missing.join('; '));
  };
  let offset = 0;
  let k = 0;
  let pending: Promise<void> | null = dataBytes > 0 ? readPair(buffers[0], Math.min(chunk, dataBytes)) : null;
  while (pending) {
    await pending;
    const length = Math.min(chunk, dataBytes - offset);
    const next = offset + length;
 const current = k === 0 ? buffers[0] : buffers[1];
    k ^= 1;
    pending = next < dataBytes ? readPair(k === 0 ? buffers[0] : buffers[1], Math.min(chunk, dataBytes - next)) : null;
    try {
      acc.add(current[0].subarray(0, length), current[1].subarray(0, length), offset / itemsize);
    } catch (err) {
      // Do not leave a read in flight into a buffer nobody waits for.
      await pending?.catch(() => undefined);
      throw err;
    }
    offset = next;
  }
  return acc.finish();
}

async function sameBytes(baseline: NpySource, candidate: NpySource): Promise<boolean> {
  const a = Buffer.alloc(NPY_CHUNK_BYTES);
  const b = Buffer.alloc(NPY_CHUNK_BYTES);
  for (;;) {
    const [ga, gb] = await Promise.all([baseline.read(a, a.length), candidate.read(b, b.length)]);
    if (ga !== gb || !a.subarray(0, ga).equals(b.subarray(0, gb))) return false;
    if (ga < a.length) return true;
  }
}

async function openSource(label: string, path: string): Promise<NpySource> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`${label}: ${code === 'ENOENT' ? `no such file: ${path}` : `cannot open ${path}: ${message(err)}`}`);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new Error(`${label}: not a regular file: ${path}`);
    return new FileSource(label, handle, st.size);
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** Compares two .npy files; never throws for bad files (status 'error' with the reason). */
export async function compareNpyFiles(baselinePath: string, candidatePath: string, tolerance: Tolerance, name = ''): Promise<TensorDiff> {
  const opened = await Promise.allSettled([openSource('baseline', baselinePath), openSource('candidate', candidatePath)]);
  const sources = opened.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  try {
    const failures = opened.flatMap((r) => (r.status === 'rejected' ? [message(r.reason)] : []));
    if (failures.length > 0) {
      const diff = blankTensorDiff(name, 'error', tolerance);
      diff.message = failures.join('; ');
      return diff;
    }
    return await compareNpySources(sources[0] as NpySource, sources[1] as NpySource, tolerance, name);
  } catch (err) {
    const diff = blankTensorDiff(name, 'error', tolerance);
    diff.message = message(err);
    return diff;
  } finally {
    await Promise.all(sources.map((s) => s.close().catch(() => undefined)));
  }
}
