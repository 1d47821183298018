// The versioned compatibility table (data/compat.json): TensorFlow -> CUDA/cuDNN/Python, nvidia/cuda
// image tags and drivers, torch wheel indexes, JAX plugins, python image codenames, driver floors.
// Pure: an adapter reads the file and hands the parsed JSON to parseCompat. data/README.md documents
// every field and where each value comes from.
import { normalizePackageName } from '../package-name.js';
import pep440 from '@renovatebot/pep440';
import pep440Specifier from '@renovatebot/pep440/lib/specifier.js';
import { compareVersions, isValidPep440, majorMinor } from '../versions.js';

export const COMPAT_TABLE_VERSION = 1;

export interface OfficialGpuImage {
  /** tensorflow/tensorflow tag, e.g. "2.4.0-gpu" */
  tag: string;
  /** the TensorFlow release preinstalled in the image */
  tf: string;
  /** the image's Python, exactly ("3.11.0rc1" is Ubuntu 22.04's package) */
  python: string;
  ubuntu: string;
  /** the image's CUDA major.minor; null where the source did not record it */
  cuda: string | null;
}

export interface TensorflowRow {
  /** major.minor key */
  tf: string;
  /** the tested-configuration release the row comes from ("2.16.1": there is no 2.16.0 row) */
  release: string;
  /** PEP 440 specifier of the supported Pythons */
  python: string;
  cuda: string;
  cudnn: string;
  /** "bundled" (tf.keras inside TF), "2.X" (the keras 2 package of that minor) or "3" */
  keras: string;
  /** true from 2.14: `tensorflow[and-cuda]` brings CUDA/cuDNN as nvidia-* wheels */
  wheels_cuda: boolean;
  official_gpu_images: OfficialGpuImage[];
}

export type CudnnTag = 'cudnn' | 'cudnn8' | 'cudnn9';

export interface CudaRow {
  /** major.minor key */
  cuda: string;
  /** the newest nvidia/cuda patch tag of that minor, e.g. "12.5.1" */
  image_version: string;
  cudnn_tag: CudnnTag;
  /** NV_CUDNN_VERSION of the runtime-cudnn image; null where not recorded */
  cudnn_in_image: string | null;
  ubuntu: string;
  /** the minimum driver shipped with the newest update of that minor */
  min_driver: string;
  /** the image set is end-of-life: NVIDIA deletes EOL tags six months later */
  eol: boolean;
}

export interface TorchVariant {
  /** the local version label: "cu121", "cpu" */
  label: string;
  cuda: string | null;
  index_url: string;
}

export interface JaxPlugin {
  package: string;
  cuda_major: string;
}

export interface PythonImageRule {
  /** PEP 440 specifier over the Python version; must carry a ">=" lower bound */
  python: string;
  codename: string;
}

export interface DriverFloor {
  cuda_major: string;
  /** minor-version compatibility: apps built with any toolkit of this major run from this driver */
  min_driver: string;
}

export interface CompatTable {
  version: number;
  updated: string;
  tensorflow: TensorflowRow[];
  cuda: CudaRow[];
  torch: TorchVariant[];
  jax: JaxPlugin[];
  python_images: PythonImageRule[];
  driver_floor: DriverFloor[];
}

