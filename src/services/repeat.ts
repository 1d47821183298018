// capture --repeat N: the training run again, N-1 times, each in a fresh outputs folder, its
// outputs judged against the first run's baseline under the policy; with --explain, the candidate
// fixes tried one at a time, each in a further pair of runs, until one makes the pair identical
// or the budget is spent. The user's outputs folder ends as the first run left it: it is moved
// aside before the repeats and moved back after them, whatever happens in between.
import { join } from 'node:path';
import type { Finding, RepeatCheck } from '../core/model.js';
import type { RunRecording } from '../core/recording.js';
import { candidateFixes, divergence, explainedBy, repeatMessage, repeatVerdict } from '../core/repeat.js';
import { makeDir, makeTempDir, moveFolder, removePath, statKind } from '../adapters/fs.js';
import { compareOutputs } from './compare.js';

/** One more run of the training with extra variables; its record file is where the recorder writes. */
export type RunAgain = (extraEnv: Record<string, string>, recordFile: string | null) => Promise<{ ok: boolean; why: string | null }>;

export interface RepeatInput {
  runs: number;
  /** The user's outputs folder, as the training writes it. */
  outputsDir: string;
  /** The first run's outputs as kept in the bundle. */
  baselineDir: string;
  firstRecord: RunRecording | null;
  findings: readonly Finding[];
  /** The training's numerics variables (the snapshot's determinism.env). */
  env: Readonly<Record<string, string>>;
  policyPath?: string;
  cwd: string;
  explain: boolean;
  /** --explain-budget: further runs --explain may make. */
  explainBudget: number;
  record: boolean;
  runAgain: RunAgain;
  readRecord: (file: string) => Promise<RunRecording | null>;
  progress: (line: string) => void;
}

export async function runRepeats(input: RepeatInput): Promise<RepeatCheck> {
  const work = await makeTempDir('snapshot-repeat-');
  const held = join(work, 'first-run-outputs');
  const hadOutputs = (await statKind(input.outputsDir)) === 'directory';
  if (hadOutputs) await moveFolder(input.outputsDir, held);
  let runNo = 1;
  /** Runs the training once into a fresh outputs folder; returns where its outputs went. */
  const once = async (label: string, extraEnv: Record<string, string>): Promise<{ dir: string; record: RunRecording | null; ok: boolean; why: string | null }> => {
    runNo++;
    const dir = join(work, `run-${runNo}`);
    const recordFile = input.record ? join(work, `record-${runNo}.json`) : null;
    input.progress(`${label}: run ${runNo}`);
    const outcome = await input.runAgain(extraEnv, recordFile);
    if ((await statKind(input.outputsDir)) === 'directory') await moveFolder(input.outputsDir, dir);
    else await makeDir(dir);
    return { dir, record: recordFile === null ? null : await input.readRecord(recordFile), ok: outcome.ok, why: outcome.why };
  };
  try {
    return await repeatRuns(input, once);
  } finally {
    await restore(input, held, hadOutputs, work);
  }
}

/** The user's outputs folder as the first run left it; the repeats' outputs go with the work folder. */
async function restore(input: RepeatInput, held: string, hadOutputs: boolean, work: string): Promise<void> {
  if ((await statKind(input.outputsDir)) !== 'missing') await removePath(input.outputsDir);
  if (hadOutputs) {
    try {
      await moveFolder(held, input.outputsDir);
    } catch (error) {
      // The work folder is kept: it holds the first run's outputs now.
      input.progress(`the first run's outputs could not be moved back to ${input.outputsDir}: they are in ${held} (${error instanceof Error ? error.message : String(error)})`);
      throw error;
    }
  }
  await removePath(work);
}

type Once = (label: string, extraEnv: Record<string, string>) => Promise<{ dir: string; record: RunRecording | null; ok: boolean; why: string | null }>;

async function repeatRuns(input: RepeatInput, once: Once): Promise<RepeatCheck> {
  const reports = [];
  let firstDivergence: RepeatCheck['divergence'] = null;
  let failed: string | null = null;
  for (let i = 2; i <= input.runs; i++) {
    const run = await once(`repeat ${i - 1} of ${input.runs - 1}`, {});
    if (!run.ok) {
      failed = run.why ?? 'the training failed';
      break;
    }
    const compared = await compareOutputs({ baseline: input.baselineDir, candidate: run.dir, policyPath: input.policyPath, cwd: input.cwd });
    reports.push(compared.report);
    if (compared.report.verdict === 'different' && firstDivergence === null) firstDivergence = divergence(input.firstRecord, run.record);
  }
  if (failed !== null) {
    return { runs: input.runs, policy: input.policyPath ?? null, verdict: 'error', message: `a repeat of the training failed: ${failed}`, moved: [], divergence: null, explained_by: [], explain: null };
  }
  const { verdict, moved } = repeatVerdict(reports);
  const explained = verdict === 'nondeterministic' ? explainedBy(firstDivergence, input.findings) : [];
  const check: RepeatCheck = { runs: input.runs, policy: input.policyPath ?? null, verdict, message: repeatMessage(verdict, input.runs, moved, firstDivergence), moved, divergence: firstDivergence, explained_by: explained, explain: null };
  if (verdict === 'nondeterministic' && input.explain) check.explain = await explain(input, firstDivergence, once);
  return check;
}

/** Each candidate fix in a pair of runs, until one makes the pair identical or the budget is spent. */
async function explain(input: RepeatInput, div: RepeatCheck['divergence'], once: Once): Promise<NonNullable<RepeatCheck['explain']>> {
  const result: NonNullable<RepeatCheck['explain']> = { budget: input.explainBudget, runs: 0, tried: [], fixed_by: null };
  // The recorder carries two of the fixes: without it (--no-record) they would change nothing.
  const fixes = candidateFixes(div, input.firstRecord, input.env).filter((f) => input.record || !Object.keys(f.env).some((k) => k.startsWith('SNAPSHOT_RECORD_')));
  for (const fix of fixes) {
    if (result.runs + 2 > input.explainBudget) {
      input.progress(`--explain: the budget of ${input.explainBudget} runs is spent; not tried: ${fix.label}`);
      break;
    }
    input.progress(`--explain: trying ${fix.label}`);
    const a = await once(`--explain ${fix.code}`, fix.env);
    const b = await once(`--explain ${fix.code}`, fix.env);
    result.runs += 2;
    if (!a.ok || !b.ok) {
      result.tried.push({ fix: fix.label, code: fix.code, identical: false, verdict: 'error' });
      continue;
    }
    const compared = await compareOutputs({ baseline: a.dir, candidate: b.dir, cwd: input.cwd });
    const identical = compared.report.verdict === 'identical';
    result.tried.push({ fix: fix.label, code: fix.code, identical, verdict: compared.report.verdict });
    input.progress(`--explain: ${fix.label}: ${identical ? 'the two runs are bit-identical' : `still ${compared.report.verdict}`}`);
    if (identical) {
      result.fixed_by = fix.advice;
      break;
    }
  }
  return result;
}
