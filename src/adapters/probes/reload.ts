// The saved-model reload check, its I/O: finds the saved models among a training's outputs, runs
// python/snapshot_reload.py in the environment to load each again and run it on a fixed, seeded
// input, and reads back what it wrote. The script runs in the user's interpreter, so its
// result.json is untrusted: it is validated against schemas/reload-result.schema.json, checked
// against the request (core/reload.ts), and every predictions file it names must be a regular file
// inside the output folder. What the models themselves do wrong is per model, not an exception.
import { lstat, realpath } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExternalError, InternalError, InterruptedError } from '../../errors.js';
import type { Tolerance } from '../../core/compare/model.js';
import { foldReloadedPredictions, h5FilesToInspect, pickSavedModels, reloadResultProblems, type H5RootFacts, type ReloadReproduction, type ReloadRequest, type ReloadExecutor, type ReloadResultFile, type ReloadRun, type ReloadRunModel, type SavedModelFormat } from '../../core/reload.js';
export type { ReloadExecutor, ReloadProcess, ReloadRun, ReloadRunModel } from '../../core/reload.js';
import { describeFsError, isEmptyFolder, isInside, makeDir, readOptionalText, sha256File, walkFiles, writeFileAtomic } from '../fs.js';
import { schemaProblems } from '../json-schema.js';
import { runProcess } from '../process.js';

export const RELOAD_SCRIPT = fileURLToPath(new URL('../../../python/snapshot_reload.py', import.meta.url));
const RESULT_SCHEMA = fileURLToPath(new URL('../../../schemas/reload-result.schema.json', import.meta.url));
/** result.json is a few hundred bytes a model; anything far larger is not the script's. */
const RESULT_MAX_BYTES = 16 * 1024 * 1024;
/** A model that prints while it loads may fill this; the script itself prints nothing. */
const OUTPUT_MAX_BYTES = 16 * 1024 * 1024;

export interface SavedModelFile {
  /** Absolute: the file, or the SavedModel's folder. */
  path: string;
  /** Relative to the outputs folder, '/'-separated ('.' when the outputs folder is itself a SavedModel). */
  name: string;
  format: SavedModelFormat;
}

/**
 * The saved models among the files under outputsDir, sorted by name: .keras archives, .h5 / .hdf5
 * files whose root attributes hold model_config (weights-only files are passed over), and folders
 * holding saved_model.pb. onSkip hears of each file passed over that might have been one, and of
 * what the walk itself skips (symlinks out of the folder, names that are not UTF-8).
 */
export async function findSavedModels(outputsDir: string, onSkip?: (name: string, reason: string) => void): Promise<SavedModelFile[]> {
  const root = resolve(outputsDir);
  const files = await walkFiles(root, onSkip);
  const paths = files.map((f) => f.relativePath);
  const absolute = new Map(files.map((f) => [f.relativePath, f.absolutePath as string]));
  const facts = new Map<string, H5RootFacts>();
  const toInspect = h5FilesToInspect(paths);
  if (toInspect.length > 0) {
    const { h5RootAttributeNames } = await import('../readers/hdf5-file.js');
    for (const path of toInspect) {
      try {
        facts.set(path, { attributes: await h5RootAttributeNames(absolute.get(path) as string) });
      } catch (error) {
        facts.set(path, { error: error instanceof Error ? error.message : String(error) });
      }
    }
  }
  const { models, skipped } = pickSavedModels(paths, facts);
  for (const { name, reason } of skipped) onSkip?.(name, reason);
  return models.map((m) => ({ path: m.name === '.' ? root : join(root, ...m.name.split('/')), name: m.name, format: m.format }));
}

