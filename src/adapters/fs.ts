// The one module that touches the file system for snapshot's own inputs and outputs:
// atomic writes, streaming hashes, tree walks and bundle folders.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, createReadStream, createWriteStream, fstatSync, openSync, readSync, rmSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { access, appendFile, chmod, copyFile, cp, lstat, lutimes, mkdir, mkdtemp, open, opendir, readdir, readFile, realpath, rename, rm, stat, statfs, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { InterruptedError, OutputRefusedError, UserInputError } from '../errors.js';
import type { ByteReader } from './readers/byte-reader.js';

const HASH_CHUNK = 1024 * 1024;
/** Files up to this size are read whole for hashing: many small files are bound by round trips, not bytes. */
const SMALL_HASH_BYTES = 256 * 1024;

export async function pathExists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

export async function readTextIfExists(path: string, maxBytes = 1024 * 1024): Promise<string | null> {
  try {
    const handle = await open(path, 'r');
    try {
      const buffer = Buffer.alloc(maxBytes);
      const { bytesRead } = await handle.read(buffer, 0, maxBytes, 0);
      return buffer.subarray(0, bytesRead).toString('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return null;
  }
}

/** A whole text file; one larger than maxBytes is refused rather than read into memory. */
export async function readText(path: string, what: string, maxBytes = 256 * 1024 * 1024): Promise<string> {
  try {
    const { size } = await stat(path);
    if (size > maxBytes) {
      throw new UserInputError('FILE_TOO_LARGE', `${what} ${path} is ${size} bytes, more than the ${maxBytes} this reader holds in memory`, {
        hint: 'Compare it by bytes instead (a policy rule for it), or split it.',
      });
    }
    return await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof UserInputError) throw error;
    throw new UserInputError('UNREADABLE_FILE', `cannot read ${what} ${path}: ${describeFsError(error)}`, {
      hint: 'Check the path and its permissions.',
      cause: error,
    });
  }
}

/**
 * sha256 of a file: a small one read whole into a buffer of its size, a large one in 1 MiB chunks
 * through a stream, so memory stays flat and ten thousand small files do not cost ten thousand
 * 1 MiB buffers. Aborting stops the read.
 */
export async function sha256File(path: string | Buffer, signal?: AbortSignal): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  const handle = await open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    if (size <= SMALL_HASH_BYTES) {
      // One byte more than the size: a file that grew while it is read goes the streaming way.
      const buffer = Buffer.allocUnsafe(size + 1);
      let filled = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
        if (filled === buffer.length) break;
      }
      if (filled <= size) {
        if (signal?.aborted) throw new Error('aborted');
        return { sha256: hash.update(buffer.subarray(0, filled)).digest('hex'), size: filled };
      }
    }
  } finally {
    await handle.close();
  }
  let streamed = 0;
  const stream = createReadStream(path, { highWaterMark: HASH_CHUNK, signal });
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    streamed += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size: streamed };
}

/** A file's size in bytes, or null when it cannot be read. */
export async function fileSize(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch {
    return null;
  }
}

export interface LargeFile {
  /** Path relative to the folder searched, with '/' separators. */
  path: string;
  size: number;
  /** Holds a NUL byte in its first 8000 bytes: git's own test for binary. */
  binary: boolean;
}

/**
 * The regular files among relativePaths (under root) of at least minBytes, largest first. Only
 * those are opened (for the binary test), so a large tree costs one lstat a file.
 */
export async function findLargeFiles(root: string, relativePaths: string[], minBytes: number): Promise<LargeFile[]> {
  const found: LargeFile[] = [];
  const batch = 64;
  for (let i = 0; i < relativePaths.length; i += batch) {
    await Promise.all(
      relativePaths.slice(i, i + batch).map(async (rel) => {
        const absolute = join(root, rel);
        const info = await lstat(absolute).catch(() => null);
        if (info === null || !info.isFile() || info.size < minBytes) return;
        found.push({ path: toPosix(rel), size: info.size, binary: await holdsNul(absolute) });
      }),
    );
  }
  return found.sort((a, b) => b.size - a.size || (a.path < b.path ? -1 : 1));
}

async function holdsNul(path: string): Promise<boolean> {
  try {
    const handle = await open(path, 'r');
    try {
      const buffer = Buffer.alloc(8000);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      return buffer.subarray(0, bytesRead).includes(0);
    } finally {
      await handle.close();
    }
  } catch {
    return false;
  }
}

