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
