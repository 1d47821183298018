// The saved-model reload check (the article's Example 3), both ends of it. At capture: every saved
// model among the baseline's outputs is loaded again in the captured environment and run on a
// fixed, seeded input; the predictions go into the bundle. At replay: the baseline's own model
// files are loaded in the replay's environment (the engine runs the script there) and their
// predictions compared with the bundle's. Whether the saved model reproduces without retraining
// is a verdict of its own, apart from whether retraining reproduces.
import { dirname, join, resolve } from 'node:path';
import { buildPolicy } from '../core/compare/policy.js';
import type { ReloadCheck, ReloadedModel, Snapshot } from '../core/model.js';
import { judgeWithoutPredictions, RELOAD_BATCH, RELOAD_SEED, type ReloadReproduction, type ReloadRun } from '../core/reload.js';
import type { ReplayReload } from '../core/replay/report.js';
import { ExternalError, InterruptedError, UserInputError } from '../errors.js';
import { canonicalPath, isInside, makeTempDir, removePath, sha256File, statKind, type StagedFolder } from '../adapters/fs.js';
import { compareReloadedPredictions, findSavedModels, pythonExecutor, runReload, type ReloadExecutor } from '../adapters/probes/reload.js';
import type { PolicyDocument } from '../core/compare/policy.js';
import { formatSeconds } from '../core/units.js';

/** Loading TensorFlow and a few models takes seconds; a reload that runs for ten minutes is stuck. */
export const RELOAD_TIMEOUT_MS = 600_000;

export interface CaptureReloadInput {
  /** The staged bundle: the baseline is in it, and the predictions go to reload/<n>.npz. */
  staged: StagedFolder;
  /** The bundle's final path, and the snapshot-relative form of a path under it. */
  bundlePath: string;
  relToSnapshot: (path: string) => string;
  python: string;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
  warnings: string[];
  signal?: AbortSignal;
}

function describeRun(run: ReloadRun): string {
  const loaded = run.models.filter((m) => m.status === 'ok').length;
  const imported = run.import_ms === null ? '' : `, the framework's import ${formatSeconds(run.import_ms)}`;
  return `${loaded} of ${run.models.length} saved model(s) reloaded in ${formatSeconds(run.duration_ms)}${imported}`;
}

/**
 * Capture's reload check: null when the baseline holds no saved model; a check whose models each
 * loaded or say why not. A reload that cannot be judged at all (its result refused) is a warning
 * and null: the capture itself stands.
 */
export async function reloadCapturedModels(input: CaptureReloadInput): Promise<{ check: ReloadCheck | null; problem: string | null }> {
  const baselineDir = input.staged.path('baseline');
  if ((await statKind(baselineDir)) !== 'directory') return { check: null, problem: null };
  const found = await findSavedModels(baselineDir);
  if (found.length === 0) return { check: null, problem: null };
  input.log(`reloading ${found.length} saved model(s) in the captured environment: ${found.map((m) => m.name).join(', ')}`);
  const outDir = await makeTempDir('snapshot-reload-');
  try {
    const run = await runReload({ models: found, seed: RELOAD_SEED, batch: RELOAD_BATCH, outDir: join(outDir, 'out'), execute: pythonExecutor(input.python, input.env, RELOAD_TIMEOUT_MS), signal: input.signal });
    const models: ReloadedModel[] = [];
    for (const [index, model] of run.models.entries()) {
      let predictions: string | null = null;
      let sha256: string | null = null;
      if (model.predictions !== null) {
        const name = join('reload', `${index}.npz`);
        sha256 = (await input.staged.copyInHashed(model.predictions, name)).sha256;
        predictions = input.relToSnapshot(join(input.bundlePath, name));
      }
      models.push({ path: model.path, format: model.format, status: model.status, message: model.message, inputs: model.inputs, predictions, sha256 });
      if (model.status === 'error') input.warnings.push(`the saved model ${model.path} does not reload in the captured environment: ${model.message ?? 'no reason given'}`);
    }
    input.log(`reload check: ${describeRun(run)}`);
    return { check: { seed: run.seed, batch: run.batch, duration_ms: run.duration_ms, models }, problem: null };
  } catch (error) {
    // Only the engine's answer failing is the check's own problem; Ctrl-C and bugs go on up.
    if (!(error instanceof ExternalError)) throw error;
    input.warnings.push(`the saved-model reload check could not be judged: ${error.message}`);
    return { check: null, problem: error.message };
  } finally {
    await removePath(outDir).catch(() => undefined);
  }
}