export interface WalkedFile {
  /** Path relative to the walk root, with '/' separators (a name that is not UTF-8 shows U+FFFD here). */
  relativePath: string;
  /** The exact bytes of the relative path, for manifests that must name the file as the file system does. */
  relativeBytes: Buffer;
  /** A string when every name on the way is UTF-8; the exact bytes otherwise (the file can still be opened). */
  absolutePath: string | Buffer;
}

export interface WalkOptions {
  /** 'throw' (default): a folder that cannot be read is an error; 'report': it is skipped through onSkip with why. */
  unreadableFolders?: 'throw' | 'report';
  /** Keep files whose names are not valid UTF-8 (training data may have them); default: skip them with why. */
  nonUtf8Names?: 'keep' | 'skip';
}

const SLASH = Buffer.from('/');
const isUtf8 = (name: Buffer) => Buffer.from(name.toString('utf8'), 'utf8').equals(name);

/**
 * Lists every regular file under root, sorted by the bytes of their paths. Symlinks are followed
 * only when they stay inside root, so a link cannot pull files from elsewhere into a manifest or a
 * bundle, and each real folder is listed once, so links that form a cycle cannot make the walk
 * endless. Names are read as bytes: a name that is not UTF-8 is kept exactly (or skipped, with why).
 */
export async function walkFiles(root: string, onSkip?: (relativePath: string, reason: string) => void, options: WalkOptions = {}): Promise<WalkedFile[]> {
  const rootReal = await realpath(root);
  const files: WalkedFile[] = [];
  const visited = new Set<string>();
  const keepNonUtf8 = options.nonUtf8Names === 'keep';
  const rootBytes = Buffer.from(root.length > 1 && root.endsWith(sep) ? root.slice(0, -1) : root);
  // Paths are built as the walk descends, as bytes, not recomputed per file.
  async function visit(dir: Buffer, real: string, relDir: Buffer): Promise<void> {
    visited.add(real);
    const shown = (rel: Buffer) => rel.toString('utf8');
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true, encoding: 'buffer' });
    } catch (error) {
      if (options.unreadableFolders === 'report' && relDir.length > 0 && onSkip) {
        onSkip(shown(relDir), `a folder that cannot be read (${describeFsError(error)})`);
        return;
      }
      throw new UserInputError('UNREADABLE_FOLDER', `cannot read folder ${dir.toString('utf8')}: ${describeFsError(error)}`, { hint: 'Fix its permissions.', cause: error });
    }
    for (const entry of entries) {
      const name = entry.name as unknown as Buffer;
      const relativeBytes = relDir.length === 0 ? name : Buffer.concat([relDir, SLASH, name]);
      const absoluteBytes = Buffer.concat([dir, SLASH, name]);
      const utf8 = isUtf8(absoluteBytes);
      if (!utf8 && !keepNonUtf8) {
        onSkip?.(shown(relativeBytes), 'a name that is not valid UTF-8');
        continue;
      }
      const absolutePath: string | Buffer = utf8 ? absoluteBytes.toString('utf8') : absoluteBytes;
      const relativePath = shown(relativeBytes);
      if (entry.isDirectory()) {
        await visit(absoluteBytes, join(real, name.toString('utf8')), relativeBytes);
      } else if (entry.isFile()) {
        files.push({ relativePath, relativeBytes, absolutePath });
      } else if (entry.isSymbolicLink()) {
        let target: string | null = null;
        let why = 'a symlink whose target does not exist';
        try {
          target = await realpath(absolutePath);
        } catch (error) {
          const code = (error as { code?: string }).code;
          if (code === 'ELOOP') why = 'a symlink loop (links that point at each other)';
          else if (code !== 'ENOENT') why = `a symlink that cannot be followed (${describeFsError(error)})`;
        }
        if (target === null) {
          onSkip?.(relativePath, why);
        } else if (!isInside(rootReal, target)) {
          onSkip?.(relativePath, `a symlink pointing outside the folder (to ${target})`);
        } else {
          const info = await stat(target);
          if (info.isFile()) files.push({ relativePath, relativeBytes, absolutePath });
          else if (info.isDirectory() && visited.has(target)) onSkip?.(relativePath, 'a symlink to a folder that is already listed (a cycle)');
          else if (info.isDirectory()) await visit(absoluteBytes, target, relativeBytes);
        }
      }
    }
  }
  await visit(rootBytes, rootReal, Buffer.alloc(0));
  return files.sort((a, b) => Buffer.compare(a.relativeBytes, b.relativeBytes));
}

export interface HashedFile {
  path: string;
  /** The path's exact bytes (see WalkedFile). */
  pathBytes: Buffer;
  size: number;
  sha256: string;
}

/**
 * Hashes many files: several at a time, each small one read whole in one go, each large one
 * streamed in 1 MiB chunks, so memory stays bounded whatever the sizes. Aborting stops it.
 */