export interface ReloadOptions {
  models: ReadonlyArray<Pick<SavedModelFile, 'path' | 'name' | 'format'>>;
  seed: number;
  batch: number;
  /** A new or empty folder: the request, result.json and the predictions go here, and nothing anywhere else. */
  outDir: string;
  execute: ReloadExecutor;
  /** Where each model is as the script sees it (inside a container); default its own path here. */
  modelPath?: (model: Pick<SavedModelFile, 'path' | 'name'>) => string;
  signal?: AbortSignal;
}

/**
 * The reload script in an interpreter on this host. `env` is the whole environment of the child,
 * as the training had it (KERAS_BACKEND, TF_USE_LEGACY_KERAS...); TF_CPP_MIN_LOG_LEVEL is set to
 * 3 over it.
 */
export function pythonExecutor(python: string, env: NodeJS.ProcessEnv, timeoutMs: number): ReloadExecutor {
  return async ({ requestPath, outDir }, signal) => {
    // -B: no bytecode written into the environment; cwd: anything a framework writes relative lands in outDir.
    const ran = await runProcess(python, ['-B', RELOAD_SCRIPT, '--request', requestPath, '--out', outDir], {
      cwd: outDir,
      env: { ...env, TF_CPP_MIN_LOG_LEVEL: '3' },
      timeoutMs,
      signal,
      maxBuffer: OUTPUT_MAX_BYTES,
    });
    return { outcome: ran.outcome, reason: ran.reason ?? (ran.outcome === 'ok' ? undefined : `${python} did not finish`), durationMs: ran.durationMs };
  };
}

function refused(resultPath: string, problems: readonly string[]): ExternalError {
  const shown = problems.slice(0, 5).join('; ') + (problems.length > 5 ? `; and ${problems.length - 5} more` : '');
  return new ExternalError('RELOAD_RESULT_INVALID', `the reload check's ${resultPath} is refused: ${shown}`, {
    hint: 'It is written by python/snapshot_reload.py in the environment; something there wrote another file in its place. Run the script by hand to see.',
  });
}

/** The predictions file a result names: a regular file (no link) inside outDir, ending in .npz. */
async function predictionsFile(outDir: string, realOut: string, name: string): Promise<{ path: string } | { problem: string }> {
  if (isAbsolute(name) || !name.endsWith('.npz')) return { problem: `${JSON.stringify(name)} is not a .npz file name inside the output folder` };
  const path = resolve(outDir, name);
  if (!isInside(outDir, path) || path === outDir) return { problem: `${JSON.stringify(name)} is outside the output folder` };
  try {
    const info = await lstat(path);
    if (!info.isFile()) return { problem: `${JSON.stringify(name)} is not a regular file` };
    if (!isInside(realOut, await realpath(path))) return { problem: `${JSON.stringify(name)} leads outside the output folder` };
  } catch (error) {
    return { problem: `${JSON.stringify(name)} cannot be read (${describeFsError(error)})` };
  }
  return { path };
}

/**
 * Runs the reload script on these models and returns what each did. A model that does not load
 * or run is an 'error' entry with the script's one-line reason; so is every model when the
 * process cannot start or dies before writing anything, and each model it had not finished when it
 * died (a timeout, a crash in native code). A result.json that is not the script's answer to this
 * request is refused (ExternalError RELOAD_RESULT_INVALID); Ctrl-C is an InterruptedError.
 */
