// Manifests of files (training data, baseline outputs): pure functions over file entries.
import { createHash } from 'node:crypto';
import type { FileEntry, OutputKind } from './model.js';

/** One digest for a whole tree: sha256 over sorted "sha256  path" lines, as `sha256sum` prints them. */
export function treeDigest(files: readonly FileEntry[]): string {
  const hash = createHash('sha256');
  for (const file of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    hash.update(`${file.sha256}  ${file.path}\n`);
  }
  return hash.digest('hex');
}

/** A file of a data manifest: its path as the file system's exact bytes (a name need not be UTF-8). */
export interface ManifestEntry {
  pathBytes: Uint8Array;
  sha256: string;
}

const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;
const RETURN = 0x0d;

/**
 * A data manifest as `sha256sum` writes it, one "<sha256>  <path>" line a file, sorted by the
 * path's bytes (as `LC_ALL=C sort`), so `sha256sum -c` checks the data against it. A name holding
 * a backslash or a line break is written as sha256sum writes it: the line starts with '\\' and
 * those characters are escaped. The manifest's own sha256 is the data's digest.
 */
export function manifestText(entries: readonly ManifestEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => Buffer.compare(Buffer.from(a.pathBytes), Buffer.from(b.pathBytes)));
  const parts: Buffer[] = [];
  for (const entry of sorted) {
    const name = Buffer.from(entry.pathBytes);
    const special = name.includes(BACKSLASH) || name.includes(NEWLINE) || name.includes(RETURN);
    if (!special) {
      parts.push(Buffer.from(`${entry.sha256}  `), name, Buffer.from('\n'));
      continue;
    }
    const escaped: number[] = [];
    for (const byte of name) {
      if (byte === BACKSLASH) escaped.push(BACKSLASH, BACKSLASH);
      else if (byte === NEWLINE) escaped.push(BACKSLASH, 0x6e);
      else if (byte === RETURN) escaped.push(BACKSLASH, 0x72);
      else escaped.push(byte);
    }
    parts.push(Buffer.from(`\\${entry.sha256}  `), Buffer.from(escaped), Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

/** The sha256 of some bytes, as hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The digest of a manifest: the sha256 of its text. */
export function manifestDigest(entries: readonly ManifestEntry[]): string {
  return sha256Hex(manifestText(entries));
}

/** What kind of output a file is, which decides how compare reads it. */
export function outputKind(path: string): OutputKind {
  const lower = path.toLowerCase();
  if (lower.endsWith('.json')) return 'metrics';
  if (lower.endsWith('.npy')) return 'npy';
  if (lower.endsWith('.npz')) return 'npz';
  if (lower.endsWith('.h5') || lower.endsWith('.hdf5')) return 'h5';
  if (lower.endsWith('.keras')) return 'keras';
  if (lower.endsWith('.csv')) return 'csv';
  return 'other';
}