/** One scratch buffer for the small-file path: a file is read whole into it, then hashed. */
let smallScratch: Buffer | null = null;

/**
 * A small file hashed with synchronous reads on this thread: open, read, read (end of file),
 * close, without the thread-pool round trips that cost more than the hashing for a 2 KiB file.
 * null when the file is larger than SMALL_HASH_BYTES (it takes the streaming path).
 */
function hashSmallFileSync(path: string | Buffer): { sha256: string; size: number } | null {
  smallScratch ??= Buffer.allocUnsafe(SMALL_HASH_BYTES + 1);
  const buffer = smallScratch;
  const fd = openSync(path, 'r');
  try {
    let filled = 0;
    for (;;) {
      const got = readSync(fd, buffer, filled, buffer.length - filled, filled);
      if (got === 0) break;
      filled += got;
      if (filled === buffer.length) return null;
    }
    return { sha256: createHash('sha256').update(buffer.subarray(0, filled)).digest('hex'), size: filled };
  } finally {
    closeSync(fd);
  }
}

/** How long the small-file path may hold the event loop before it lets signals and I/O through. */
const SYNC_SLICE_MS = 8;

/**
 * Hashes many files. Small ones are read synchronously in slices of a few milliseconds (the event
 * loop still answers Ctrl-C between slices); larger ones stream, `concurrency` at a time, while
 * the next slice runs.
 */
export async function hashFiles(files: Array<Pick<WalkedFile, 'relativePath' | 'absolutePath'> & { relativeBytes?: Buffer }>, concurrency = 8, signal?: AbortSignal): Promise<HashedFile[]> {
  const results: HashedFile[] = new Array(files.length);
  const failed = (file: (typeof files)[number], error: unknown): Error => {
    if (signal?.aborted) return new InterruptedError(signal, 'hashing the data');
    const shown = typeof file.absolutePath === 'string' ? file.absolutePath : file.absolutePath.toString('utf8');
    return new UserInputError('UNREADABLE_DATA', `cannot read data file ${shown}: ${describeFsError(error)}`, {
      hint: 'Fix its permissions or leave it out of --data.',
      cause: error,
    });
  };
  const record = (index: number, hashed: { sha256: string; size: number }) => {
    const file = files[index] as (typeof files)[number];
    results[index] = { path: file.relativePath, pathBytes: file.relativeBytes ?? Buffer.from(file.relativePath), size: hashed.size, sha256: hashed.sha256 };
  };
  const large: number[] = [];
  let nextLarge = 0;
  const waiting: Array<() => void> = [];
  let walked = false;
  async function streamer(): Promise<void> {
    for (;;) {
      const index = large[nextLarge];
      if (index === undefined) {
        if (walked) return;
        await new Promise<void>((resolve) => waiting.push(resolve));
        continue;
      }
      nextLarge++;
      if (streamFailure !== null) return;
      if (signal?.aborted) throw new InterruptedError(signal, 'hashing the data');
      const file = files[index] as (typeof files)[number];
      try {
        record(index, await sha256File(file.absolutePath, signal));
      } catch (error) {
        throw failed(file, error);
      }
    }
  }
  // Failures are kept, not left unobserved while the small files are still being read.
  let streamFailure: unknown = null;
  const streamers = Array.from({ length: Math.max(1, concurrency) }, () =>
    streamer().catch((error: unknown) => {
      streamFailure ??= error;
    }),
  );
  const kick = () => waiting.shift()?.();
  try {
    let sliceStart = performance.now();
    for (let index = 0; index < files.length && streamFailure === null; index++) {
      if (performance.now() - sliceStart > SYNC_SLICE_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        sliceStart = performance.now();
      }
      if (signal?.aborted) throw new InterruptedError(signal, 'hashing the data');
      const file = files[index] as (typeof files)[number];
      let hashed: { sha256: string; size: number } | null;
      try {
        hashed = hashSmallFileSync(file.absolutePath);
      } catch (error) {
        throw failed(file, error);
      }
      if (hashed !== null) record(index, hashed);
      else {
        large.push(index);
        kick();
      }
    }
  } finally {
    walked = true;
    // Every streamer waiting for work ends now that no more will come; those still hashing finish
    // before anything is thrown, so nothing writes or reads after the caller moved on.
    while (waiting.length > 0) kick();
    await Promise.all(streamers);
  }
  if (streamFailure !== null) throw streamFailure;
  return results;
}

export async function statKind(path: string): Promise<'file' | 'directory' | 'other' | 'missing'> {
  try {
    const info = await stat(path);
    if (info.isFile()) return 'file';
    if (info.isDirectory()) return 'directory';
    return 'other';
  } catch {
    return 'missing';
  }
}