// ---------------------------------------------------------------------------------------------
// Parsing

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class RowReader {
  constructor(
    private readonly where: string,
    private readonly row: Json,
  ) {}

  fail(field: string, problem: string): never {
    throw new Error(`compat table: ${this.where}: field "${field}" ${problem}`);
  }

  string(field: string): string {
    const v = this.row[field];
    if (v === undefined) this.fail(field, 'is missing');
    if (typeof v !== 'string' || v.trim() === '') this.fail(field, `must be a non-empty string, got ${JSON.stringify(v)}`);
    return v;
  }

  nullableString(field: string): string | null {
    if (this.row[field] === null) return null;
    return this.string(field);
  }

  boolean(field: string): boolean {
    const v = this.row[field];
    if (typeof v !== 'boolean') this.fail(field, v === undefined ? 'is missing' : `must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  version(field: string): string {
    const v = this.string(field);
    if (!isValidPep440(v)) this.fail(field, `must be a PEP 440 version, got "${v}"`);
    return v;
  }

  nullableVersion(field: string): string | null {
    if (this.row[field] === null) return null;
    return this.version(field);
  }

  majorMinor(field: string): string {
    const v = this.version(field);
    if (majorMinor(v) !== v) this.fail(field, `must be a major.minor version, got "${v}"`);
    return v;
  }

  nullableMajorMinor(field: string): string | null {
    if (this.row[field] === null) return null;
    return this.majorMinor(field);
  }

  specifier(field: string): string {
    const v = this.string(field);
    if (!pep440.validRange(v)) this.fail(field, `must be a PEP 440 specifier, got "${v}"`);
    return v;
  }

  oneOf<T extends string>(field: string, allowed: readonly T[]): T {
    const v = this.string(field);
    if (!(allowed as readonly string[]).includes(v)) this.fail(field, `must be one of ${allowed.join(', ')}, got "${v}"`);
    return v as T;
  }

  array(field: string): unknown[] {
    const v = this.row[field];
    if (!Array.isArray(v)) this.fail(field, v === undefined ? 'is missing' : 'must be an array');
    return v;
  }
}

function rows<T>(doc: Json, section: string, keyField: string, read: (r: RowReader, where: string) => T): T[] {
  const list = doc[section];
  if (!Array.isArray(list)) throw new Error(`compat table: section "${section}" is missing or not an array`);
  if (list.length === 0) throw new Error(`compat table: section "${section}" is empty`);
  const seen = new Set<string>();
  return list.map((raw, i) => {
    const key = isObject(raw) && typeof raw[keyField] === 'string' ? (raw[keyField] as string) : null;
    const where = key === null ? `${section}[${i}]` : `${section}[${i}] (${keyField} "${key}")`;
    if (!isObject(raw)) throw new Error(`compat table: ${where} is not an object`);
    const row = read(new RowReader(where, raw), where);
    const dedupe = String((row as Record<string, unknown>)[keyField]).toLowerCase();
    if (seen.has(dedupe)) throw new Error(`compat table: ${where}: duplicate ${keyField} "${key}"`);
    seen.add(dedupe);
    return row;
  });
}

function lowerBound(specifier: string): string | null {
  const lower = pep440Specifier.parse(specifier).find((c) => c.operator === '>=' || c.operator === '>' || c.operator === '==');
  return lower ? lower.version : null;
}

const CUDNN_TAGS: readonly CudnnTag[] = ['cudnn', 'cudnn8', 'cudnn9'];

/** Validates the shape of data/compat.json; throws an Error naming the section, row and field. */
export function parseCompat(json: unknown): CompatTable {
  if (!isObject(json)) throw new Error('compat table: the document must be a JSON object');
  if (json.version !== COMPAT_TABLE_VERSION) {
    throw new Error(`compat table: "version" must be ${COMPAT_TABLE_VERSION}, got ${JSON.stringify(json.version)} (a newer table needs a newer snapshot)`);
  }
  if (typeof json.updated !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(json.updated)) {
    throw new Error(`compat table: "updated" must be a YYYY-MM-DD date, got ${JSON.stringify(json.updated)}`);
  }

  const tensorflow = rows(json, 'tensorflow', 'tf', (r, where) => {
    const images = r.array('official_gpu_images').map((raw, j) => {
      const at = `${where} official_gpu_images[${j}]`;
      if (!isObject(raw)) throw new Error(`compat table: ${at} is not an object`);
      const img = new RowReader(at, raw);
      return { tag: img.string('tag'), tf: img.version('tf'), python: img.version('python'), ubuntu: img.string('ubuntu'), cuda: img.nullableVersion('cuda') };
    });
    return {
      tf: r.majorMinor('tf'),
      release: r.version('release'),
      python: r.specifier('python'),
      cuda: r.majorMinor('cuda'),
      cudnn: r.version('cudnn'),
      keras: r.string('keras'),
      wheels_cuda: r.boolean('wheels_cuda'),
      official_gpu_images: images,
    };
  });

  const cuda = rows(json, 'cuda', 'cuda', (r) => ({
    cuda: r.majorMinor('cuda'),
    image_version: r.version('image_version'),
    cudnn_tag: r.oneOf('cudnn_tag', CUDNN_TAGS),
    cudnn_in_image: r.nullableVersion('cudnn_in_image'),
    ubuntu: r.string('ubuntu'),
    min_driver: r.version('min_driver'),
    eol: r.boolean('eol'),
  }));

  const torch = rows(json, 'torch', 'label', (r) => {
    const label = r.string('label');
    if (!/^[a-z0-9.]+$/.test(label)) r.fail('label', `must be a local version label like "cu121", got "${label}"`);
    const index_url = r.string('index_url');
    if (!/^https:\/\/\S+$/.test(index_url)) r.fail('index_url', `must be an https URL, got "${index_url}"`);
    return { label, cuda: r.nullableMajorMinor('cuda'), index_url };
  });

  const jax = rows(json, 'jax', 'package', (r) => {
    const cudaMajor = r.string('cuda_major');
    if (!/^\d+$/.test(cudaMajor)) r.fail('cuda_major', `must be a major version number, got "${cudaMajor}"`);
    return { package: r.string('package').toLowerCase(), cuda_major: cudaMajor };
  });

  const python_images = rows(json, 'python_images', 'python', (r) => {
    const python = r.specifier('python');
    if (lowerBound(python) === null) r.fail('python', `needs a ">=" lower bound, got "${python}"`);
    return { python, codename: r.oneOf('codename', ['buster', 'bullseye', 'bookworm', 'trixie'] as const) };
  });

  const driver_floor = rows(json, 'driver_floor', 'cuda_major', (r) => {
    const cudaMajor = r.string('cuda_major');
    if (!/^\d+$/.test(cudaMajor)) r.fail('cuda_major', `must be a major version number, got "${cudaMajor}"`);
    return { cuda_major: cudaMajor, min_driver: r.version('min_driver') };
  });

  return { version: json.version, updated: json.updated, tensorflow, cuda, torch, jax, python_images, driver_floor };
}

// ---------------------------------------------------------------------------------------------
// Consistency (checked by the tests against the shipped table, and by any refresh of it)

/** torch labels whose CUDA has no cuda row: their wheels carry CUDA, there is no nvidia/cuda base. */
export function wheelsOnlyTorchLabels(table: CompatTable): string[] {
  return table.torch.filter((t) => t.cuda !== null && cudaRow(table, t.cuda) === null).map((t) => t.label);
}

/** Cross-row problems a valid shape can still have; [] when the table is consistent. */
export function checkCompatConsistency(table: CompatTable): string[] {
  const problems: string[] = [];
  const sortedBy = <T>(section: string, list: T[], key: (row: T) => string): void => {
    for (let i = 1; i < list.length; i++) {
      const prev = key(list[i - 1] as T);
      const cur = key(list[i] as T);
      if (compareVersions(prev, cur) >= 0) problems.push(`${section}: "${cur}" comes after "${prev}"; rows must be in ascending order`);
    }
  };
  sortedBy('tensorflow', table.tensorflow, (r) => r.tf);
  sortedBy('cuda', table.cuda, (r) => r.cuda);
  sortedBy('python_images', table.python_images, (r) => lowerBound(r.python) ?? '');
  sortedBy('driver_floor', table.driver_floor, (r) => r.cuda_major);

  for (const row of table.tensorflow) {
    if (cudaRow(table, row.cuda) === null) problems.push(`tensorflow ${row.tf}: CUDA ${row.cuda} has no cuda row`);
    if (majorMinor(row.release) !== row.tf) problems.push(`tensorflow ${row.tf}: release ${row.release} is not a ${row.tf} release`);
    if (lowerBound(row.python) === null) problems.push(`tensorflow ${row.tf}: python "${row.python}" has no lower bound`);
    for (const img of row.official_gpu_images) {
      if (majorMinor(img.tf) !== row.tf) problems.push(`tensorflow ${row.tf}: image ${img.tag} holds TF ${img.tf}`);
    }
  }
  for (const row of table.cuda) {
    if (majorMinor(row.image_version) !== row.cuda) problems.push(`cuda ${row.cuda}: image_version ${row.image_version} is not a ${row.cuda} release`);
    // No "min_driver >= floor" rule: 11.0 shipped with 450.51.06, below the later 11.x floor 450.80.02.
    if (driverFloor(table, row.cuda) === null) problems.push(`cuda ${row.cuda}: no driver_floor for CUDA ${pep440.major(row.cuda)}`);
  }
  for (const rule of table.python_images) {
    const lower = lowerBound(rule.python);
    if (lower === null) continue;
    const hits = table.python_images.filter((r) => pep440.satisfies(lower, r.python, { prereleases: true }));
    if (hits.length !== 1 || hits[0] !== rule) problems.push(`python_images "${rule.python}": its lower bound ${lower} matches ${hits.length} rules; rules must not overlap`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Lookups: never throw on odd input; a fallback always says so in `warning`.

export interface TensorflowLookup {
  row: TensorflowRow;
  /** the TF major.minor has its own row */
  exact: boolean;
  warning?: string;
}

function describeTf(row: TensorflowRow): string {
  return `${row.tf}'s CUDA ${row.cuda}/cuDNN ${row.cudnn}`;
}

/** The row for a TensorFlow version, keyed on major.minor; unknown versions fall back with a warning. */
export function tensorflowRow(table: CompatTable, tfVersion: string): TensorflowLookup {
  const list = table.tensorflow;
  const oldest = list[0] as TensorflowRow;
  const newest = list[list.length - 1] as TensorflowRow;
  const key = majorMinor(tfVersion);
  if (key === null) {
    return { row: newest, exact: false, warning: `TensorFlow version "${tfVersion}" is not a PEP 440 major.minor version; using the newest row, ${describeTf(newest)} — check it` };
  }
  const hit = list.find((r) => compareVersions(r.tf, key) === 0);
  if (hit) return { row: hit, exact: true };
  if (compareVersions(key, newest.tf) > 0) {
    return { row: newest, exact: false, warning: `TensorFlow ${tfVersion} is newer than the table (newest ${newest.tf}); using ${describeTf(newest)} — check it` };
  }
  if (compareVersions(key, oldest.tf) < 0) {
    return { row: oldest, exact: false, warning: `TensorFlow ${tfVersion} is older than the table (oldest ${oldest.tf}); using ${describeTf(oldest)} — check it` };
  }
  const lower = [...list].reverse().find((r) => compareVersions(r.tf, key) < 0) ?? oldest;
  return { row: lower, exact: false, warning: `TensorFlow ${tfVersion} is not in the table; using the nearest lower row, ${describeTf(lower)} — check it` };
}

/** The nvidia/cuda row for a CUDA version ("12.5", "12.5.1" or "12.5.82" all mean 12.5); null when absent. */
export function cudaRow(table: CompatTable, cuda: string): CudaRow | null {
  const key = majorMinor(cuda);
  if (key === null) return null;
  return table.cuda.find((r) => compareVersions(r.cuda, key) === 0) ?? null;
}

/** The torch wheel variant for a local label: "cu121", "+cu121" or a whole version "2.4.0+cu121". */
export function torchVariant(table: CompatTable, localLabel: string): TorchVariant | null {
  const plus = localLabel.lastIndexOf('+');
  const label = (plus >= 0 ? localLabel.slice(plus + 1) : localLabel).trim().toLowerCase();
  if (label === '') return null;
  return table.torch.find((t) => t.label === label) ?? null;
}


/** The CUDA major a JAX CUDA plugin package is built for; null for any other package. */
export function jaxPluginCuda(table: CompatTable, packageName: string): string | null {
  const name = normalizePackageName(packageName);
  return table.jax.find((j) => normalizePackageName(j.package) === name)?.cuda_major ?? null;
}

export interface CodenameLookup {
  codename: string;
  /** a rule covers this exact version */
  exact: boolean;
  warning?: string;
}

/** The Debian codename whose `python:<X.Y.Z>-slim-<codename>` tag exists for a Python version. */
export function pythonCodename(table: CompatTable, pythonVersion: string): CodenameLookup {
  const rules = [...table.python_images].sort((a, b) => compareVersions(lowerBound(a.python) ?? '', lowerBound(b.python) ?? ''));
  const oldest = rules[0] as PythonImageRule;
  const newest = rules[rules.length - 1] as PythonImageRule;
  if (!isValidPep440(pythonVersion)) {
    return { codename: newest.codename, exact: false, warning: `Python version "${pythonVersion}" is not a PEP 440 version; guessing the newest codename, ${newest.codename} — check the tag exists` };
  }
  const hit = rules.find((r) => pep440.satisfies(pythonVersion, r.python, { prereleases: true }));
  if (hit) return { codename: hit.codename, exact: true };
  const lower = [...rules].reverse().find((r) => compareVersions(lowerBound(r.python) ?? '', pythonVersion) <= 0);
  if (!lower) {
    return { codename: oldest.codename, exact: false, warning: `Python ${pythonVersion} is older than the python image rules; guessing ${oldest.codename} — check python:${pythonVersion}-slim-${oldest.codename} exists` };
  }
  const where = lower === newest ? 'is newer than the python image rules' : 'is not covered by the python image rules';
  return { codename: lower.codename, exact: false, warning: `Python ${pythonVersion} ${where}; guessing ${lower.codename} — check python:${pythonVersion}-slim-${lower.codename} exists` };
}

/** The minor-version-compatibility driver floor of a CUDA version's major ("12.5" -> "525.60.13"). */
export function driverFloor(table: CompatTable, cudaMajorMinor: string): string | null {
  if (!isValidPep440(cudaMajorMinor)) return null;
  const major = String(pep440.major(cudaMajorMinor));
  return table.driver_floor.find((f) => f.cuda_major === major)?.min_driver ?? null;
}

/** The cuDNN major an nvidia/cuda row's image carries: from NV_CUDNN_VERSION, else from the tag. */
export function cudnnMajorInImage(row: CudaRow): string | null {
  if (row.cudnn_in_image !== null) return String(pep440.major(row.cudnn_in_image));
  const m = /^cudnn(\d+)$/.exec(row.cudnn_tag);
  return m ? (m[1] as string) : null;
}
