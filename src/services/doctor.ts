// `snapshot doctor`: is this machine's engine ready to replay (a snapshot, or any)? The same
// checks replay runs first and stops on: the engine answers, its runtimes, free disk, and on a
// local engine the host's GPUs, driver and compute capability against what the snapshot needs.
import type { DoctorCheck } from '../core/replay/backend.js';
import type { DoctorReport } from '../core/replay/report.js';
import type { Snapshot } from '../core/model.js';
import { SnapshotError } from '../errors.js';
import { dockerChecks } from './engines/docker.js';
import { openDockerEngine } from './engines/open.js';
import { parseGpus, describeGpus } from './replay.js';
import { loadSnapshot } from './snapshots.js';

export interface DoctorInput {
  snapshotPath?: string;
  cwd: string;
  dockerHost?: string;
  env: NodeJS.ProcessEnv;
  gpus?: string;
}

export async function doctor(input: DoctorInput): Promise<DoctorReport> {
  const snapshot: Snapshot | null = input.snapshotPath === undefined ? null : await loadSnapshot(input.snapshotPath, input.cwd);
  const gpus = parseGpus(input.gpus, snapshot);
  const engine = await openDockerEngine({ dockerHost: input.dockerHost, env: input.env });
  let checks: DoctorCheck[];
  try {
    checks = (await dockerChecks(engine, snapshot, gpus)).checks;
  } catch (error) {
    // An engine that does not answer is doctor's finding, not doctor's failure.
    if (!(error instanceof SnapshotError)) throw error;
    checks = [{ name: 'engine', status: 'fail', message: `${error.message}${error.hint ? ` (${error.hint})` : ''}` }];
  }
  const status = checks.some((c) => c.status === 'fail') ? 'fail' : checks.some((c) => c.status === 'warn') ? 'warn' : 'ok';
  return { engine: { endpoint: engine.endpoint.display, source: engine.endpoint.source }, snapshot: input.snapshotPath ?? null, gpus: describeGpus(gpus), status, checks };
}
