// Reading two Keras 3 `.keras` archives (zips of metadata.json, config.json and model.weights.h5,
// plus assets/ for some layers) part by part; what the parts mean and which keys are volatile is
// decided in core/compare/keras.ts:
//   *.h5 entries   dataset by dataset under the output's tensor rules (extracted to a temporary
//                  file, because h5wasm reads files, not buffers, on Node; deleted afterwards)
//   *.json entries value by value, exactly unless a rule names a key, without the volatile keys
//   anything else  by sha256 of its decompressed bytes
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { absentItems, foldOutput } from '../../core/compare/fold.js';
import { bytesFeed, StreamCursor } from '../../core/compare/json-cursor.js';
import { kerasDropKey, kerasEntryKind } from '../../core/compare/keras.js';
import { compareJsonDocuments } from '../../core/compare/metrics.js';
import type { MetricDiff, OutputReport, TensorDiff } from '../../core/compare/model.js';
import type { ResolvedOutputPolicy } from '../../core/compare/policy.js';
import { sha256File } from '../fs.js';
import { compareH5Files } from './hdf5-file.js';
import { ZipArchive, type ZipEntryInfo } from './zip.js';

export interface KerasCompareOptions {
  /** Largest .h5 entry extracted to a temporary file (default 8 GiB). */
  maxWeightsBytes?: number;
  /** Largest JSON entry read into memory (default 64 MiB). */
  maxJsonBytes?: number;
}

const DEFAULT_MAX_WEIGHTS = 8 * 1024 ** 3;
const DEFAULT_MAX_JSON = 64 * 1024 * 1024;

interface Part {
  tensors: TensorDiff[];
  metrics: MetricDiff[];
  ignored: string[];
  errors: string[];
  notes: string[];
}

const emptyPart = (): Part => ({ tensors: [], metrics: [], ignored: [], errors: [], notes: [] });

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

