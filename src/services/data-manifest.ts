// A data path's manifest, the same way at capture and before a replay: every file hashed, the
// "sha256  path" lines as sha256sum writes them, and their digest. Before a replay the data is
// checked against the captured digest, and a mismatch names the files that changed.
import { basename, dirname, resolve } from 'node:path';
import { manifestText, sha256Hex } from '../core/manifest.js';
import type { DataRecord } from '../core/model.js';
import { hashFiles, isInside, readTextIfExists, statKind, walkFiles, type HashedFile } from '../adapters/fs.js';

export interface DataManifest {
  kind: 'file' | 'directory';
  files: HashedFile[];
  text: Buffer;
  digest: string;
}

/** Hashes a file or a folder as capture records it; `onSkip` hears of what a walk leaves out. */
export async function manifestOfPath(absolute: string, onSkip: (relativePath: string, reason: string) => void, signal?: AbortSignal): Promise<DataManifest> {
  const kind = await statKind(absolute);
  const listed =
    kind === 'directory'
      ? await walkFiles(absolute, onSkip, { nonUtf8Names: 'keep' })
      : [{ relativePath: basename(absolute), relativeBytes: Buffer.from(basename(absolute)), absolutePath: absolute }];
  // Two large files stream at a time (small ones are read whole, synchronously): more streams
  // only add buffers, not speed, on a machine whose disk and cores they share.
  const files = await hashFiles(listed, 2, signal);
  const text = manifestText(files);
  return { kind: kind === 'directory' ? 'directory' : 'file', files, text, digest: sha256Hex(text) };
}

/** "sha256  path" lines (sha256sum's escapes undone) as path -> sha256. */
export function parseManifest(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^(\\?)([0-9a-f]{64}) {2}(.*)$/.exec(line);
    if (!match) continue;
    const raw = match[3] as string;
    const path = match[1] === '\\' ? raw.replace(/\\(\\|n|r)/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : '\\')) : raw;
    out.set(path, match[2] as string);
  }
  return out;
}

export type DataCheck =
  | { status: 'verified'; files: number }
  | { status: 'missing'; message: string }
  | { status: 'mismatch'; files: number; message: string; changed: string[] };

/**
 * Checks the data at `source` against what the snapshot recorded of it. A mismatch names up to
 * five files that changed, appeared or went missing (from the captured manifest, when it is there).
 */
export async function verifyData(record: DataRecord, source: string, snapshotPath: string, signal?: AbortSignal): Promise<DataCheck> {
  const kind = await statKind(source);
  if (kind === 'missing' || kind === 'other') return { status: 'missing', message: `data ${record.path}: ${source} is ${kind === 'missing' ? 'not here' : 'not a file or folder'}` };
  if ((kind === 'directory') !== (record.kind === 'directory')) return { status: 'missing', message: `data ${record.path}: ${source} is a ${kind}, the snapshot recorded a ${record.kind}` };
  const skipped: string[] = [];
  const manifest = await manifestOfPath(source, (rel) => skipped.push(rel), signal);
  if (manifest.digest === record.digest) return { status: 'verified', files: manifest.files.length };
  const captured = await capturedManifest(record, snapshotPath);
  const now = new Map(manifest.files.map((f) => [f.path, f.sha256]));
  const changed: string[] = [];
  if (captured !== null) {
    for (const [path, sha] of captured) if (now.get(path) !== sha) changed.push(now.has(path) ? `${path} (changed)` : `${path} (missing)`);
    for (const path of now.keys()) if (!captured.has(path)) changed.push(`${path} (not in the snapshot)`);
  }
  changed.sort();
  const named = changed.length > 0 ? `: ${changed.slice(0, 5).join(', ')}${changed.length > 5 ? ` and ${changed.length - 5} more` : ''}` : '';
  return { status: 'mismatch', files: manifest.files.length, changed, message: `data ${record.path} at ${source} is not the data the snapshot recorded (digest ${manifest.digest.slice(0, 12)}, recorded ${record.digest.slice(0, 12)})${named}` };
}

async function capturedManifest(record: DataRecord, snapshotPath: string): Promise<Map<string, string> | null> {
  if (record.manifest_file === null) return record.files ? new Map(record.files.map((f) => [f.path, f.sha256])) : null;
  const dir = dirname(snapshotPath);
  const path = resolve(dir, record.manifest_file);
  // A manifest path from the snapshot that leaves its folder is not read.
  if (!isInside(dir, path)) return null;
  const text = await readTextIfExists(path, 256 * 1024 * 1024);
  return text === null || sha256Hex(Buffer.from(text)) !== record.digest ? null : parseManifest(text);
}
