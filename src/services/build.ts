// `snapshot build`: the first half of a replay on its own: the snapshot's image built on the
// engine from the context streamed in memory, tagged, and left in place (it is the build cache).
import { resolve } from 'node:path';
import type { EventSink } from '../core/replay/backend.js';
import { ExternalError } from '../errors.js';
import { readSnapshot } from '../adapters/snapshot-file.js';
import type { DockerSettings } from './engines/open.js';
import { dockerBackends } from './engines/open.js';
import { describeGpus, parseGpus } from './replay.js';
import { locateRepository } from './replay-code.js';

export interface BuildInput {
  snapshotPath: string;
  cwd: string;
  codeDir?: string;
  gpus?: string;
}

export interface BuildReport {
  snapshot: { path: string; id: string };
  engine: string;
  gpus: string;
  facts: Record<string, string | number | boolean | null>;
  warnings: string[];
}

export async function buildImage(input: BuildInput, settings: DockerSettings, events: EventSink, signal?: AbortSignal): Promise<BuildReport> {
  const snapshotPath = resolve(input.cwd, input.snapshotPath);
  const snapshot = await readSnapshot(snapshotPath);
  const gpus = parseGpus(input.gpus, snapshot);
  const repository = await locateRepository(snapshot, snapshotPath, { codeDir: input.codeDir, cwd: input.cwd, signal });
  const warnings: string[] = [];
  const sink: EventSink = (event) => {
    if (event.type === 'warning') warnings.push(event.message);
    events(event);
  };
  const backend = await dockerBackends(settings)({ id: `build-${snapshot.id.slice(0, 8)}`, snapshotPath, snapshot, repository, folder: '', gpus });
  try {
    const checks = await backend.check(snapshot, { kind: 'none' });
    const failed = checks.find((c) => c.status === 'fail');
    if (failed) throw new ExternalError('DOCTOR_FAILED', `${failed.name}: ${failed.message}`, { hint: 'Run `snapshot doctor` for every check.' });
    events({ type: 'stage', stage: 'prepare', message: `building the image on ${backend.where}` });
    const prepared = await backend.prepare(sink, signal);
    return { snapshot: { path: snapshotPath, id: snapshot.id }, engine: backend.where, gpus: describeGpus(gpus), facts: prepared.facts, warnings };
  } finally {
    await backend.dispose(null);
  }
}
