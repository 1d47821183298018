// `snapshot prune`: remove the containers and images replays made, found by our label only, so
// nothing else on the engine is touched. Images otherwise stay: they are the build cache. With
// --venvs, the local engine's cached environments go too (and any staging a killed build left).
import { MANAGED_LABEL, SNAPSHOT_LABEL } from './engines/docker.js';
import { SnapshotError, UserInputError } from '../errors.js';
import { removePath } from '../adapters/fs.js';
import { listCachedVenvs } from '../adapters/venv-cache.js';
import { openDockerEngine } from './engines/open.js';

export interface PruneResult {
  /** The engine pruned; null when --venvs was asked and no engine answers. */
  engine: string | null;
  containers: string[];
  images: string[];
  /** The cached venvs (and left-over staging folders) removed, with --venvs. */
  venvs: string[];
  /** Why the engine was not pruned, when it was not. */
  engineSkipped: string | null;
  /** Running containers left alone (someone's replay in progress), without --force. */
  running: string[];
  dryRun: boolean;
}

export async function prune(input: { dockerHost?: string; env: NodeJS.ProcessEnv; dryRun: boolean; snapshotId?: string; venvs?: boolean; force?: boolean }): Promise<PruneResult> {
  if (input.snapshotId !== undefined && !/^[0-9a-f-]{36}$/.test(input.snapshotId)) {
    throw new UserInputError('SNAPSHOT_ID_INVALID', `--snapshot-id ${JSON.stringify(input.snapshotId).slice(0, 60)}: not a snapshot id`, { hint: 'Pass the id field of a snapshot (snapshot show --json | jq -r .result.id).' });
  }
  if (input.venvs && input.snapshotId !== undefined) {
    throw new UserInputError('PRUNE_FLAGS_CONFLICT', '--venvs with --snapshot-id: a cached venv is shared by every snapshot of the same packages and Python, so it belongs to no one snapshot', { hint: 'Prune the venvs alone with --venvs.' });
  }
  const result: PruneResult = { engine: null, containers: [], images: [], venvs: [], engineSkipped: null, running: [], dryRun: input.dryRun };
  if (input.venvs) {
    const cached = await listCachedVenvs(input.env);
    result.venvs = [...cached.venvs, ...cached.staging];
    if (!input.dryRun) for (const path of result.venvs) await removePath(path);
  }
  const engine = await openDockerEngine(input);
  try {
    await engine.facts(5000);
  } catch (error) {
    // With --venvs, a machine without an engine has only venvs to prune.
    if (!input.venvs || !(error instanceof SnapshotError)) throw error;
    result.engineSkipped = error.message;
    return result;
  }
  result.engine = engine.endpoint.display;
  const found = await engine.listLabelled({ [MANAGED_LABEL]: 'true', ...(input.snapshotId === undefined ? {} : { [SNAPSHOT_LABEL]: input.snapshotId }) });
  // A running one is a replay in progress (on a shared engine, maybe someone else's): only --force stops it.
  const running = input.force ? [] : found.running;
  const containers = found.containers.filter((id) => !running.includes(id));
  if (!input.dryRun) {
    // Containers first: an image a container still uses cannot go (nor is it tried while one runs).
    for (const id of containers) await engine.remove(id);
    if (running.length === 0) for (const id of found.images) await engine.removeImage(id);
  }
  result.containers = containers;
  result.images = running.length === 0 ? found.images : [];
  result.running = running;
  return result;
}
