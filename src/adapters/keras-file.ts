// A Keras 3 `.keras` archive: a zip of metadata.json, config.json and model.weights.h5 (plus
// assets/ for some layers). Two identical trainings never give byte-identical archives — the zip
// timestamps, `date_saved` in metadata.json and the Python object ids in config.json's
// `shared_object_id` keys change every run — so each part is compared for what it means:
//   *.h5 entries   dataset by dataset under the output's tolerance (extracted to a temporary file,
//                  because h5wasm reads files, not buffers, on Node; deleted afterwards)
//   *.json entries as JSON, exactly by default (ruleFor decides numbers), without the volatile keys
//   anything else  by sha256 of its decompressed bytes
import { combineStatuses } from '../core/compare/verdict.js';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { compareMetrics, parseMetricsJson } from '../core/compare/metrics.js';
import type { MetricDiff, MetricRule, OutputReport, OutputStatus, TensorDiff, Tolerance } from '../core/compare/model.js';
import { sha256File } from './fs.js';
import { compareH5Files, h5TensorDiffs } from './hdf5-file.js';
import { ZipArchive, type ZipEntryInfo } from './zip.js';

export interface KerasCompareOptions {
  /** Largest .h5 entry extracted to a temporary file (default 8 GiB). */
  maxWeightsBytes?: number;
  /** Largest JSON entry read into memory (default 64 MiB). */
  maxJsonBytes?: number;
}

const DEFAULT_MAX_WEIGHTS = 8 * 1024 ** 3;
const DEFAULT_MAX_JSON = 64 * 1024 * 1024;

/**
 * Keys that differ between identical trainings, by entry. Object keys named so are dropped at any
 * depth (`shared_object_id`, a Python id()) or at the top level only (`date_saved`).
 */
export const VOLATILE_KEYS: Record<string, { key: string; anyDepth: boolean }[]> = {
  'config.json': [{ key: 'shared_object_id', anyDepth: true }],
  'metadata.json': [{ key: 'date_saved', anyDepth: false }],
};

/** A copy of a JSON value without the named keys, and how many were dropped. */
export function stripKeys(value: unknown, key: string, anyDepth: boolean): { value: unknown; removed: number } {
  let removed = 0;
  const visit = (node: unknown, depth: number): unknown => {
    if (Array.isArray(node)) return node.map((item) => visit(item, depth + 1));
    if (node === null || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
      if (k === key && (anyDepth || depth === 0)) {
        removed++;
        continue;
      }
      out[k] = visit(v, depth + 1);
    }
    return out;
  };
  return { value: visit(value, 0), removed };
}

interface Part {
  tensors: TensorDiff[];
  metrics: MetricDiff[];
  ignored: string[];
  errors: string[];
}

