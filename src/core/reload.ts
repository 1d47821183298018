// The saved-model reload check, its pure part: which outputs are saved models, what the reload
// script (python/snapshot_reload.py) must have answered for a given request, and what a replay's
// reload of the baseline's models says next to the baseline's own.
//
// A saved model is a `.keras` archive, a legacy Keras HDF5 full model (`model.save('m.h5')`: its
// root attributes hold `model_config`; a weights-only file, `model.weights.h5` or Keras 2's
// `save_weights('w.h5')`, has none or `layer_names`), or a TensorFlow SavedModel folder (one that
// holds saved_model.pb). Suffixes are matched as Keras matches them when it loads: case-sensitively.
import type { ReloadCheck, ReloadedModel } from './model.js';
import type { ItemStatus, MetricDiff, TensorDiff } from './compare/model.js';
import { absentItems, foldOutput } from './compare/fold.js';

/** The synthetic input's seed and batch size, the same at capture and at replay. */
export const RELOAD_SEED = 20261202;
export const RELOAD_BATCH = 4;

export type SavedModelFormat = ReloadedModel['format'];

export interface FoundModel {
  /** The model's path relative to the outputs folder, '/'-separated; '.' when the folder itself is a SavedModel. */
  name: string;
  format: SavedModelFormat;
}

/** What reading an .h5 file's root told: its attribute names, or why it could not be read. */
export type H5RootFacts = { attributes: readonly string[] } | { error: string };

const SAVED_MODEL_MARKERS = new Set(['saved_model.pb', 'saved_model.pbtxt']);

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

function isUnder(folder: string, path: string): boolean {
  return folder === '' || path === folder || path.startsWith(`${folder}/`);
}

/** The outermost folders that hold saved_model.pb ('' for the root itself). */
function savedModelFolders(paths: readonly string[]): string[] {
  const folders = [...new Set(paths.filter((p) => SAVED_MODEL_MARKERS.has(baseName(p))).map(parentOf))].sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
  const outermost: string[] = [];
  for (const folder of folders) if (!outermost.some((o) => isUnder(o, folder))) outermost.push(folder);
  return outermost;
}

const isH5Name = (path: string): boolean => path.endsWith('.h5') || path.endsWith('.hdf5');

/** The .h5 / .hdf5 files whose root attributes decide whether they are models (those inside a SavedModel folder are part of it). */
export function h5FilesToInspect(paths: readonly string[]): string[] {
  const folders = savedModelFolders(paths);
  return paths.filter((p) => isH5Name(p) && !folders.some((f) => isUnder(f, p)));
}

/** An .h5 file is a whole Keras model when its root says how to rebuild it. */
export function isKerasH5Model(rootAttributes: readonly string[]): boolean {
  return rootAttributes.includes('model_config');
}

/**
 * The saved models among the files of an outputs folder ('/'-separated relative paths), sorted by
 * name, and the .h5 files passed over with why. `h5Facts` holds what h5FilesToInspect asked for.
 */
export function pickSavedModels(paths: readonly string[], h5Facts: ReadonlyMap<string, H5RootFacts>): { models: FoundModel[]; skipped: Array<{ name: string; reason: string }> } {
  const folders = savedModelFolders(paths);
  const models: FoundModel[] = folders.map((f) => ({ name: f === '' ? '.' : f, format: 'savedmodel' }));
  const skipped: Array<{ name: string; reason: string }> = [];
  for (const path of paths) {
    if (folders.some((f) => isUnder(f, path))) continue;
    if (path.endsWith('.keras')) {
      models.push({ name: path, format: 'keras' });
    } else if (isH5Name(path)) {
      const facts = h5Facts.get(path);
      if (facts === undefined) skipped.push({ name: path, reason: 'its HDF5 root was not read' });
      else if ('error' in facts) skipped.push({ name: path, reason: `not readable as HDF5 (${facts.error})` });
      else if (isKerasH5Model(facts.attributes)) models.push({ name: path, format: 'h5' });
      else skipped.push({ name: path, reason: 'an HDF5 file without model_config at its root: weights or data, not a whole model' });
    }
  }
  return { models: models.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)), skipped };
}

