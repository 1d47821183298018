// Reading .npy streams (a file, or an .npz entry): header after header, as np.load does on a file
// handle when np.save was called several times on it. This module only reads: it parses each
// header and hands the data to the pairing in core/compare/tensor-pair.ts, which judges.
import { npyHeaderLength, parseNpyHeader, MAX_NPY_HEADER_BYTES, npyDataIsPickled } from '../../core/compare/npy-header.js';
import type { TensorDiff, Tolerance } from '../../core/compare/model.js';
import { compareTensorSequences, dataBytesOf, type PairOptions, type SequenceItem, type TensorData, type TensorSequence } from '../../core/compare/tensor-pair.js';
import type { ByteReader } from './byte-reader.js';
import { openFileReader, spoolToTempFile } from '../fs.js';

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Bytes already read (a peeked prefix) followed by the rest of the reader. */
function restOf(reader: ByteReader, prefix: Uint8Array): TensorData {
  let offset = 0;
  return {
    available: reader.size === null ? null : reader.size - reader.position + (prefix.length - offset),
    async read(target, length) {
      let filled = 0;
      if (offset < prefix.length) {
        const take = Math.min(length, prefix.length - offset);
        target.set(prefix.subarray(offset, offset + take));
        offset += take;
        filled = take;
      }
      if (filled < length) filled += await reader.read(target.subarray(filled), length - filled);
      return filled;
    },
  };
}

/** The arrays of one .npy stream, one after the other. */
export class NpySequence implements TensorSequence {
  /** Data bytes of the array returned last that the comparator may have left unread. */
  private unread = 0;
  private finished = false;
  private index = 0;
  /** The previous array's data spooled to a temporary file (a stream reordered), removed on the next step. */
  private spooled: { dispose(): Promise<void> } | null = null;

  constructor(private readonly reader: ByteReader) {}

  async close(): Promise<void> {
    await this.spooled?.dispose();
    this.spooled = null;
  }

  async next(): Promise<SequenceItem> {
    await this.close();
    if (this.finished) return { kind: 'end' };
    const reader = this.reader;
    if (this.unread > 0) {
      const skipped = await reader.skip(this.unread);
      const short = this.unread - skipped;
      this.unread = 0;
      // The comparator already reported the truncation of that array; nothing follows it.
      if (short > 0) return this.end();
    }
    const first = this.index === 0;
    const prefix = new Uint8Array(12);
    const got = await reader.read(prefix, 12);
    const isArray = got >= MAGIC.length && Buffer.from(prefix.buffer, 0, MAGIC.length).equals(MAGIC);
    if (!isArray) {
      if (first) return this.fail(got === 0 ? `${reader.label}: empty file, not an .npy file` : `${reader.label}: not an .npy file: bad magic`);
      if (got === 0) return this.end();
      this.finished = true;
      return { kind: 'rest', data: restOf(reader, prefix.subarray(0, got)) };
    }
    let header;
    try {
      const total = npyHeaderLength(prefix.subarray(0, got));
      if (total > MAX_NPY_HEADER_BYTES) throw new Error(`implausible .npy header length ${total}`);
      if (total < got) throw new Error('bad .npy header: header length too small');
      const bytes = new Uint8Array(total);
      bytes.set(prefix.subarray(0, got));
      const rest = await reader.read(bytes.subarray(got), total - got);
      if (rest < total - got) throw new Error('truncated header');
      header = parseNpyHeader(bytes);
    } catch (err) {
      return this.fail(`${reader.label}: ${first ? '' : `array ${this.index}: `}${message(err)}`);
    }
    this.index++;
    const pickled = npyDataIsPickled(header.dtype);
    const shape = header.shape;
    const dataBytes = dataBytesOf({ dtype: header.dtype, shape, fortranOrder: header.fortranOrder });
    const dataStart = reader.position;
    // A pickle has no length of its own: it runs to the end, and nothing can follow it.
    if (pickled) this.finished = true;
    let consumed = 0;
    const limit = pickled ? Number.POSITIVE_INFINITY : dataBytes;
    this.unread = pickled ? 0 : dataBytes;
    const read = async (target: Uint8Array, length: number): Promise<number> => {
      const want = Math.min(length, limit - consumed);
      if (want <= 0) return 0;
      const n = await reader.read(target, want);
      consumed += n;
      if (!pickled) this.unread = dataBytes - consumed;
      return n;
    };
    // Reordering needs reads at any position: a file gives them; a stream (an .npz entry) is
    // spooled to a temporary file first, on the first such read.
    let spool: Promise<{ readAt: NonNullable<TensorData['readAt']>; dispose(): Promise<void> }> | null = null;
    const readAt: NonNullable<TensorData['readAt']> = reader.readAt
      ? (target, length, position) => (reader.readAt as NonNullable<ByteReader['readAt']>)(target, length, dataStart + position)
      : async (target, length, position) => {
          spool ??= spoolToTempFile(read, dataBytes - consumed).then((s) => {
            this.spooled = s;
            return s;
          });
          return (await spool).readAt(target, length, position);
        };
    const data: TensorData = { available: reader.size === null ? null : reader.size - dataStart, read, readAt };
    return { kind: 'tensor', side: { label: reader.label as 'baseline' | 'candidate', header: { dtype: header.dtype, shape, fortranOrder: header.fortranOrder }, data } };
  }

  private end(): SequenceItem {
    this.finished = true;
    return { kind: 'end' };
  }

  private fail(text: string): SequenceItem {
    this.finished = true;
    return { kind: 'error', message: text };
  }
}

/** Judges two .npy byte streams array by array; never throws for bad data. */
export async function compareNpyReaders(baseline: ByteReader, candidate: ByteReader, tolerance: Tolerance, prefix = '', options: PairOptions = {}): Promise<TensorDiff[]> {
  const sequences = [new NpySequence(baseline), new NpySequence(candidate)] as const;
  try {
    return await compareTensorSequences(sequences[0], sequences[1], tolerance, prefix, options);
  } finally {
    await Promise.all(sequences.map((s) => s.close()));
  }
}

/** Judges two .npy files: every array in each (several np.save calls on one file), and anything after the last. */
export async function compareNpyFiles(baselinePath: string, candidatePath: string, tolerance: Tolerance, options: PairOptions = {}): Promise<{ tensors: TensorDiff[]; error?: string }> {
  const opened = await Promise.allSettled([openFileReader(baselinePath, 'baseline'), openFileReader(candidatePath, 'candidate')]);
  try {
    const failures = opened.flatMap((r) => (r.status === 'rejected' ? [message(r.reason)] : []));
    if (failures.length > 0) return { tensors: [], error: failures.join('; ') };
    const [a, b] = opened.map((r) => (r as PromiseFulfilledResult<ByteReader>).value) as [ByteReader, ByteReader];
    return { tensors: await compareNpyReaders(a, b, tolerance, '', options) };
  } finally {
    await Promise.all(opened.map((r) => (r.status === 'fulfilled' ? r.value.close().catch(() => undefined) : undefined)));
  }
}
