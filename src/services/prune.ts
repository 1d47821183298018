// `snapshot prune`: remove the containers and images replays made, found by our label only, so
// nothing else on the engine is touched. Images otherwise stay: they are the build cache.
import { MANAGED_LABEL, SNAPSHOT_LABEL } from './engines/docker.js';
import { UserInputError } from '../errors.js';
import { openDockerEngine } from './engines/open.js';

export interface PruneResult {
  engine: string;
  containers: string[];
  images: string[];
  /** Running containers left alone (someone's replay in progress), without --force. */
  running: string[];
  dryRun: boolean;
}

export async function prune(input: { dockerHost?: string; env: NodeJS.ProcessEnv; dryRun: boolean; snapshotId?: string; force?: boolean }): Promise<PruneResult> {
  if (input.snapshotId !== undefined && !/^[0-9a-f-]{36}$/.test(input.snapshotId)) {
    throw new UserInputError('SNAPSHOT_ID_INVALID', `--snapshot-id ${JSON.stringify(input.snapshotId).slice(0, 60)}: not a snapshot id`, { hint: 'Pass the id field of a snapshot (snapshot show --json | jq -r .result.id).' });
  }
  const engine = await openDockerEngine(input);
  await engine.facts(5000);
  const found = await engine.listLabelled({ [MANAGED_LABEL]: 'true', ...(input.snapshotId === undefined ? {} : { [SNAPSHOT_LABEL]: input.snapshotId }) });
  // A running one is a replay in progress (on a shared engine, maybe someone else's): only --force stops it.
  const running = input.force ? [] : found.running;
  const containers = found.containers.filter((id) => !running.includes(id));
  if (!input.dryRun) {
    // Containers first: an image a container still uses cannot go (nor is it tried while one runs).
    for (const id of containers) await engine.remove(id);
    if (running.length === 0) for (const id of found.images) await engine.removeImage(id);
  }
  return { engine: engine.endpoint.display, containers, images: running.length === 0 ? found.images : [], running, dryRun: input.dryRun };
}