/** The script's result.json, as schemas/reload-result.schema.json describes it (checked against it before use). */
export interface ReloadResultFile {
  reload_result: 1;
  seed: number;
  batch: number;
  /** false while the script is still working through the models (or died doing so). */
  complete: boolean;
  numpy: string | null;
  import_ms: number;
  duration_ms: number;
  models: Array<{
    name: string;
    format: SavedModelFormat;
    status: 'ok' | 'error';
    message: string | null;
    /** What loaded it: "keras 3.15.1 (tensorflow)", "tensorflow 2.21.0 (tf.saved_model.load, serving_default)"; null when no framework imported. */
    loader: string | null;
    inputs: Array<{ name: string; shape: number[]; dtype: string }>;
    /** A file name in the script's output folder; null unless status is ok. */
    predictions: string | null;
    duration_ms: number;
  }>;
}

/** How the reload script ended, whoever ran it: a local interpreter, or an engine's container. */
export interface ReloadProcess {
  outcome: 'ok' | 'failed' | 'absent' | 'timeout' | 'aborted';
  reason?: string;
  durationMs: number;
}

/**
 * Runs python/snapshot_reload.py on the request file, writing into outDir (both on this host):
 * an interpreter here, or an engine that mounts the request and copies the script's folder back
 * into outDir.
 */
export type ReloadExecutor = (paths: { requestPath: string; outDir: string }, signal?: AbortSignal) => Promise<ReloadProcess>;

/** How an engine runs the reload script in its environment: the executor, and where a model under the baseline folder is as the script sees it. */
export interface ReloadRunner {
  execute: ReloadExecutor;
  modelPath?: (model: { path: string; name: string }) => string;
}

/** One model as a reload run left it (before the caller places its predictions in the bundle). */
export interface ReloadRunModel extends ReloadedModel {
  /** The predictions .npz in the run's output folder (absolute), for the caller to place in the bundle; null when the model did not load. */
  predictions: string | null;
  sha256: string | null;
  /** What loaded it ("keras 3.15.1 (tensorflow)"), from the script; null when no framework imported. */
  loader: string | null;
  /** Its load and run, without the framework's import. */
  duration_ms: number;
  /** false: the script never reported on it (the process did not start, ran past its bound, or died before it); the message says how. */
  reported: boolean;
}

export interface ReloadRun extends ReloadCheck {
  models: ReloadRunModel[];
  /** The frameworks' import, as the script timed it; null when it wrote no result. */
  import_ms: number | null;
  /** How the process ended when it did not exit cleanly (a timeout, a crash in native code), else null. */
  process: { outcome: ReloadProcess['outcome']; reason: string } | null;
}

export interface ReloadRequest {
  seed: number;
  batch: number;
  models: Array<{ path: string; name: string; format: SavedModelFormat }>;
}

/**
 * What is wrong with a result.json, beyond its schema, for this request: the same seed and batch,
 * the request's models in its order (all of them once complete), a predictions file exactly when
 * a model loaded, a message exactly when it did not, and no two models sharing a file. Where the
 * files are (inside the output folder, present) is the adapter's to check.
 */
export function reloadResultProblems(result: ReloadResultFile, request: ReloadRequest): string[] {
  const problems: string[] = [];
  if (result.seed !== request.seed || result.batch !== request.batch) problems.push(`it was run with seed ${result.seed} and batch ${result.batch}, not the requested ${request.seed} and ${request.batch}`);
  if (result.models.length > request.models.length) problems.push(`it lists ${result.models.length} models; ${request.models.length} were requested`);
  if (result.complete && result.models.length < request.models.length) problems.push(`it says it is complete but lists ${result.models.length} of the ${request.models.length} models requested`);
  const files = new Set<string>();
  result.models.forEach((model, i) => {
    const asked = request.models[i];
    if (asked === undefined) return;
    if (model.name !== asked.name) problems.push(`model ${i + 1} is named ${JSON.stringify(model.name)}, but the request's model ${i + 1} is ${JSON.stringify(asked.name)}`);
    else if (model.format !== asked.format) problems.push(`${model.name}: format ${model.format}, but ${asked.format} was requested`);
    if (model.status === 'ok' && model.predictions === null) problems.push(`${model.name}: loaded, but names no predictions file`);
    if (model.status === 'error' && model.predictions !== null) problems.push(`${model.name}: did not load, but names a predictions file`);
    if (model.status === 'error' && model.message === null) problems.push(`${model.name}: did not load, and says not why`);
    if (model.predictions !== null) {
      if (files.has(model.predictions)) problems.push(`${model.name}: its predictions file ${model.predictions} is another model's too`);
      files.add(model.predictions);
    }
  });
  return problems;
}