const unsafe = (field: string, value: string, why: string): UserInputError =>
  new UserInputError('UNSAFE_SNAPSHOT_VALUE', `${field}: ${JSON.stringify(value).slice(0, 200)} ${why}`, { hint: 'The snapshot file has been edited or is corrupt; recapture it.' });

/** Where a snapshot-relative path from the snapshot lies, refused when it leads out of the snapshot's folder (as compare refuses the baseline's). */
function placed(snapshotPath: string, relative: string, field: string): string {
  const root = resolve(dirname(snapshotPath));
  const absolute = resolve(root, relative);
  if (!isInside(root, absolute) || absolute === root) throw unsafe(field, relative, "points outside the snapshot's folder");
  return absolute;
}

export interface ReplayReloadPlan {
  /** The baseline folder on this host, every link resolved (what a container mounts); the models under it. */
  baselineDir: string;
  models: Array<{ baseline: ReloadedModel; hostPath: string; name: string }>;
}


/**
 * The baseline models a replay reloads, each inside the baseline folder and the baseline inside
 * the snapshot's folder, by name and with every link resolved (a bundle whose baseline is a link
 * to a home folder must not be mounted into a container); their predictions inside the snapshot's
 * folder the same way. A path that leads out is refused before anything runs: the snapshot and
 * its bundle are untrusted.
 */
export async function planReplayReload(snapshot: Snapshot, snapshotPath: string): Promise<ReplayReloadPlan | null> {
  const check = snapshot.run?.reload ?? null;
  const baseline = snapshot.run?.baseline ?? null;
  if (check === null || baseline === null || check.models.length === 0) return null;
  const rootReal = await canonicalPath(dirname(snapshotPath));
  const baselineDir = placed(snapshotPath, baseline.dir, 'run.baseline.dir');
  const baselineReal = await canonicalPath(baselineDir);
  if (!isInside(rootReal, baselineReal) || baselineReal === rootReal) throw unsafe('run.baseline.dir', baseline.dir, `leads outside the snapshot's folder through a link (to ${baselineReal})`);
  const models: ReplayReloadPlan['models'] = [];
  for (const [i, model] of check.models.entries()) {
    const field = `run.reload.models[${i}]`;
    const lexical = model.path === '.' ? baselineDir : resolve(baselineDir, ...model.path.split('/'));
    if (!isInside(baselineDir, lexical) || model.path.split('/').includes('..') || model.path.startsWith('/')) throw unsafe(`${field}.path`, model.path, 'points outside the baseline');
    const real = await canonicalPath(lexical);
    if (!isInside(baselineReal, real)) throw unsafe(`${field}.path`, model.path, `leads outside the baseline through a link (to ${real})`);
    if (model.predictions !== null) {
      const predictions = placed(snapshotPath, model.predictions, `${field}.predictions`);
      if (!isInside(rootReal, await canonicalPath(predictions))) throw unsafe(`${field}.predictions`, model.predictions, "leads outside the snapshot's folder through a link");
    }
    models.push({ baseline: model, hostPath: real, name: model.path });
  }
  return { baselineDir: baselineReal, models };
}

/**
 * What of a baseline model's files has changed since capture: its files against the baseline's
 * manifest (a SavedModel folder: every file under it), its kept predictions against their sha256.
 * null when all still match. A bundle edited since is said as such, never blamed on the replay's
 * environment.
 */
async function changedSinceCapture(snapshot: Snapshot, snapshotPath: string, planned: ReplayReloadPlan['models'][number]): Promise<string | null> {
  const files = snapshot.run?.baseline?.files ?? [];
  const prefix = planned.name === '.' ? '' : `${planned.name}/`;
  const own = planned.baseline.format === 'savedmodel' ? files.filter((f) => prefix === '' || f.path.startsWith(prefix)) : files.filter((f) => f.path === planned.name);
  if (own.length === 0) return `the baseline's manifest lists no file of ${planned.name}`;
  const root = planned.baseline.format === 'savedmodel' ? planned.hostPath : dirname(planned.hostPath);
  for (const file of own) {
    const path = planned.baseline.format === 'savedmodel' ? join(root, ...file.path.slice(prefix.length).split('/')) : planned.hostPath;
    const now = await sha256File(path).catch(() => null);
    if (now === null) return `the baseline's ${file.path} cannot be read`;
    if (now.sha256 !== file.sha256) return `the baseline's ${file.path} has changed since capture (its sha256 no longer matches the snapshot's manifest)`;
  }
  if (planned.baseline.predictions !== null) {
    const kept = await sha256File(placed(snapshotPath, planned.baseline.predictions, 'run.reload predictions')).catch(() => null);
    if (kept === null) return `its predictions kept at capture (${planned.baseline.predictions}) cannot be read`;
    if (kept.sha256 !== planned.baseline.sha256) return `its predictions kept at capture (${planned.baseline.predictions}) have changed since (their sha256 no longer matches)`;
  }
  return null;
}

