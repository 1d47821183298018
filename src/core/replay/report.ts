// The replay record: what `snapshot replay` prints under --json, keeps as replay.json in the
// replay's folder, and what the fleet and the HTML report read (schemas/replay-report.schema.json).
import type { CompareReport } from '../compare/model.js';
import type { Finding, RepeatCheck } from '../model.js';
import type { ReloadReproduction } from '../reload.js';
import type { SnapshotDifference } from '../snapshot-diff.js';
import type { DoctorCheck, ReplayStage } from './backend.js';
import { ExitCode } from '../../errors.js';

import type { RunRecording } from '../recording.js';

export const REPLAY_REPORT_VERSION = 1;

export type ReplayVerdict = 'identical' | 'equivalent' | 'different' | 'error';

/** Why a replay could not be judged; `kind` decides the exit code (6 could not run, 7 ran but not judged). */
export interface ReplayFailure {
  stage: ReplayStage;
  kind: 'could-not-run' | 'not-judged';
  code: string;
  message: string;
  hint: string | null;
  /** The last lines of the build step or the training's log that failed. */
  log_tail: string[];
}

export interface LikelyCause {
  severity: SnapshotDifference['severity'];
  /** The snapshot field the cause is about, when it is one. */
  field: string | null;
  message: string;
}

export interface ReplayDataRecord {
  path: string;
  source: string;
  target: string;
  how: string;
  status: 'verified' | 'not-verified' | 'mismatch' | 'missing';
  files: number | null;
}

export interface ReplayRunRecord {
  command: string;
  workdir: string;
  exit_code: number | null;
  signal: string | null;
  oom_killed: boolean;
  timed_out: boolean;
  started_at: string;
  duration_ms: number;
  stdout_log: string;
  stderr_log: string;
  outputs: number | null;
}

/**
 * The baseline's saved models loaded again in the replay's environment, without retraining:
 * checked (each model's verdict), skipped (--no-reload, or an engine that cannot reach the
 * models) or error (the reload's answer could not be judged).
 */
export interface ReplayReload {
  status: 'checked' | 'skipped' | 'error';
  message: string;
  /** The reload process, and the framework's import within it, apart from the replay's own durations. */
  duration_ms: number;
  import_ms: number | null;
  models: ReloadReproduction[];
}

export interface ReplayReport {
  report_version: number;
  id: string;
  verdict: ReplayVerdict;
  exit_code: number;
  /** One line after the verdict: why (its most likely cause, or what stopped it). */
  conclusion: string;
  snapshot: { path: string; id: string; created_at: string };
  folder: string;
  started_at: string;
  engine: { kind: string; where: string; facts: Record<string, string | number | boolean | null>; /** Why this engine: the flag, or what --engine auto found. */ reason: string | null };
  doctor: DoctorCheck[];
  environment: {
    facts: Record<string, string | number | boolean | null>;
    env: Record<string, string>;
    gpus: string;
    /** The comparison crossed hardware classes (captured on a GPU, replayed on CPU, or the reverse). */
    hardware_crossed: boolean;
    file: string | null;
  };
  data: { verified: boolean; skipped: boolean; records: ReplayDataRecord[]; /** Data paths whose files the training changed (checked again after the run where the engine does not mount them read-only). */ modified_by_run: string[] };
  run: ReplayRunRecord | null;
  compare: CompareReport | null;
  differences: SnapshotDifference[];
  /** What the recorder saw the replay's training do, and why there is none (null: recorded, or --no-record). */
  record: { recorded: RunRecording | null; problem: string | null; baseline_recorded: boolean };
  /** What the snapshot says of its own training: its run-to-run check (capture --repeat) and what the determinism rules, as this tool ships them, find in it. */
  baseline: { repeat: RepeatCheck | null; findings: Finding[] };
  /** The saved-model reload check; null when the baseline has none (no saved model, or captured without it). */
  reload: ReplayReload | null;
  causes: LikelyCause[];
  failure: ReplayFailure | null;
  durations: { doctor_ms: number; prepare_ms: number; verify_ms: number; run_ms: number; probe_ms: number; compare_ms: number; reload_ms: number; total_ms: number };
  warnings: string[];
}

/** identical and equivalent 0, different 1, error 6 when it could not run, 7 when it ran but could not be judged. */
export function replayExitCode(verdict: ReplayVerdict, failure: ReplayFailure | null): number {
  if (verdict === 'identical' || verdict === 'equivalent') return ExitCode.ok;
  if (verdict === 'different') return ExitCode.different;
  return failure?.kind === 'could-not-run' ? ExitCode.external : ExitCode.verdictError;
}

/** What `snapshot doctor` reports: the engine, and each check with its reason. */
export interface DoctorReport {
  engine: { endpoint: string; source: string };
  snapshot: string | null;
  gpus: string;
  status: 'ok' | 'warn' | 'fail';
  checks: DoctorCheck[];
  /** What the determinism rules (data/findings.json, as this tool ships them) find in the snapshot, run record included; [] without a snapshot. They do not change the status. */
  findings: Finding[];
}