async function compareWeightsEntry(a: ZipArchive, b: ZipArchive, ea: ZipEntryInfo, eb: ZipEntryInfo, rules: ResolvedOutputPolicy, limit: number): Promise<Part> {
  const dir = await mkdtemp(join(tmpdir(), 'snapshot-keras-'));
  try {
    const fa = join(dir, 'baseline.h5');
    const fb = join(dir, 'candidate.h5');
    await extractEntry(a, ea, fa, limit);
    await extractEntry(b, eb, fb, limit);
    const prefix = ea.name === 'model.weights.h5' ? '' : `${ea.name}:`;
    const result = await compareH5Files(fa, fb, rules.tolerance, { toleranceFor: (name) => rules.tensorTolerance(`${prefix}${name}`) });
    const part = emptyPart();
    if (result.error !== undefined) {
      // The temporary names mean nothing to a reader: name the archive and the entry instead.
      part.errors.push(result.error.replace(fa, `${a.path}:${ea.name}`).replace(fb, `${b.path}:${eb.name}`));
      return part;
    }
    part.tensors = result.tensors.map((t) => ({ ...t, name: `${prefix}${t.name}` }));
    const attributes = [...result.attributes, ...result.structure].filter((m) => m.status !== 'identical').map((m) => ({ ...m, key: `${ea.name}:${m.key}` }));
    // A weight one side lacks is another model (compare/fold.ts says so for .keras).
    part.metrics = [...attributes, ...absentItems(result.missing.map((n) => `${prefix}${n}`), result.extra.map((n) => `${prefix}${n}`), 'weight')];
    return part;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function compareJsonEntry(a: Buffer, b: Buffer, name: string, rules: ResolvedOutputPolicy, where: { baseline: string; candidate: string }): Part {
  const part = emptyPart();
  const open = () => [new StreamCursor(bytesFeed(a), `baseline ${where.baseline}:${name}`), new StreamCursor(bytesFeed(b), `candidate ${where.candidate}:${name}`)] as const;
  const result = compareJsonDocuments(open, rules.exactMetrics, { dropKey: kerasDropKey(name) });
  for (const [key, n] of result.dropped) part.ignored.push(n > 1 || name === 'config.json' ? `${name}: ${key} (${n} place${n === 1 ? '' : 's'})` : `${name}: ${key}`);
  part.metrics = result.listed.map((m) => ({ ...m, key: `${name}:${m.key}` }));
  if (result.counts.compared - result.counts.identical > result.listed.length && result.message) part.notes.push(`${name}: ${result.message}`);
  return part;
}

async function readJsonEntry(archive: ZipArchive, name: string, limit: number): Promise<Buffer> {
  return archive.read(name, limit);
}

async function compareBytesEntry(a: ZipArchive, b: ZipArchive, name: string): Promise<Part> {
  const [ha, hb] = await Promise.all([entrySha256(a, name), entrySha256(b, name)]);
  const part = emptyPart();
  if (ha !== hb) part.metrics.push({ key: name, status: 'different', baseline: `sha256:${ha}`, candidate: `sha256:${hb}`, difference: null, tolerance: null, message: 'entry content differs' });
  return part;
}

/**
 * Compares two .keras archives. `path` is the report path. Never throws: an unreadable or corrupt
 * archive is status 'error' with a message naming the file.
 */
export async function compareKerasFiles(baselinePath: string, candidatePath: string, rules: ResolvedOutputPolicy, path: string, options: KerasCompareOptions = {}): Promise<OutputReport> {
  const maxWeights = options.maxWeightsBytes ?? DEFAULT_MAX_WEIGHTS;
  const maxJson = options.maxJsonBytes ?? DEFAULT_MAX_JSON;
  let bytes: OutputReport['bytes'];
  try {
    const [ha, hb] = await Promise.all([sha256File(baselinePath), sha256File(candidatePath)]);
    bytes = { baseline_sha256: ha.sha256, candidate_sha256: hb.sha256, baseline_size: ha.size, candidate_size: hb.size };
    // Equal bytes are identical content, unless a rule says a NaN fails even against itself. While
    // a metric or tensor rule has matched nothing yet, the archive is still read (its verdict stays
    // identical): the rules that match its keys and weights must count as used.
    if (ha.sha256 === hb.sha256 && ha.size === hb.size && !rules.nanStrict) {
      const identical: OutputReport = { path, format: 'keras', status: 'identical', message: 'the archives are byte-identical', bytes };
      if (rules.pendingRules()) await compareKerasFiles(baselinePath, candidatePath, { ...rules, nanStrict: true }, path, options).catch(() => undefined);
      return identical;
    }
  } catch (error) {
    return { path, format: 'keras', status: 'error', message: `cannot read ${(error as { path?: string }).path ?? `${baselinePath} or ${candidatePath}`}: ${(error as Error).message}` };
  }

  // Each archive is opened and its directory read once, for all its entries.
  const opened = await Promise.allSettled([ZipArchive.open(baselinePath), ZipArchive.open(candidatePath)]);
  try {
    const [oa, ob] = opened;
    if (oa.status === 'rejected') return { path, format: 'keras', status: 'error', message: `cannot read the baseline .keras archive: ${(oa.reason as Error).message}`, bytes };
    if (ob.status === 'rejected') return { path, format: 'keras', status: 'error', message: `cannot read the candidate .keras archive: ${(ob.reason as Error).message}`, bytes };
    const za = oa.value;
    const zb = ob.value;
    const filesA = new Map(za.entries.filter((e) => !e.name.endsWith('/')).map((e) => [e.name, e]));
    const filesB = new Map(zb.entries.filter((e) => !e.name.endsWith('/')).map((e) => [e.name, e]));
    const names = [...new Set([...filesA.keys(), ...filesB.keys()])].sort();
    const all = emptyPart();
    all.metrics.push(...absentItems([...filesA.keys()].filter((n) => !filesB.has(n)), [...filesB.keys()].filter((n) => !filesA.has(n)), 'archive entry'));
    for (const name of names) {
      const ea = filesA.get(name);
      const eb = filesB.get(name);
      if (ea === undefined || eb === undefined) continue;
      try {
        const kind = kerasEntryKind(name);
        const part =
          kind === 'weights'
            ? await compareWeightsEntry(za, zb, ea, eb, rules, maxWeights)
            : kind === 'json'
              ? compareJsonEntry(await readJsonEntry(za, name, maxJson), await readJsonEntry(zb, name, maxJson), name, rules, { baseline: baselinePath, candidate: candidatePath })
              : await compareBytesEntry(za, zb, name);
        all.tensors.push(...part.tensors);
        all.metrics.push(...part.metrics);
        all.ignored.push(...part.ignored);
        all.errors.push(...part.errors);
        all.notes.push(...part.notes);
      } catch (error) {
        all.errors.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    const report = foldOutput(path, 'keras', { tensors: all.tensors, metrics: all.metrics, errors: all.errors, notes: all.notes, ignored: all.ignored, bytes });
    if (report.status === 'identical' && bytes && bytes.baseline_sha256 !== bytes.candidate_sha256) {
      return { ...report, message: 'the archives differ in bytes only (zip timestamps and ignored keys)' };
    }
    return report;
  } finally {
    for (const r of opened) if (r.status === 'fulfilled') r.value.close();
  }
}