async function entrySha256(archive: ZipArchive, name: string): Promise<string> {
  const hash = createHash('sha256');
  const stream = await archive.openStream(name);
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function extractEntry(archive: ZipArchive, entry: ZipEntryInfo, target: string, limit: number): Promise<void> {
  if (entry.size > limit) throw new Error(`entry ${entry.name} in ${archive.path} is ${entry.size} bytes, over the ${limit}-byte limit for extracting weights`);
  await pipeline(await archive.openStream(entry.name), createWriteStream(target, { flags: 'wx', mode: 0o600 }));
}

async function compareH5Entry(a: ZipArchive, b: ZipArchive, ea: ZipEntryInfo, eb: ZipEntryInfo, tolerance: Tolerance, limit: number): Promise<Part> {
  const dir = await mkdtemp(join(tmpdir(), 'snapshot-keras-'));
  try {
    const fa = join(dir, 'baseline.h5');
    const fb = join(dir, 'candidate.h5');
    await extractEntry(a, ea, fa, limit);
    await extractEntry(b, eb, fb, limit);
    const result = await compareH5Files(fa, fb, tolerance);
    if (result.error !== undefined) {
      // The temporary names mean nothing to a reader: name the archive and the entry instead.
      const message = result.error.replace(fa, `${a.path}:${ea.name}`).replace(fb, `${b.path}:${eb.name}`);
      return { tensors: [], metrics: [], ignored: [], errors: [message] };
    }
    const prefix = ea.name === 'model.weights.h5' ? '' : `${ea.name}:`;
    const tensors = h5TensorDiffs(result, tolerance).map((t) => ({ ...t, name: `${prefix}${t.name}` }));
    const metrics = result.attributes.filter((m) => m.status !== 'identical').map((m) => ({ ...m, key: `${ea.name}:${m.key}` }));
    return { tensors, metrics, ignored: [], errors: [] };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function compareJsonEntry(a: ZipArchive, b: ZipArchive, name: string, ruleFor: (key: string) => MetricRule, limit: number): Promise<Part> {
  const parse = async (archive: ZipArchive): Promise<unknown> => {
    const bytes = await archive.read(name, limit);
    try {
      return parseMetricsJson(bytes.toString('utf8'));
    } catch (error) {
      throw new Error(`entry ${name} in ${archive.path} is not valid JSON: ${(error as Error).message}`);
    }
  };
  let left = await parse(a);
  let right = await parse(b);
  const ignored: string[] = [];
  for (const { key, anyDepth } of VOLATILE_KEYS[name] ?? []) {
    const sa = stripKeys(left, key, anyDepth);
    const sb = stripKeys(right, key, anyDepth);
    left = sa.value;
    right = sb.value;
    const n = Math.max(sa.removed, sb.removed);
    if (n > 0) ignored.push(anyDepth ? `${name}: ${key} (${n} place${n === 1 ? '' : 's'})` : `${name}: ${key}`);
  }
  const metrics = compareMetrics(left, right, ruleFor)
    .filter((m) => m.status !== 'identical')
    .map((m) => ({ ...m, key: `${name}:${m.key}` }));
  return { tensors: [], metrics, ignored, errors: [] };
}

async function compareOtherEntry(a: ZipArchive, b: ZipArchive, name: string): Promise<Part> {
  const [ha, hb] = await Promise.all([entrySha256(a, name), entrySha256(b, name)]);
  const metrics: MetricDiff[] = ha === hb ? [] : [{ key: name, status: 'different', baseline: `sha256:${ha}`, candidate: `sha256:${hb}`, difference: null, tolerance: null, message: 'entry content differs' }];
  return { tensors: [], metrics, ignored: [], errors: [] };
}

/**
 * Compares two .keras archives. `path` is the report path (the lead's orchestration passes the
 * path relative to the compared folders; it defaults to the candidate's file name). Never throws:
 * an unreadable or corrupt archive is status 'error' with a message naming the file.
 */
export async function compareKerasFiles(
  baselinePath: string,
  candidatePath: string,
  tolerance: Tolerance,
  ruleFor: (key: string) => MetricRule,
  path: string = basename(candidatePath),
  options: KerasCompareOptions = {},
): Promise<OutputReport> {
  const maxWeights = options.maxWeightsBytes ?? DEFAULT_MAX_WEIGHTS;
  const maxJson = options.maxJsonBytes ?? DEFAULT_MAX_JSON;
  const report: OutputReport = { path, format: 'keras', status: 'error' };
  try {
    const [ha, hb] = await Promise.all([sha256File(baselinePath), sha256File(candidatePath)]);
    report.bytes = { baseline_sha256: ha.sha256, candidate_sha256: hb.sha256, baseline_size: ha.size, candidate_size: hb.size };
    // Equal bytes are identical by definition: no need to unpack the weights.
    if (ha.sha256 === hb.sha256 && ha.size === hb.size) return { ...report, status: 'identical', message: 'the archives are byte-identical' };
  } catch (error) {
    return { ...report, message: `cannot read ${(error as { path?: string }).path ?? `${baselinePath} or ${candidatePath}`}: ${(error as Error).message}` };
  }

  // Each archive is opened and its directory read once, for all its entries.
  const opened = await Promise.allSettled([ZipArchive.open(baselinePath), ZipArchive.open(candidatePath)]);
  try {
    const [oa, ob] = opened;
    if (oa.status === 'rejected') return { ...report, message: `cannot read the baseline .keras archive: ${(oa.reason as Error).message}` };
    if (ob.status === 'rejected') return { ...report, message: `cannot read the candidate .keras archive: ${(ob.reason as Error).message}` };
    return await compareArchives(oa.value, ob.value, report, tolerance, ruleFor, maxWeights, maxJson);
  } finally {
    for (const r of opened) if (r.status === 'fulfilled') r.value.close();
  }
}

async function compareArchives(
  za: ZipArchive,
  zb: ZipArchive,
  report: OutputReport,
  tolerance: Tolerance,
  ruleFor: (key: string) => MetricRule,
  maxWeights: number,
  maxJson: number,
): Promise<OutputReport> {
  const listA = za.entries;
  const listB = zb.entries;
  const filesA = new Map(listA.filter((e) => !e.name.endsWith('/')).map((e) => [e.name, e]));
  const filesB = new Map(listB.filter((e) => !e.name.endsWith('/')).map((e) => [e.name, e]));
  const names = [...new Set([...filesA.keys(), ...filesB.keys()])].sort();

  const tensors: TensorDiff[] = [];
  const metrics: MetricDiff[] = [];
  const ignored: string[] = [];
  const errors: string[] = [];
  let structural = false;
  for (const name of names) {
    const ea = filesA.get(name);
    const eb = filesB.get(name);
    if (eb === undefined) {
      metrics.push({ key: name, status: 'missing', baseline: ea?.size ?? null, candidate: null, difference: null, tolerance: null, message: 'archive entry missing from the candidate' });
      continue;
    }
    if (ea === undefined) {
      // An entry only the candidate has is a different model, not a harmless extra output.
      structural = true;
      metrics.push({ key: name, status: 'extra', baseline: null, candidate: eb.size, difference: null, tolerance: null, message: 'archive entry only in the candidate' });
      continue;
    }
    try {
      const part = name.endsWith('.h5')
        ? await compareH5Entry(za, zb, ea, eb, tolerance, maxWeights)
        : name.endsWith('.json')
          ? await compareJsonEntry(za, zb, name, ruleFor, maxJson)
          : await compareOtherEntry(za, zb, name);
      tensors.push(...part.tensors);
      metrics.push(...part.metrics);
      ignored.push(...part.ignored);
      errors.push(...part.errors);
    } catch (error) {
      errors.push(error instanceof Error ? error.message : String(error));
    }
  }

  // An archive entry only the candidate has is another model: 'different', not a harmless extra.
  const status: OutputStatus = combineStatuses([
    ...tensors.map((t) => t.status),
    ...metrics.map((m) => (m.status === 'extra' && structural ? 'different' : m.status)),
    ...errors.map(() => 'error' as const),
  ]);

  const notes: string[] = [...errors];
  const offTensors = tensors.filter((t) => t.status !== 'identical');
  if (offTensors.length > 0) notes.push(`${offTensors.length} of ${tensors.length} weights not identical`);
  const offMetrics = metrics.filter((m) => m.status !== 'identical');
  if (offMetrics.length > 0) notes.push(`${offMetrics.length} archive/config item${offMetrics.length === 1 ? '' : 's'} not identical`);
  if (status === 'identical' && report.bytes && report.bytes.baseline_sha256 !== report.bytes.candidate_sha256) notes.push('the archives differ in bytes only (zip timestamps and ignored keys)');
  return {
    ...report,
    status,
    ...(notes.length > 0 ? { message: notes.join('; ') } : {}),
    tensors,
    ...(metrics.length > 0 ? { metrics } : {}),
    ...(ignored.length > 0 ? { ignored } : {}),
  };
}
