// Where snapshot puts the things that belong to a snapshot file: next to it, named after it.
import { basename, dirname, join } from 'node:path';

/** snapshot.yaml + '.bundle' -> snapshot.bundle, in the snapshot's folder. */
export function besideSnapshot(snapshotPath: string, suffix: '.bundle' | '.docker' | '.replays'): string {
  const name = basename(snapshotPath).replace(/\.(ya?ml|json)$/i, '');
  return join(dirname(snapshotPath), `${name}${suffix}`);
}