export interface ReplayReloadInput {
  snapshot: Snapshot;
  snapshotPath: string;
  plan: ReplayReloadPlan;
  /** Runs the reload script in the replay's environment (the engine's). */
  execute: ReloadExecutor;
  /** Where a baseline model is as the script sees it (a container's mount); default its path here. */
  modelPath?: (model: { path: string; name: string }) => string;
  outDir: string;
  policy: PolicyDocument | null;
  signal?: AbortSignal;
}

/**
 * Replay's reload check: the baseline's models loaded in the replay environment, their
 * predictions compared with the bundle's under the tolerance of the policy's rule for the model's
 * file (bit for bit without one). A model whose files changed since capture is not run; a model
 * the script never reported on (the process did not start, timed out, died) is an error with the
 * process's reason, not a model that does not load.
 */
export async function reloadBaselineModels(input: ReplayReloadInput): Promise<ReplayReload> {
  const check = input.snapshot.run?.reload as ReloadCheck;
  const changed = new Map<string, string>();
  for (const planned of input.plan.models) {
    if (planned.baseline.status !== 'ok' || planned.baseline.predictions === null) continue;
    const why = await changedSinceCapture(input.snapshot, input.snapshotPath, planned);
    if (why !== null) changed.set(planned.name, why);
  }
  const loadable = input.plan.models.filter((m) => m.baseline.status === 'ok' && m.baseline.predictions !== null && !changed.has(m.name));
  let run: ReloadRun | null = null;
  if (loadable.length > 0) {
    run = await runReload({
      models: loadable.map((m) => ({ path: m.hostPath, name: m.name, format: m.baseline.format })),
      seed: check.seed,
      batch: check.batch,
      outDir: input.outDir,
      execute: input.execute,
      modelPath: input.modelPath,
      signal: input.signal,
    });
  }
  const policy = buildPolicy(input.policy);
  const models: ReloadReproduction[] = [];
  for (const planned of input.plan.models) {
    const at = { path: planned.name, format: planned.baseline.format };
    const why = changed.get(planned.name);
    if (why !== undefined) {
      models.push({ ...at, status: 'error', message: `not reloaded: ${why}` });
      continue;
    }
    const candidate = run?.models.find((m) => m.path === planned.name) ?? null;
    if (candidate !== null && !candidate.reported) {
      models.push({ ...at, status: 'error', message: candidate.message ?? 'the reload did not report on it' });
      continue;
    }
    const decided = judgeWithoutPredictions(check, planned.baseline, run, candidate);
    if (decided !== null) {
      models.push(decided);
      continue;
    }
    const baselineNpz = placed(input.snapshotPath, planned.baseline.predictions as string, 'run.reload predictions');
    models.push(await compareReloadedPredictions(baselineNpz, candidate?.predictions as string, policy.forOutput(planned.name).tolerance, planned.baseline));
    if (input.signal?.aborted) throw new InterruptedError(input.signal, 'the saved-model reload check');
  }
  return { status: 'checked', message: summarize(models), duration_ms: run?.duration_ms ?? 0, import_ms: run?.import_ms ?? null, models };
}

/** One line over the models' verdicts: the worst first. */
export function summarize(models: readonly ReloadReproduction[]): string {
  if (models.length === 0) return 'no saved model to reload';
  const count = (status: ReloadReproduction['status']) => models.filter((m) => m.status === status).length;
  const parts: string[] = [];
  for (const [status, what] of [
    ['unloadable', 'do not load here'],
    ['different', 'give other predictions'],
    ['error', 'could not be compared'],
    ['equivalent', 'give predictions within the tolerance'],
    ['identical', 'give bit-identical predictions'],
    ['not_checked', 'were not checked'],
  ] as const) {
    const n = count(status);
    if (n > 0) parts.push(`${n} ${what}`);
  }
  return `the baseline's saved models, reloaded without retraining: ${parts.join(', ')}`;
}
