// Unpacks a tar that came from somewhere we do not trust (a container's archive of its outputs):
// regular files and folders, each checked to land inside the destination before anything is
// written. A link is never created (it could point anywhere, and a later entry be written through
// it): once every file is written, a link to a file inside the archive becomes a copy of that file,
// as capture follows links inside --outputs; any other link is left out and reported.
import { dirname, join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import type { ExtractedFile } from '../core/container-engine.js';
import { ExternalError, OutputRefusedError } from '../errors.js';
import { describeFsError, isInside, makeDir, makeDirInside, openReadStream, writeNewFileFromStream } from './fs.js';

export interface ExtractOptions {
  /** Drop each entry's first path component (an archive of /x/out names its entries out/...). */
  stripFirst?: boolean;
  /** Refuse an archive whose files add up to more than this many bytes. */
  maxBytes?: number;
  /** Refuse an archive of more entries than this. */
  maxEntries?: number;
  /** What the archive is, for messages ("the container's /x/out"). */
  what?: string;
  /** A link left out (it points outside the archive, to a folder, or nowhere), with why. */
  onSkip?: (path: string, why: string) => void;
  /** The stream is given up when no byte arrives for this long (an engine that stopped sending). */
  idleMs?: number;
}

/** How many links a link may go through before it counts as a loop. */
const MAX_LINK_HOPS = 16;

const HINT = 'The archive names a path, link or special file that could write outside the output folder; nothing was written outside it. Have the command write plain files and folders only.';

/** Splits and checks an entry name: the path components to write, or a reason to refuse it. */
export function entryParts(name: string, stripFirst: boolean): { parts: string[]; first: string | null } | { unsafe: string } {
  if (name.includes('\0')) return { unsafe: 'a NUL byte in the name' };
  if (name.startsWith('/')) return { unsafe: 'an absolute name' };
  const parts = name.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) return { unsafe: 'a ".." component' };
  if (!stripFirst) return { parts, first: null };
  const [first, ...rest] = parts;
  return { parts: rest, first: first ?? null };
}

/**
 * Extracts stream into destDir (created when absent) and lists the files written. The first
 * unsafe entry stops it with OUTPUT_ARCHIVE_UNSAFE naming the entry; files written before it stay
 * (extract into a staging folder the caller discards on failure).
 */