export async function isEmptyFolder(path: string): Promise<boolean> {
  const dir = await opendir(path);
  try {
    return (await dir.read()) === null;
  } finally {
    await dir.close().catch(() => undefined);
  }
}

export async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Fails early, before any work, when an output cannot be written or would overwrite without --force. */
export async function assertWritableTarget(path: string, force: boolean, what: string): Promise<void> {
  if (!force && (await pathExists(path))) {
    throw new OutputRefusedError('OUTPUT_EXISTS', `${what} ${path} already exists`, {
      hint: 'Pass --force to replace it, or choose another --output.',
    });
  }
  const dir = dirname(resolve(path));
  try {
    const info = await stat(dir);
    if (!info.isDirectory()) throw new Error('not a directory');
    await access(dir, constants.W_OK);
  } catch (error) {
    throw new OutputRefusedError('OUTPUT_UNWRITABLE', `cannot write ${what} ${path}: folder ${dir} ${describeFsError(error)}`, {
      hint: 'Create the folder or choose a writable --output.',
      cause: error,
    });
  }
}

/**
 * Fails early, before any work, when a report file named by a flag cannot be written: its folder
 * must exist and be writable, and the path must not be a folder. An existing file is replaced (the
 * flag asked for it).
 */
export async function assertReportTarget(path: string, flag: string): Promise<void> {
  if ((await statKind(path)) === 'directory') {
    throw new OutputRefusedError('OUTPUT_IS_FOLDER', `${flag} ${path} is a folder`, { hint: `Pass a file name for ${flag}.` });
  }
  const dir = dirname(resolve(path));
  try {
    const info = await stat(dir);
    if (!info.isDirectory()) throw new Error('not a directory');
    await access(dir, constants.W_OK);
  } catch (error) {
    throw new OutputRefusedError('OUTPUT_UNWRITABLE', `cannot write ${flag} ${path}: folder ${dir} ${describeFsError(error)}`, {
      hint: `Create the folder first, or pass another ${flag} path.`,
      cause: error,
    });
  }
}

/** Writes through a temporary file and a rename: readers see the old file or the new one, never half. */
export async function writeFileAtomic(path: string, content: string | Buffer): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw new OutputRefusedError('WRITE_FAILED', `cannot write ${path}: ${describeFsError(error)}`, { cause: error });
  }
}

/** Appends to a file that others write too (a CI job summary), creating it when absent. */
export async function appendText(path: string, content: string): Promise<void> {
  try {
    await appendFile(path, content);
  } catch (error) {
    throw new OutputRefusedError('WRITE_FAILED', `cannot append to ${path}: ${describeFsError(error)}`, { cause: error });
  }
}

/**
 * A folder assembled under a temporary name and moved into place at the end, so an interrupted
 * capture never leaves half a bundle where a good one was.
 */
/** Staging folders not yet committed or discarded: removed at once if a second Ctrl-C ends us. */
const liveStaging = new Set<string>();

/** Removes every staging folder still open, synchronously: the last thing before a forced exit. */
export function discardAllStagingSync(): void {
  for (const path of liveStaging) {
    try {
      rmSync(path, { recursive: true, force: true });
    } catch {
      // Nothing more can be done on the way out.
    }
  }
  liveStaging.clear();
}

export class StagedFolder {
  private constructor(
    readonly finalPath: string,
    readonly stagingPath: string,
  ) {}

  static async create(finalPath: string): Promise<StagedFolder> {
    const stagingPath = join(dirname(finalPath), `.${basename(finalPath)}.${randomBytes(6).toString('hex')}.staging`);
    await mkdir(stagingPath, { recursive: true });
    liveStaging.add(stagingPath);
    return new StagedFolder(finalPath, stagingPath);
  }

  path(...parts: string[]): string {
    return join(this.stagingPath, ...parts);
  }

