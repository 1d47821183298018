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

function unsafeName(name: string): boolean {
  return name.startsWith('/') || name.includes('\\') || /^[A-Za-z]:/.test(name) || name.split('/').includes('..');
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
    for await (const entry of zip.eachEntry()) {
      if (unsafeName(entry.fileName)) throw new Error(`unsafe entry name in zip archive ${path}: ${entry.fileName}`);
      out.push(entry);
    }
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('unsafe entry name')) throw err;
    throw wrap(path, err);
  }
  return out;
}

/** The archive's entries (directories included, their names ending in '/'). */
export async function listZip(path: string): Promise<ZipEntryInfo[]> {
  const zip = await openArchive(path);
  try {
    return (await entries(zip, path)).map((e) => ({
      name: e.fileName,
      size: e.uncompressedSize,
      compressedSize: e.compressedSize,
      compressed: e.compressionMethod !== 0,
    }));
  } finally {
    zip.close();
  }
}

async function findEntry(zip: yauzl.ZipFile, path: string, name: string): Promise<yauzl.Entry> {
  const entry = (await entries(zip, path)).find((e) => e.fileName === name);
  if (!entry) throw new Error(`no entry ${name} in zip archive ${path}`);
  if (entry.isEncrypted()) throw new Error(`entry ${name} in zip archive ${path} is encrypted`);
  if (!entry.canDecodeFileData()) throw new Error(`entry ${name} in zip archive ${path} uses an unsupported compression method (${entry.compressionMethod})`);
  return entry;
}

/**
 * The decompressed bytes of one entry as a stream. The archive closes when the stream ends or is
 * destroyed. A stream whose data is corrupt, or longer or shorter than declared, emits an error
 * whose message names the archive.
 */
export async function openZipEntryStream(path: string, name: string): Promise<Readable> {
  const zip = await openArchive(path);
  try {
    const entry = await findEntry(zip, path, name);
    let stream: Readable;
    try {
      stream = await zip.openReadStreamPromise(entry);
    } catch (err) {
      throw wrap(path, err);
    }
    // Hand out a PassThrough so that errors can carry the archive's name, and so that
    // destroying it (a consumer that stops early) releases the entry stream and the archive.
    const out = new PassThrough();
    stream.on('error', (err) => {
      out.destroy(new Error(`cannot read entry ${name} of zip archive ${path}: ${err.message}`));
    });
    out.once('close', () => {
      stream.destroy();
      zip.close();
    });
    stream.pipe(out);
    return out;
  } catch (err) {
    zip.close();
    throw err;
  }
}

/** One entry's decompressed bytes, refusing entries declared larger than maxBytes. */
export async function readZipEntry(path: string, name: string, maxBytes: number): Promise<Buffer> {
  const zip = await openArchive(path);
  let stream: Readable;
  try {
    const entry = await findEntry(zip, path, name);
    if (entry.uncompressedSize > maxBytes) {
      throw new Error(`entry ${name} in zip archive ${path} is too large: ${entry.uncompressedSize} bytes (limit ${maxBytes})`);
    }
    try {
      stream = await zip.openReadStreamPromise(entry);
    } catch (err) {
      throw wrap(path, err);
    }
  } catch (err) {
    zip.close();
    throw err;
  }
  try {
    const parts: Buffer[] = [];
    let total = 0;
    for await (const chunk of stream) {
      const buf = chunk as Buffer;
      total += buf.length;
      if (total > maxBytes) {
        stream.destroy();
        throw new Error(`entry ${name} in zip archive ${path} is larger than ${maxBytes} bytes`);
      }
      parts.push(buf);
    }
    return Buffer.concat(parts, total);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    if (detail.includes(path)) throw err;
    throw new Error(`cannot read entry ${name} of zip archive ${path}: ${detail}`);
  } finally {
    zip.close();
  }
}