/** What a replay's reload of one baseline model says. */
export interface ReloadReproduction {
  path: string;
  format: SavedModelFormat;
  /**
   * identical / equivalent / different: both loaded and their predictions were compared (or their
   * inputs differed: different). unloadable: the baseline's model loaded where it was captured
   * but not here (a Keras 3 environment and a Keras 2 .h5). not_checked: the baseline's own
   * reload failed, or its predictions are not in the bundle: nothing to compare with.
   * error: the predictions could not be compared.
   */
  status: 'identical' | 'equivalent' | 'different' | 'unloadable' | 'not_checked' | 'error';
  message: string;
  tensors?: TensorDiff[];
}

const shownInputs = (inputs: ReloadedModel['inputs']): string => inputs.map((i) => `${i.name}[${i.shape.join(',')}] ${i.dtype}`).join(', ') || 'none';

/**
 * The verdict on one baseline model that needs no file: null when both sides have predictions to
 * compare (then compareReloadedPredictions, in the adapter, decides). A candidate of null: the
 * replay did not reload this model.
 */
export function judgeWithoutPredictions(baselineCheck: Pick<ReloadCheck, 'seed' | 'batch'>, baseline: ReloadedModel, candidateCheck: Pick<ReloadCheck, 'seed' | 'batch'> | null, candidate: ReloadedModel | null): ReloadReproduction | null {
  const at = { path: baseline.path, format: baseline.format };
  if (baseline.status !== 'ok' || baseline.predictions === null) return { ...at, status: 'not_checked', message: `the baseline's own reload failed: ${baseline.message ?? 'no predictions were kept'}` };
  if (candidateCheck === null || candidate === null) return { ...at, status: 'not_checked', message: 'the replay did not reload this model' };
  if (candidateCheck.seed !== baselineCheck.seed || candidateCheck.batch !== baselineCheck.batch) {
    return { ...at, status: 'error', message: `the replay ran it on another input (seed ${candidateCheck.seed}, batch ${candidateCheck.batch}; the baseline's: seed ${baselineCheck.seed}, batch ${baselineCheck.batch})` };
  }
  if (candidate.status !== 'ok' || candidate.predictions === null) return { ...at, status: 'unloadable', message: `the replay environment could not load or run the baseline's model: ${candidate.message ?? 'no predictions'}` };
  if (shownInputs(baseline.inputs) !== shownInputs(candidate.inputs)) {
    return { ...at, status: 'different', message: `it takes other inputs here: ${shownInputs(candidate.inputs)}, where the baseline's took ${shownInputs(baseline.inputs)}` };
  }
  return null;
}

/** The arrays of two prediction files, as the npz reader compared them, folded to one verdict: an output one side lacks is another model. */
export function foldReloadedPredictions(path: string, format: SavedModelFormat, compared: { tensors: TensorDiff[]; entries: MetricDiff[]; missing: string[]; extra: string[]; error?: string }): ReloadReproduction {
  // Two files with no array in them prove nothing: the script always writes one per output.
  if (compared.tensors.length === 0 && compared.missing.length === 0 && compared.extra.length === 0 && compared.error === undefined) {
    return { path, format, status: 'error', message: 'the predictions hold no array to compare' };
  }
  const absent = absentItems(compared.missing, compared.extra, 'output').map((m): MetricDiff => ({ ...m, status: 'different' }));
  const folded = foldOutput(path, 'npy', { tensors: compared.tensors, metrics: [...compared.entries.filter((e) => e.status !== 'identical'), ...absent], errors: compared.error === undefined ? [] : [compared.error] });
  const status = folded.status as ItemStatus;
  const what = { identical: 'the reloaded model gives bit-identical predictions', equivalent: 'the reloaded model gives predictions within the tolerance', different: 'the reloaded model gives other predictions', error: 'the predictions could not be compared' }[status];
  return { path, format, status, message: folded.message === undefined ? what : `${what}: ${folded.message}`, ...(compared.tensors.length > 0 ? { tensors: compared.tensors } : {}) };
}