  /** Runs one write into the staging folder; a full disk or a read-only folder is an output error, not a bug. */
  private async writing<T>(what: string, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      if (error instanceof OutputRefusedError || error instanceof UserInputError) throw error;
      throw new OutputRefusedError('WRITE_FAILED', `cannot write ${what} under ${this.stagingPath}: ${describeFsError(error)}`, { cause: error });
    }
  }

  async ensureDir(relativePath: string): Promise<void> {
    await this.writing(relativePath, () => mkdir(this.path(relativePath), { recursive: true }));
  }

  async writeFile(relativePath: string, content: string | Buffer): Promise<void> {
    const target = this.path(relativePath);
    await this.writing(relativePath, async () => {
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, content);
    });
  }

  async copyIn(source: string, relativePath: string): Promise<void> {
    const target = this.path(relativePath);
    await this.writing(relativePath, async () => {
      await mkdir(dirname(target), { recursive: true });
      await copyFile(source, target);
    });
  }

  /** Copies a file in and hashes it in the same read: each byte of a large output is read once. */
  async copyInHashed(source: string, relativePath: string): Promise<{ sha256: string; size: number }> {
    const target = this.path(relativePath);
    return this.writing(relativePath, async () => {
      await mkdir(dirname(target), { recursive: true });
      const hash = createHash('sha256');
      let size = 0;
      const reader = createReadStream(source, { highWaterMark: HASH_CHUNK });
      reader.on('data', (chunk) => {
        hash.update(chunk as Buffer);
        size += (chunk as Buffer).length;
      });
      await pipeline(reader, createWriteStream(target));
      return { sha256: hash.digest('hex'), size };
    });
  }

  private readonly links = new Set<string>();
  private readonly dirs: Array<{ path: string; mode: number; mtime: Date }> = [];

  /**
   * Writes one entry of a tree (a build context) at relativePath ('/'-separated), with its mode
   * and mtime: a file streamed from its body, a folder, or a symlink, created as a link and never
   * followed. An entry under a link this folder holds is refused: a tree that put a link at `a`
   * and then a file at `a/x` would otherwise write wherever the link points. Call
   * finishEntries() after the last one.
   */
  async writeEntry(relativePath: string, entry: { kind: 'file' | 'directory' | 'symlink'; mode: number; mtime: Date; linkname: string | null; body: AsyncIterable<Uint8Array> | Buffer | string | null }): Promise<void> {
    const parts = relativePath.split('/');
    if (relativePath === '' || isAbsolute(relativePath) || parts.some((p) => p === '' || p === '.' || p === '..')) {
      throw new OutputRefusedError('UNSAFE_ENTRY_PATH', `refusing to write ${JSON.stringify(relativePath)}: not a plain relative path`);
    }
    for (let i = 1; i < parts.length; i++) {
      if (this.links.has(parts.slice(0, i).join('/'))) throw new OutputRefusedError('UNSAFE_ENTRY_PATH', `refusing to write ${JSON.stringify(relativePath)}: it is under a symlink of the same tree`);
    }
    const target = this.path(...parts);
    await this.writing(relativePath, async () => {
      await mkdir(dirname(target), { recursive: true });
      if (entry.kind === 'directory') {
        await mkdir(target, { recursive: true });
        // Folders get their mode and time once everything inside them is written.
        this.dirs.push({ path: target, mode: entry.mode, mtime: entry.mtime });
        return;
      }
      if (entry.kind === 'symlink') {
        await symlink(entry.linkname ?? '', target);
        this.links.add(relativePath);
        await lutimes(target, entry.mtime, entry.mtime);
        return;
      }
      const body = entry.body ?? Buffer.alloc(0);
      if (typeof body === 'string' || Buffer.isBuffer(body)) await writeFile(target, body, { flag: 'wx' });
      else await pipeline(body, createWriteStream(target, { flags: 'wx' }));
      // chmod, not the create mode: the umask would take bits off it.
      await chmod(target, entry.mode);
      await utimes(target, entry.mtime, entry.mtime);
    });
  }

  /** The modes and times of the folders writeEntry made, deepest first (writing into one changes its mtime). */
  async finishEntries(): Promise<void> {
    for (const dir of [...this.dirs].reverse()) {
      await this.writing(dir.path, async () => {
        await chmod(dir.path, dir.mode);
        await utimes(dir.path, dir.mtime, dir.mtime);
      });
    }
    this.dirs.length = 0;
  }

  /**
   * Moves the staged folder into place; an existing one is replaced only after the new one is
   * complete, and only with force: one that appeared while this run worked is not overwritten.
   */
  async commit(force: boolean): Promise<void> {
    let previous: string | null = null;
    if (await pathExists(this.finalPath)) {
      if (!force) {
        throw new OutputRefusedError('OUTPUT_EXISTS', `${this.finalPath} appeared while snapshot was working`, { hint: 'Pass --force to replace it, or choose another output.' });
      }
      previous = `${this.stagingPath}.previous`;
      await rename(this.finalPath, previous);
    }
    try {
      await rename(this.stagingPath, this.finalPath);
      liveStaging.delete(this.stagingPath);
    } catch (error) {
      if (previous !== null) await rename(previous, this.finalPath);
      throw error;
    }
    if (previous !== null) await rm(previous, { recursive: true, force: true });
  }

  async discard(): Promise<void> {
    await rm(this.stagingPath, { recursive: true, force: true });
    liveStaging.delete(this.stagingPath);
  }
}

