// Reading zip archives (.npz, .keras) through yauzl, with errors that name the file.
// yauzl checks the central directory against the local headers, refuses entry names that are
// absolute or contain '..' segments, and (validateEntrySizes) fails a stream whose data does not
// match the declared uncompressed size, so a zip bomb cannot inflate past what it declares.
import { PassThrough, type Readable } from 'node:stream';
import yauzl from 'yauzl';

export interface ZipEntryInfo {
  name: string;
  /** Declared uncompressed size in bytes. */
  size: number;
  compressedSize: number;
  /** Deflated (np.savez_compressed) rather than stored (np.savez). */
  compressed: boolean;
}

function wrap(path: string, err: unknown): Error {
  const detail = err instanceof Error ? err.message : String(err);
  if (/invalid relative path|absolute path|invalid characters in fileName|strictFileNames/i.test(detail)) {
    return new Error(`unsafe entry name in zip archive ${path}: ${detail}`);
  }
  if (/ENOENT/.test(detail)) return new Error(`no such file: ${path}`);
  if (/EISDIR|EACCES/.test(detail)) return new Error(`cannot read ${path}: ${detail}`);
  return new Error(`not a zip archive (corrupt or truncated): ${path} (${detail})`);
}

async function openArchive(path: string): Promise<yauzl.ZipFile> {
  try {
    return await yauzl.openPromise(path, { lazyEntries: true, autoClose: false, validateEntrySizes: true, decodeStrings: true });
  } catch (err) {
    throw wrap(path, err);
  }
}

async function entries(zip: yauzl.ZipFile, path: string): Promise<yauzl.Entry[]> {
  const out: yauzl.Entry[] = [];
  try {
    // yauzl (decodeStrings) refuses absolute names, backslashes, drive letters and '..' itself.
    for await (const entry of zip.eachEntry()) out.push(entry);
  } catch (err) {
    throw wrap(path, err);
  }
  return out;
}

function info(e: yauzl.Entry): ZipEntryInfo {
  return { name: e.fileName, size: e.uncompressedSize, compressedSize: e.compressedSize, compressed: e.compressionMethod !== 0 };
}

function checkReadable(entry: yauzl.Entry, path: string): void {
  if (entry.isEncrypted()) throw new Error(`entry ${entry.fileName} in zip archive ${path} is encrypted`);
  if (!entry.canDecodeFileData()) throw new Error(`entry ${entry.fileName} in zip archive ${path} uses an unsupported compression method (${entry.compressionMethod})`);
}

/**
 * An archive opened once, its central directory read once: reading many entries (an .npz with
 * thousands of arrays) costs one pass, not one pass per entry. Close it when done.
 */
export class ZipArchive {
  private constructor(
    readonly path: string,
    private readonly zip: yauzl.ZipFile,
    private readonly byName: Map<string, yauzl.Entry>,
  ) {}

  static async open(path: string): Promise<ZipArchive> {
    const zip = await openArchive(path);
    try {
      const list = await entries(zip, path);
      return new ZipArchive(path, zip, new Map(list.map((e) => [e.fileName, e])));
    } catch (err) {
      zip.close();
      throw err;
    }
  }

  /** The archive's entries (directories included, their names ending in '/'). */
  get entries(): ZipEntryInfo[] {
    return [...this.byName.values()].map(info);
  }

  private entry(name: string): yauzl.Entry {
    const entry = this.byName.get(name);
    if (!entry) throw new Error(`no entry ${name} in zip archive ${this.path}`);
    checkReadable(entry, this.path);
    return entry;
  }

  /**
   * The decompressed bytes of one entry as a stream. Corrupt data, or data longer or shorter than
   * declared, ends the stream with an error whose message names the archive.
   */
  async openStream(name: string): Promise<Readable> {
    let stream: Readable;
    try {
      stream = await this.zip.openReadStreamPromise(this.entry(name));
    } catch (err) {
      throw err instanceof Error && err.message.includes(this.path) ? err : wrap(this.path, err);
    }
    // A PassThrough so errors carry the archive's name. It keeps a listener from the start: an
    // error that comes before the consumer starts reading (the other side still opening) must be
    // held for that consumer, not crash the process as an unhandled 'error' event.
    const out = new PassThrough();
    out.on('error', () => undefined);
    stream.on('error', (err) => out.destroy(new Error(`cannot read entry ${name} of zip archive ${this.path}: ${err.message}`)));
    out.once('close', () => stream.destroy());
    stream.pipe(out);
    return out;
  }

  /** One entry's decompressed bytes, refusing entries larger than maxBytes. */
  async read(name: string, maxBytes: number): Promise<Buffer> {
    const declared = this.entry(name).uncompressedSize;
    if (declared > maxBytes) throw new Error(`entry ${name} in zip archive ${this.path} is too large: ${declared} bytes (limit ${maxBytes})`);
    const stream = await this.openStream(name);
    const parts: Buffer[] = [];
    let total = 0;
    try {
      for await (const chunk of stream) {
        const buf = chunk as Buffer;
        total += buf.length;
        if (total > maxBytes) throw new Error(`entry ${name} in zip archive ${this.path} is larger than ${maxBytes} bytes`);
        parts.push(buf);
      }
    } finally {
      stream.destroy();
    }
    return Buffer.concat(parts, total);
  }

  close(): void {
    this.zip.close();
  }
}

/** The archive's entries (directories included, their names ending in '/'). */
export async function listZip(path: string): Promise<ZipEntryInfo[]> {
  const archive = await ZipArchive.open(path);
  try {
    return archive.entries;
  } finally {
    archive.close();
  }
}

/** One entry as a stream, from an archive opened for it alone; the archive closes with the stream. */
export async function openZipEntryStream(path: string, name: string): Promise<Readable> {
  const archive = await ZipArchive.open(path);
  try {
    const stream = await archive.openStream(name);
    stream.once('close', () => archive.close());
    return stream;
  } catch (err) {
    archive.close();
    throw err;
  }
}

/** One entry's decompressed bytes, from an archive opened for it alone. */
export async function readZipEntry(path: string, name: string, maxBytes: number): Promise<Buffer> {
  const archive = await ZipArchive.open(path);
  try {
    return await archive.read(name, maxBytes);
  } finally {
    archive.close();
  }
}
