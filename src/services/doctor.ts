// `snapshot doctor`: is this machine's engine ready to replay (a snapshot, or any)? The same
// checks replay runs first and stops on: the engine answers, its runtimes, free disk, and on a
// local engine the host's GPUs, driver and compute capability against what the snapshot needs.
import type { DoctorCheck } from '../core/replay/backend.js';
import type { DoctorReport } from '../core/replay/report.js';
import type { Snapshot } from '../core/model.js';
import { SnapshotError } from '../errors.js';
import { dockerChecks } from './engines/docker.js';
import { openDockerEngine } from './engines/open.js';
import { localChecks } from './engines/local.js';
import { findPythons } from '../adapters/probes/pythons.js';
import { loadFindingRules } from '../adapters/package-files.js';
import { findingsFor } from '../core/determinism.js';
import { parseGpus, describeGpus } from './replay.js';
import { loadSnapshot } from './snapshots.js';

export interface DoctorInput {
  snapshotPath?: string;
  cwd: string;
  dockerHost?: string;
  env: NodeJS.ProcessEnv;
  gpus?: string;
  /** docker, local, or auto (both: ready when either engine is). */
  engine?: 'auto' | 'docker' | 'local';
  python?: string;
  exactPython?: boolean;
}

type Status = 'ok' | 'warn' | 'fail';
const worst = (checks: DoctorCheck[]): Status => (checks.some((c) => c.status === 'fail') ? 'fail' : checks.some((c) => c.status === 'warn') ? 'warn' : 'ok');

/** The local engine's checks, named "local ...": the interpreter for the snapshot (or the Pythons there are), its GPUs. */
async function localEngineChecks(snapshot: Snapshot | null, gpus: ReturnType<typeof parseGpus>, input: DoctorInput): Promise<DoctorCheck[]> {
  const named = (checks: DoctorCheck[]) => checks.map((c) => ({ ...c, name: `local ${c.name}` }));
  if (snapshot === null) {
    const found = await findPythons(input.env, '3');
    const versions = [...new Set(found.map((c) => c.version))].sort();
    return named([{ name: 'python', status: found.length > 0 ? 'ok' : 'warn', message: found.length > 0 ? `Pythons to rebuild environments with: ${versions.join(', ')}` : 'no Python found on PATH or under pyenv, asdf, conda or uv: the local engine cannot rebuild an environment' }]);
  }
  try {
    return named((await localChecks(snapshot, gpus, { python: input.python, exactPython: input.exactPython ?? false, env: input.env })).checks);
  } catch (error) {
    if (!(error instanceof SnapshotError)) throw error;
    return named([{ name: 'python', status: 'fail', message: `${error.message}${error.hint ? ` (${error.hint})` : ''}` }]);
  }
}

export async function doctor(input: DoctorInput): Promise<DoctorReport> {
  const snapshot: Snapshot | null = input.snapshotPath === undefined ? null : await loadSnapshot(input.snapshotPath, input.cwd);
  const gpus = parseGpus(input.gpus, snapshot);
  const which = input.engine ?? 'auto';
  const engine = await openDockerEngine({ dockerHost: input.dockerHost, env: input.env });
  let checks: DoctorCheck[] = [];
  if (which !== 'local') {
    try {
      checks = (await dockerChecks(engine, snapshot, gpus)).checks;
    } catch (error) {
      // An engine that does not answer is doctor's finding, not doctor's failure.
      if (!(error instanceof SnapshotError)) throw error;
      checks = [{ name: 'engine', status: 'fail', message: `${error.message}${error.hint ? ` (${error.hint})` : ''}` }];
    }
  }
  const local = which === 'docker' ? [] : await localEngineChecks(snapshot, gpus, input);
  // With both engines, this machine is ready when either one is: replay --engine auto takes the one that is.
  let status: Status;
  if (which === 'auto') {
    const [d, l] = [worst(checks), worst(local)];
    status = d === 'fail' && l === 'fail' ? 'fail' : d === 'ok' && l === 'ok' ? 'ok' : 'warn';
  } else status = worst([...checks, ...local]);
  // Judged again by the rules this tool ships, so a snapshot captured before a rule existed is told it too.
  const findings = snapshot === null ? [] : findingsFor(snapshot, await loadFindingRules());
  return { engine: { endpoint: engine.endpoint.display, source: engine.endpoint.source }, snapshot: input.snapshotPath ?? null, gpus: describeGpus(gpus), status, checks: [...checks, ...local], findings };
}