export async function runReload(options: ReloadOptions): Promise<ReloadRun> {
  const outDir = resolve(options.outDir);
  await makeDir(outDir);
  if (!(await isEmptyFolder(outDir))) throw new InternalError(`the reload check's output folder ${outDir} is not empty`);
  const modelPath = options.modelPath ?? ((m) => resolve(m.path));
  const request: ReloadRequest = { seed: options.seed, batch: options.batch, models: options.models.map((m) => ({ path: modelPath(m), name: m.name, format: m.format })) };
  const requestPath = join(outDir, 'request.json');
  const resultPath = join(outDir, 'result.json');
  await writeFileAtomic(requestPath, `${JSON.stringify(request, null, 1)}\n`);
  const ran = await options.execute({ requestPath, outDir }, options.signal);
  if (ran.outcome === 'aborted' || options.signal?.aborted) throw new InterruptedError(options.signal, 'the saved-model reload check');
  const processFault = ran.outcome === 'ok' ? null : { outcome: ran.outcome, reason: ran.reason ?? 'the reload script did not finish' };
  let text: string | null;
  try {
    text = await readOptionalText(resultPath, "the reload check's result", RESULT_MAX_BYTES);
  } catch (error) {
    // A folder in its place, a file of gigabytes: not the script's answer.
    throw refused(resultPath, [error instanceof Error ? error.message : String(error)]);
  }
  const failed = (name: string, format: SavedModelFormat, message: string): ReloadRunModel => ({ path: name, format, status: 'error', message, inputs: [], predictions: null, sha256: null, loader: null, duration_ms: 0, reported: false });
  if (text === null) {
    if (processFault === null) throw refused(resultPath, ['the script exited 0 but wrote no result.json']);
    const why = `the reload did not run: ${processFault.reason}`;
    return { seed: options.seed, batch: options.batch, duration_ms: ran.durationMs, import_ms: null, process: processFault, models: request.models.map((m) => failed(m.name, m.format, why)) };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw refused(resultPath, [`not JSON (${error instanceof Error ? error.message : String(error)})`]);
  }
  const schema = schemaProblems(RESULT_SCHEMA, parsed);
  if (schema.length > 0) throw refused(resultPath, schema);
  const result = parsed as ReloadResultFile;
  const problems = reloadResultProblems(result, request);
  if (!result.complete && processFault === null) problems.push('the script exited 0 but says it is not complete');
  const realOut = await realpath(outDir);
  const files: Array<string | null> = [];
  for (const model of result.models) {
    if (model.predictions === null) {
      files.push(null);
      continue;
    }
    const found = await predictionsFile(outDir, realOut, model.predictions);
    if ('problem' in found) problems.push(`${model.name}: its predictions file ${found.problem}`);
    files.push('path' in found ? found.path : null);
  }
  if (problems.length > 0) throw refused(resultPath, problems);
  const models: ReloadRunModel[] = [];
  for (const [i, model] of result.models.entries()) {
    const file = files[i] ?? null;
    models.push({
      path: model.name,
      format: model.format,
      status: model.status,
      message: model.message,
      inputs: model.inputs,
      predictions: file,
      sha256: file === null ? null : (await sha256File(file)).sha256,
      loader: model.loader,
      duration_ms: model.duration_ms,
      reported: true,
    });
  }
  // The process died part way: the model it was on, and those after it, say so.
  const stoppedAt = request.models[models.length];
  for (const rest of request.models.slice(models.length)) {
    const reason = processFault?.reason ?? 'the reload stopped';
    models.push(failed(rest.name, rest.format, rest === stoppedAt ? `the reload stopped while loading or running this model: ${reason}` : `not reached: the reload stopped at ${stoppedAt?.name ?? 'an earlier model'} (${reason})`));
  }
  return { seed: result.seed, batch: result.batch, duration_ms: ran.durationMs, import_ms: result.import_ms, process: processFault, models };
}

/**
 * Compares a baseline model's reloaded predictions with the replay's, array by array with the
 * compare engine's .npz reader (under `tolerance`; bit for bit with BITWISE). Never throws for a
 * bad file: that is an 'error' verdict. An output one side lacks makes them different.
 */
export async function compareReloadedPredictions(baselineNpz: string, candidateNpz: string, tolerance: Tolerance, model: Pick<ReloadRunModel, 'path' | 'format'>): Promise<ReloadReproduction> {
  const { compareNpzFiles } = await import('../readers/npz-file.js');
  const compared = await compareNpzFiles(baselineNpz, candidateNpz, () => tolerance);
  return foldReloadedPredictions(model.path, model.format, compared);
}
