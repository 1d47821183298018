// Reading snapshots for the commands that only look at them (show, diff): the commands hold no
// adapter, and the comparison of two environments is the pure snapshot diff.
import { resolve } from 'node:path';
import type { Snapshot } from '../core/model.js';
import { diffSnapshots, severityCounts, type SnapshotDiffResult } from '../core/snapshot-diff.js';

export type { SnapshotDiffResult };
import { readSnapshot } from '../adapters/snapshot-file.js';

export async function loadSnapshot(path: string, cwd: string): Promise<Snapshot> {
  return readSnapshot(resolve(cwd, path));
}

export async function diffSnapshotFiles(a: string, b: string, cwd: string): Promise<SnapshotDiffResult> {
  const [left, right] = await Promise.all([loadSnapshot(a, cwd), loadSnapshot(b, cwd)]);
  const differences = diffSnapshots(left, right);
  return {
    a: { path: resolve(cwd, a), id: left.id, created_at: left.created_at },
    b: { path: resolve(cwd, b), id: right.id, created_at: right.created_at },
    differences,
    counts: severityCounts(differences),
  };
}