/** A new private folder under the system's temporary folder; the caller removes it (removePath). */
export async function makeTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  // Removed with the staging folders if a second Ctrl-C forces the exit; removePath forgets it.
  liveStaging.add(dir);
  return dir;
}

/** A file's bytes as a stream, read in 1 MiB chunks: never the whole file in memory. */
export function openReadStream(path: string): AsyncIterable<Buffer> & NodeJS.ReadableStream {
  return createReadStream(path, { highWaterMark: HASH_CHUNK });
}

/** Writes a small file that must not exist yet (scratch files in a folder of our own). */
export async function writeNewFile(path: string, content: string): Promise<void> {
  await writeFile(path, content, { flag: 'wx', mode: 0o600 });
}

export async function makeDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true });
}

export async function removePath(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
  liveStaging.delete(path);
}

/**
 * Moves a folder (a rename; across file systems a copy that keeps links as links, then the
 * original removed). The target must not exist.
 */
export async function moveFolder(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    await cp(from, to, { recursive: true, verbatimSymlinks: true, errorOnExist: true, force: false, preserveTimestamps: true });
    await rm(from, { recursive: true, force: true });
  }
}

/** True when candidate is root or under it. A name that merely starts with '..' ('..data', as Kubernetes lays out volumes) is inside. */
export function isInside(root: string, candidate: string): boolean {
  const rel = relative(root, candidate);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

function toPosix(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/');
}

export function describeFsError(error: unknown): string {
  const code = (error as { code?: string } | null)?.code;
  switch (code) {
    case 'ENOENT':
      return 'does not exist';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
      return 'a parent is not a folder';
    case 'EISDIR':
      return 'is a folder';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EROFS':
      return 'is on a read-only file system';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

/** A file as a ByteReader: sequential reads from the start, and reads at any position. */
export async function openFileReader(path: string, label: string): Promise<ByteReader> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new Error(`${label}: cannot open ${path}: ${describeFsError(error)}`);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new Error(`${label}: not a regular file: ${path}`);
    const opened = handle;
    const size = info.size;
    let position = 0;
    const readAt = async (target: Uint8Array, length: number, at: number): Promise<number> => {
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await opened.read(target, filled, length - filled, at + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return filled;
    };
    return {
      label,
      size,
      get position() {
        return position;
      },
      async read(target, length) {
        const got = await readAt(target, length, position);
        position += got;
        return got;
      },
      async skip(length) {
        const skipped = Math.max(0, Math.min(length, size - position));
        position += skipped;
        return skipped;
      },
      readAt,
      close: () => opened.close(),
    };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * A file's bytes pulled synchronously, chunk by chunk, through one reused buffer: for the JSON
 * walk, which reads millions of tokens and must not pay a promise for each. Close it when done.
 */
export function openSyncFeed(path: string, label: string, chunkBytes = 1 << 20): { next(): Uint8Array | null; close(): void } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new Error(`cannot read ${label} ${path}: ${describeFsError(error)}`);
  }
  // Two buffers: the reader may still hold the previous chunk while the next one is read. A small
  // file gets buffers of its own size (plus one byte to see its end), not two of a megabyte.
  let size = chunkBytes;
  try {
    size = Math.max(1, Math.min(chunkBytes, fstatSync(fd).size + 1));
  } catch {
    // Reading will say what is wrong.
  }
  const buffers = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)];
  let turn = 0;
  let open = true;
  return {
    next() {
      if (!open) return null;
      const buffer = buffers[turn] as Buffer;
      turn ^= 1;
      let got: number;
      try {
        got = readSync(fd, buffer, 0, buffer.length, null);
      } catch (error) {
        throw new Error(`cannot read ${label} ${path}: ${describeFsError(error)}`);
      }
      return got === 0 ? null : buffer.subarray(0, got);
    },
    close() {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

const FIRST_READ = Buffer.allocUnsafe(64 * 1024);

/**
 * A whole file when it is at most maxBytes, read synchronously (open, fstat, read, close without
 * the thread pool's round trips: ten thousand small outputs are bound by exactly those); null
 * when it is larger. Errors are thrown with the file named.
 */
export function readSmallFileSync(path: string, maxBytes: number, label: string): Buffer | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new Error(`cannot read ${label} ${path}: ${describeFsError(error)}`);
  }
  try {
    // Most outputs fit the first read: no fstat needed to learn their size.
    const first = readSync(fd, FIRST_READ, 0, FIRST_READ.length, 0);
    if (first < FIRST_READ.length) return Buffer.from(FIRST_READ.subarray(0, first));
    const size = fstatSync(fd).size;
    if (size > maxBytes) return null;
    // One byte more: a file that grew since fstat is left to the large-file path.
    const buffer = Buffer.allocUnsafe(size + 1);
    let filled = 0;
    for (;;) {
      const got = readSync(fd, buffer, filled, buffer.length - filled, filled);
      if (got === 0) break;
      filled += got;
      if (filled === buffer.length) return null;
    }
    return buffer.subarray(0, filled);
  } catch (error) {
    throw new Error(`cannot read ${label} ${path}: ${describeFsError(error)}`);
  } finally {
    closeSync(fd);
  }
}

/**
 * Copies `length` bytes from a sequential source into a temporary file and reads them back at any
 * position: an array in a compressed archive that must be reordered, in bounded memory. dispose()
 * removes the file.
 */
export async function spoolToTempFile(read: (target: Uint8Array, length: number) => Promise<number>, length: number): Promise<{ readAt(target: Uint8Array, length: number, position: number): Promise<number>; dispose(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'snapshot-spool-'));
  const path = join(dir, 'data');
  try {
    const out = await open(path, 'wx', 0o600);
    try {
      const chunk = new Uint8Array(Math.min(length, HASH_CHUNK) || 1);
      let written = 0;
      while (written < length) {
        const got = await read(chunk, Math.min(chunk.length, length - written));
        if (got === 0) break;
        await out.write(chunk, 0, got, written);
        written += got;
      }
    } finally {
      await out.close();
    }
    const handle = await open(path, 'r');
    return {
      async readAt(target, want, position) {
        let filled = 0;
        while (filled < want) {
          const { bytesRead } = await handle.read(target, filled, want - filled, position + filled);
          if (bytesRead === 0) break;
          filled += bytesRead;
        }
        return filled;
      },
      async dispose() {
        await handle.close().catch(() => undefined);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * A log kept for a bundle meant for git: the first headBytes and the last tailBytes of what was
 * written, with a line between them saying how much was left out, so a training that prints a
 * gigabyte does not put a gigabyte into the repository.
 */
export class CappedLogFile {
  private readonly stream;
  private written = 0;
  private total = 0;
  private tail: Buffer[] = [];
  private tailSize = 0;

  constructor(
    readonly path: string,
    private readonly headBytes = 1024 * 1024,
    private readonly tailBytes = 1024 * 1024,
  ) {
    this.stream = createWriteStream(path, { flags: 'wx', mode: 0o644 });
    this.stream.on('error', () => undefined);
  }

  write(chunk: Buffer): void {
    this.total += chunk.length;
    let rest = chunk;
    if (this.written < this.headBytes) {
      const take = Math.min(rest.length, this.headBytes - this.written);
      this.stream.write(rest.subarray(0, take));
      this.written += take;
      rest = rest.subarray(take);
    }
    if (rest.length === 0) return;
    // Past the head: only the last tailBytes are kept, in memory, until the end.
    this.tail.push(Buffer.from(rest));
    this.tailSize += rest.length;
    while (this.tail.length > 1 && this.tailSize - (this.tail[0] as Buffer).length >= this.tailBytes) this.tailSize -= (this.tail.shift() as Buffer).length;
  }

  /** Writes the tail and closes; returns how much the program wrote and whether the log was cut. */
  async close(): Promise<{ bytes: number; truncated: boolean }> {
    let tail = Buffer.concat(this.tail);
    if (tail.length > this.tailBytes) tail = tail.subarray(tail.length - this.tailBytes);
    const left = this.total - this.written - tail.length;
    if (left > 0) this.stream.write(`\n[snapshot: ${left} bytes of this log left out; the program wrote ${this.total} bytes in all]\n`);
    if (tail.length > 0) this.stream.write(tail);
    await new Promise<void>((resolve) => this.stream.end(() => resolve()));
    return { bytes: this.total, truncated: left > 0 };
  }
}

/**
 * A whole file's bytes, for readers that need all of it at once and decide themselves how to decode
 * it (a CSV table: strictly as UTF-8, never with replacement characters). A file larger than
 * maxBytes is refused rather than read into memory.
 */
export async function readWholeFile(path: string, what: string, maxBytes = 256 * 1024 * 1024): Promise<Buffer> {
  try {
    const { size } = await stat(path);
    if (size > maxBytes) {
      throw new UserInputError('FILE_TOO_LARGE', `${what} ${path} is ${size} bytes, more than the ${maxBytes} this reader holds in memory`, {
        hint: 'Compare it by bytes instead (a policy rule for it), or split it.',
      });
    }
    return await readFile(path);
  } catch (error) {
    if (error instanceof UserInputError) throw error;
    throw new UserInputError('UNREADABLE_FILE', `cannot read ${what} ${path}: ${describeFsError(error)}`, {
      hint: 'Check the path and its permissions.',
      cause: error,
    });
  }
}

/**
 * The path with every symbolic link resolved, as git reports a repository's top level; a tail
 * that does not exist yet (an outputs folder the training will make) is kept as written.
 */
export async function canonicalPath(path: string): Promise<string> {
  let head = resolve(path);
  const tail: string[] = [];
  for (;;) {
    try {
      return join(await realpath(head), ...tail);
    } catch {
      const parent = dirname(head);
      if (parent === head) return resolve(path);
      tail.unshift(basename(head));
      head = parent;
    }
  }
}

/** Creates a folder that must not exist yet: a replay never writes into anything the user had. */
export async function makeDirExclusive(path: string, flag: string): Promise<void> {
  try {
    await mkdir(path);
  } catch (error) {
    if ((error as { code?: string }).code === 'EEXIST') {
      throw new OutputRefusedError('OUTPUT_EXISTS', `${flag} ${path} already exists`, { hint: 'Choose a new folder: a replay never writes into one that exists.' });
    }
    throw new OutputRefusedError('WRITE_FAILED', `cannot create ${path}: ${describeFsError(error)}`, { cause: error });
  }
}

/** The last `maxBytes` of a text file ('' when it cannot be read): a log's tail for a message. */
export async function readTextTail(path: string, maxBytes = 64 * 1024): Promise<string> {
  try {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, maxBytes);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      return buffer.toString('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return '';
  }
}

/**
 * A small text file that may legitimately be absent (a tool's config): null when it does not
 * exist; any other failure (permissions, a folder in its place, too large) names the file.
 */
export async function readOptionalText(path: string, what: string, maxBytes = 1024 * 1024): Promise<string | null> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw Object.assign(new Error('not a regular file'), { code: info.isDirectory() ? 'EISDIR' : undefined });
    if (info.size > maxBytes) throw new Error(`${info.size} bytes, more than the ${maxBytes} expected`);
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new UserInputError('UNREADABLE_FILE', `cannot read ${what} ${path}: ${describeFsError(error)}`, { hint: 'Check the file and its permissions.', cause: error });
  }
}

/** Which of these names are regular files in dir (a missing dir holds none). */
export async function filesPresent(dir: string, names: readonly string[]): Promise<string[]> {
  const present: string[] = [];
  for (const name of names) if ((await statKind(join(dir, name))) === 'file') present.push(name);
  return present;
}

/**
 * Creates root/parts... one folder at a time, refusing any step that exists as something other
 * than a real folder (a symlink placed there could lead a later write out of root).
 */
export async function makeDirInside(root: string, parts: readonly string[]): Promise<string> {
  let current = root;
  for (const part of parts) {
    if (part === '' || part === '.' || part === '..' || part.includes('/') || part.includes('\0')) throw new Error(`unsafe path component ${JSON.stringify(part)}`);
    current = join(current, part);
    try {
      await mkdir(current, { mode: 0o755 });
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
    }
    const info = await lstat(current);
    if (!info.isDirectory()) throw Object.assign(new Error(`${current} exists and is not a folder`), { code: 'EEXIST' });
  }
  return current;
}

/**
 * Writes chunks, as they come, into a file that must not exist yet: O_EXCL refuses to overwrite
 * (a duplicate entry) and O_NOFOLLOW refuses a symlink in the file's place. Returns the bytes written.
 */
export async function writeNewFileFromStream(path: string, source: AsyncIterable<Uint8Array>, mode = 0o644): Promise<number> {
  const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  let size = 0;
  try {
    for await (const chunk of source) {
      let offset = 0;
      while (offset < chunk.length) offset += (await handle.write(chunk, offset, chunk.length - offset)).bytesWritten;
      size += chunk.length;
    }
  } finally {
    await handle.close();
  }
  return size;
}

/** Free bytes on the file system holding `path` (for a non-root user); null when it cannot be read. */
export async function freeBytes(path: string): Promise<number | null> {
  try {
    const fs = await statfs(path);
    return Number(fs.bavail) * Number(fs.bsize);
  } catch {
    return null;
  }
}

/** A file's identity and state (inode, size, modification time): equal stamps, an untouched file. */
export async function fileStamp(path: string): Promise<string> {
  try {
    const info = await stat(path, { bigint: true });
    return `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}`;
  } catch {
    return 'missing';
  }
}
