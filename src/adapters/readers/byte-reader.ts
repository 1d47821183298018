// Sequential byte readers over a file or a stream (a zip entry), with the position they are at, so
// the readers of array formats can parse a header, hand the data to the comparator, and go on to
// whatever follows. Files also read at any position (for reordering large arrays).
import type { Readable } from 'node:stream';

export interface ByteReader {
  /** 'baseline' or 'candidate', for messages. */
  readonly label: string;
  /** Total bytes when known beforehand (a file, a zip entry's declared size); null otherwise. */
  readonly size: number | null;
  /** Bytes consumed so far. */
  readonly position: number;
  /** Reads the next `length` bytes into target[0..]; fewer only at the end. */
  read(target: Uint8Array, length: number): Promise<number>;
  /** Skips up to `length` bytes; returns how many were skipped. */
  skip(length: number): Promise<number>;
  /** Reads at an absolute position, not moving `position`; files only. */
  readAt?(target: Uint8Array, length: number, position: number): Promise<number>;
  close(): Promise<void>;
}

/** Reads a stream's bytes into caller-provided buffers, exactly as many as asked (fewer only at its end). */
export class StreamByteReader implements ByteReader {
  private readonly iterator: AsyncIterator<unknown>;
  private leftover: Uint8Array | null = null;
  private leftoverOffset = 0;
  position = 0;

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
    this.position += filled;
    return filled;
  }

  async skip(length: number): Promise<number> {
    const scratch = new Uint8Array(Math.min(length, 1 << 20));
    let skipped = 0;
    while (skipped < length) {
      const got = await this.read(scratch, Math.min(scratch.length, length - skipped));
      if (got === 0) break;
      skipped += got;
    }
    return skipped;
  }

  async close(): Promise<void> {
    this.stream.destroy();
  }
}