export async function extractTarSafely(stream: Readable, destDir: string, options: ExtractOptions = {}): Promise<ExtractedFile[]> {
  const what = options.what ?? 'the archive';
  const stripFirst = options.stripFirst ?? false;
  const refuse = (entry: string, why: string) =>
    new ExternalError('OUTPUT_ARCHIVE_UNSAFE', `${what} holds an entry that is refused (${why}): ${JSON.stringify(entry)}`, { hint: HINT, data: { entry, why } });
  await makeDir(destDir);
  const extract = tar.extract();
  stream.on('error', (error) => extract.destroy(error));
  stream.pipe(extract);
  // Watched only once piped: a 'data' listener added before would start the flow and lose bytes.
  let idle: NodeJS.Timeout | undefined;
  const touch = () => {
    if (options.idleMs === undefined) return;
    clearTimeout(idle);
    idle = setTimeout(() => stream.destroy(new Error(`nothing arrived for ${options.idleMs} ms`)), options.idleMs);
  };
  if (options.idleMs !== undefined) {
    stream.on('data', touch);
    touch();
  }
  const written: ExtractedFile[] = [];
  /** Links seen, by their path in the archive (after the first component): resolved at the end. */
  const links = new Map<string, { target: string; hard: boolean; name: string }>();
  let root: string | null = null;
  let entries = 0;
  let bytes = 0;
  try {
    for await (const entry of extract) {
      const { header } = entry;
      entries++;
      if (options.maxEntries !== undefined && entries > options.maxEntries) throw refuse(header.name, `more than ${options.maxEntries} entries`);
      const split = entryParts(header.name, stripFirst);
      if ('unsafe' in split) throw refuse(header.name, split.unsafe);
      if (stripFirst) {
        // Every entry of a folder's archive sits under the folder's own name.
        if (split.first === null) throw refuse(header.name, 'an empty name');
        root ??= split.first;
        if (split.first !== root) throw refuse(header.name, `outside the folder ${root} the archive is of`);
      }
      const type = header.type ?? 'file';
      if (type === 'symlink' || type === 'link') {
        if (split.parts.length === 0) throw refuse(header.name, 'a link where the folder was expected');
        links.set(split.parts.join('/'), { target: header.linkname ?? '', hard: type === 'link', name: header.name });
        entry.resume();
        continue;
      }
      if (type !== 'file' && type !== 'directory') throw refuse(header.name, `a ${type}, not a file or folder`);
      const target = join(destDir, ...split.parts);
      if (!isInside(destDir, target)) throw refuse(header.name, 'a name that leaves the destination');
      if (type === 'directory') {
        await writing(header.name, target, () => makeDirInside(destDir, split.parts));
        entry.resume();
        continue;
      }
      if (split.parts.length === 0) throw refuse(header.name, 'a file where the folder was expected');
      bytes += header.size ?? 0;
      if (options.maxBytes !== undefined && bytes > options.maxBytes) throw refuse(header.name, `more than ${options.maxBytes} bytes in all`);
      await writing(header.name, dirname(target), () => makeDirInside(destDir, split.parts.slice(0, -1)));
      const mode = ((header.mode ?? 0o644) & 0o755) | 0o600;
      let size: number;
      try {
        // tar-stream's entries yield Buffers; its streamx types say unknown.
        size = await writeNewFileFromStream(target, entry as AsyncIterable<Uint8Array>, mode);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === 'EEXIST' || code === 'ELOOP' || code === 'EISDIR') throw refuse(header.name, 'a duplicate of, or conflict with, an earlier entry');
        // Not an errno from the file system: the archive itself broke mid-file (the outer catch says so).
        if (code === undefined || !/^E[A-Z0-9]+$/.test(code)) throw error;
        throw writeFailed(target, error);
      }
      written.push({ path: split.parts.join('/'), size });
    }
  } catch (error) {
    clearTimeout(idle);
    stream.destroy();
    extract.destroy();
    if (error instanceof ExternalError || error instanceof OutputRefusedError) throw error;
    throw new ExternalError('OUTPUT_ARCHIVE_INVALID', `${what} could not be read as a tar archive: ${error instanceof Error ? error.message : String(error)}`, {
      hint: 'The engine sent a broken archive; run again, and check the engine\'s disk and logs if it repeats.',
      cause: error,
    });
  }
  clearTimeout(idle);
  await resolveLinks();
  return written.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

  /** Each link to a file of the archive becomes a copy of it; nothing is ever written through a link. */
  async function resolveLinks(): Promise<void> {
    const files = new Map(written.map((f) => [f.path, f]));
    for (const [path, link] of [...links].sort(([a], [b]) => (a < b ? -1 : 1))) {
      let current = path;
      let target: string | null = null;
      let why = '';
      for (let hop = 0; hop < MAX_LINK_HOPS; hop++) {
        const step = links.get(current) as { target: string; hard: boolean };
        // A hard link names another entry of the archive; a symlink is relative to its own folder.
        const next = step.hard ? entryParts(step.target, stripFirst) : step.target.startsWith('/') ? null : { parts: posix.normalize(posix.join(posix.dirname(current), step.target)).split('/') };
        if (next === null || 'unsafe' in next || next.parts.includes('..') || next.parts[0] === '..') {
          why = `it points outside the folder (${step.target})`;
          break;
        }
        const resolved = next.parts.filter((p) => p !== '' && p !== '.').join('/');
        if (files.has(resolved)) {
          target = resolved;
          break;
        }
        if (!links.has(resolved)) {
          why = `it points to ${step.target}, which is not a file of the folder`;
          break;
        }
        current = resolved;
        why = 'it is a loop of links';
      }
      if (target === null) {
        options.onSkip?.(path, why || 'it is a loop of links');
        continue;
      }
      const parts = path.split('/');
      const destination = join(destDir, ...parts);
      if (!isInside(destDir, destination)) throw refuse(link.name, 'a name that leaves the destination');
      await writing(link.name, dirname(destination), () => makeDirInside(destDir, parts.slice(0, -1)));
      let size: number;
      const source = openReadStream(join(destDir, ...target.split('/')));
      try {
        size = await writeNewFileFromStream(destination, source, 0o644);
      } catch (error) {
        // A refused write never reads its source: closed now, not left to open (and fail) after the folder is gone.
        (source as unknown as { destroy(): void }).destroy();
        const code = (error as { code?: string }).code;
        if (code === 'EEXIST' || code === 'ELOOP' || code === 'EISDIR') throw refuse(link.name, 'a duplicate of, or conflict with, an earlier entry');
        throw writeFailed(destination, error);
      }
      written.push({ path, size });
      files.set(path, { path, size });
    }
  }

  async function writing<T>(entry: string, target: string, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      if ((error as { code?: string }).code === 'EEXIST') throw refuse(entry, 'a folder where an earlier entry put a file');
      throw writeFailed(target, error);
    }
  }
}

function writeFailed(target: string, error: unknown): OutputRefusedError {
  return new OutputRefusedError('WRITE_FAILED', `cannot write ${target}: ${describeFsError(error)}`, { hint: 'Free space or fix the permissions of the output folder.', cause: error });
}
