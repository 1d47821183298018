// Tar streams in and out, through tar-stream: reading git archive's output entry by entry, and
// packing a build context from entries that come one at a time. Nothing here holds a whole file.
import tar from 'tar-stream';

/** One entry of a tar being read. Its body must be read to its end (or drained) before the next. */
export interface TarEntryIn {
  name: string;
  /** 'other': hard links, devices, fifos: nothing a git tree holds. */
  kind: 'file' | 'directory' | 'symlink' | 'other';
  /** The header's type, for messages about 'other'. */
  type: string;
  mode: number;
  size: number;
  linkname: string | null;
  body: AsyncIterable<Buffer> & { resume(): unknown };
}

/** One entry of a tar being written: a file's body is a stream (or the bytes of a small file). */
export interface TarEntryOut {
  name: string;
  kind: 'file' | 'directory' | 'symlink';
  mode: number;
  size: number;
  mtime: Date;
  linkname: string | null;
  body: AsyncIterable<Uint8Array> | Buffer | null;
}

function kindOf(type: string | null | undefined): TarEntryIn['kind'] {
  if (type === 'file' || type === 'contiguous-file') return 'file';
  if (type === 'directory' || type === 'symlink') return type;
  return 'other';
}

/**
 * The entries of a tar read from `source`, in order. A body left unread is drained before the
 * next entry is read, so a caller that skips a file (one .dockerignore excludes) need not do it.
 */
export async function* readTar(source: AsyncIterable<Uint8Array> & { pipe(destination: NodeJS.WritableStream): unknown }): AsyncGenerator<TarEntryIn> {
  const extract = tar.extract();
  source.pipe(extract as unknown as NodeJS.WritableStream);
  try {
    yield* entriesOf(extract);
  } finally {
    // A reader that stopped early: the rest of the tar is not wanted (the producer is stopped by its owner).
    extract.destroy();
  }
}

async function* entriesOf(extract: tar.Extract): AsyncGenerator<TarEntryIn> {
  for await (const entry of extract) {
    const header = entry.header;
    yield {
      name: header.name,
      kind: kindOf(header.type),
      type: String(header.type),
      mode: header.mode ?? 0,
      size: header.size ?? 0,
      linkname: header.linkname ?? null,
      body: entry as unknown as TarEntryIn['body'],
    };
    // Whatever the caller did not read goes now: the extractor gives the next entry only then.
    entry.resume();
  }
}

/**
 * A tar of `entries` as a stream: each entry is asked for when the previous one is written, and a
 * body is copied as the reader of the tar takes it (backpressure goes back to the producer: git
 * archive, a file). Headers are what the entries say and nothing else: uid and gid 0, no user or
 * group names, the given mtime. An error in the entries ends the stream with that error.
 */
export function packTar(entries: AsyncIterable<TarEntryOut>): NodeJS.ReadableStream & AsyncIterable<Buffer> {
  const pack = tar.pack();
  void (async () => {
    for await (const entry of entries) {
      const header: Parameters<tar.Pack['entry']>[0] = {
        name: entry.kind === 'directory' ? `${entry.name}/` : entry.name,
        type: entry.kind,
        mode: entry.mode,
        size: entry.kind === 'file' ? entry.size : 0,
        mtime: entry.mtime,
        uid: 0,
        gid: 0,
        uname: '',
        gname: '',
        ...(entry.linkname === null ? {} : { linkname: entry.linkname }),
      };
      await new Promise<void>((resolveEntry, rejectEntry) => {
        const done = (error?: Error | null) => (error ? rejectEntry(error) : resolveEntry());
        if (entry.kind !== 'file') {
          pack.entry(header, done);
          return;
        }
        if (Buffer.isBuffer(entry.body) || entry.body === null) {
          pack.entry(header, entry.body ?? Buffer.alloc(0), done);
          return;
        }
        const sink = pack.entry(header, done);
        const body = entry.body;
        void (async () => {
          try {
            for await (const chunk of body) {
              // 'close' too: a pack destroyed by its reader never drains, and this copy must end.
              if (!sink.write(chunk)) await new Promise<void>((resolveDrain) => sink.once('drain', () => resolveDrain()).once('close', () => resolveDrain()));
              if (sink.destroyed) return;
            }
            // A body shorter or longer than the size it declared fails here ("Size mismatch").
            (sink as unknown as { end(): void }).end();
          } catch (error) {
            rejectEntry(error as Error);
          }
        })();
      });
    }
    pack.finalize();
  })().catch((error: unknown) => pack.destroy(error instanceof Error ? error : new Error(String(error))));
  return pack as unknown as NodeJS.ReadableStream & AsyncIterable<Buffer>;
}
