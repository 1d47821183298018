// The determinism findings as data: data/findings.json holds the rules, each a condition in a
// small, closed language, a message and a fix, with where the fact comes from. This module parses
// that document (every predicate known, every specifier, pattern and placeholder valid; an error
// names the rule and the field) and evaluates the rules on what a capture saw: the allowlisted
// environment, the frameworks, the GPUs and CPU, and, once the training ran under the recorder,
// its run record. Pure: src/adapters/package-files.ts reads and schema-checks the file.
import type { Finding, FrameworksInfo, GpuInfo } from './model.js';
import { normalizePackageName } from './package-name.js';
import type { RecordedCall, RunRecording } from './recording.js';
import { isValidSpecifier, satisfiesSpecifier } from './versions.js';

/** The format of data/findings.json; the parser refuses any other. */
export const FINDINGS_FORMAT_VERSION = 1;

export interface FindingsInput {
  /** The allowlisted variables that were set (determinism.env). */
  env: Record<string, string>;
  frameworks: FrameworksInfo;
  gpu: GpuInfo;
  arch: string;
  /** The CPU's numerics flags (system.cpu.flags): oneDNN's default depends on them. */
  cpuFlags: readonly string[];
  /** The installed distributions' names, in any spelling (compared after PEP 503 normalisation). */
  packages: readonly string[];
  /** What the recorder saw the training do (run.record); null: not recorded. */
  record: RunRecording | null;
}

// ---------------------------------------------------------------------------------------------
// The language

export const FRAMEWORKS = ['tensorflow', 'keras', 'tf_keras', 'torch', 'jax', 'numpy'] as const;
export type FrameworkName = (typeof FRAMEWORKS)[number];

/** The settings a run record reports at exit: its `tensorflow` and `torch` sections. */
export const RECORD_SWITCHES = [
  'tensorflow.onednn_enabled',
  'tensorflow.op_determinism',
  'tensorflow.tf32_enabled',
  'torch.deterministic_algorithms',
  'torch.cudnn_deterministic',
  'torch.cudnn_benchmark',
  'torch.allow_tf32_matmul',
  'torch.allow_tf32_cudnn',
] as const;
export type RecordSwitch = (typeof RECORD_SWITCHES)[number];

type EnvTest = { kind: 'equals'; value: string } | { kind: 'tf_bool'; value: boolean | null } | { kind: 'truthy' } | { kind: 'contains'; value: string } | { kind: 'matches'; pattern: RegExp };

/** A parsed condition. Build one with parseFindingRules; its shape is the parser's business. */
export type Condition =
  | { kind: 'all' | 'any'; items: Condition[] }
  | { kind: 'not'; item: Condition }
  | { kind: 'framework'; framework: FrameworkName; version: string | null }
  | { kind: 'keras_backend'; backend: string }
  | { kind: 'package'; name: string }
  | { kind: 'env_set' | 'env_unset'; name: string }
  | { kind: 'env_is'; name: string; test: EnvTest }
  | { kind: 'gpu' | 'recorded'; value: boolean }
  | { kind: 'gpus_at_least' | 'fits_at_least'; count: number }
  | { kind: 'gpu_compute_capability'; specifier: string }
  | { kind: 'arch'; names: string[] }
  | { kind: 'cpu_flags_any'; flags: string[] }
  | { kind: 'imported'; module: 'tensorflow' | 'torch' }
  | { kind: 'called' | 'called_directly' | 'call_without_args'; call: string }
  | { kind: 'no_seed_calls' }
  | { kind: 'switch_on' | 'switch_off'; name: RecordSwitch };

export interface FindingCase {
  level: Finding['level'];
  when: Condition;
  message: string;
  fix: string | null;
}

export interface FindingRule {
  code: string;
  /** Where the fact comes from: a URL, or a section of the reference notes. */
  source: string;
  /** `each_name`: the rule is evaluated once per name, with `{name}` bound to it; null: once. */
  eachName: string[] | null;
  /** Tried in order; the first that holds gives the finding. A rule written without `cases` has one. */
  cases: FindingCase[];
}

export interface FindingRules {
  version: number;
  rules: FindingRule[];
}

/** Every key a condition object may have: the combinators, the predicates, and `version` (with `framework`). */
export const CONDITION_KEYS = [
  'all',
  'any',
  'not',
  'framework',
  'version',
  'keras_backend',
  'package',
  'env_set',
  'env_unset',
  'env_is',
  'gpu',
  'gpus_at_least',
  'gpu_compute_capability',
  'arch',
  'cpu_flags_any',
  'recorded',
  'imported',
  'fits_at_least',
  'called',
  'called_directly',
  'call_without_args',
  'no_seed_calls',
  'switch_on',
  'switch_off',
] as const;

/**
 * Placeholders a message or fix may use. Versions and the backend come from `frameworks`; `seed`,
 * `seed_call` and `seed_calls` from the record's seed calls; `features` and `features_sought`
 * from the case's `cpu_flags_any`; `name` from `each_name`.
 */
export const PLACEHOLDERS = ['tf', 'keras', 'torch', 'jax', 'backend', 'backend_source', 'features', 'features_sought', 'gpus', 'name', 'seed', 'seed_call', 'seed_calls'] as const;

const ENV_NAME = /^[A-Z][A-Z0-9_]*$/;
const CALL_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/;
const CODE = /^[A-Z][A-Z0-9_]*$/;
const PLACEHOLDER = /\{([a-z_]+)\}/g;

// ---------------------------------------------------------------------------------------------
// Parsing: the schema (schemas/findings.schema.json) checks the shape; this checks it again, so a
// document that reaches evaluate is sound whoever built it, and checks what a schema cannot.

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class Parsing {
  features = false;
  constructor(
    readonly rule: string,
    readonly each: boolean,
    readonly knownEnv: ReadonlySet<string> | null,
  ) {}

  fail(at: string, problem: string): never {
    throw new Error(`findings rules: ${this.rule}: ${at} ${problem}`);
  }

  string(value: unknown, at: string, pattern?: RegExp, says?: string): string {
    if (typeof value !== 'string' || value.trim() === '') this.fail(at, `must be a non-empty string, got ${JSON.stringify(value)}`);
    if (pattern && !pattern.test(value)) this.fail(at, `must be ${says}, got ${JSON.stringify(value)}`);
    return value;
  }

  envName(value: unknown, at: string): string {
    if (value === '{name}') {
      if (!this.each) this.fail(at, 'uses {name}, but the rule has no each_name');
      return value;
    }
    const name = this.string(value, at, ENV_NAME, 'an upper-case variable name');
    if (this.knownEnv !== null && !this.knownEnv.has(name)) this.fail(at, `names ${name}, which is not an allowlisted variable (src/core/determinism.ts): a capture never records it`);
    return name;
  }

  specifier(value: unknown, at: string): string {
    const specifier = this.string(value, at);
    if (!isValidSpecifier(specifier)) this.fail(at, `must be a PEP 440 specifier such as ">=2.8", got ${JSON.stringify(specifier)}`);
    return specifier;
  }

  count(value: unknown, at: string): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) this.fail(at, `must be a whole number from 1, got ${JSON.stringify(value)}`);
    return value;
  }

  boolean(value: unknown, at: string): boolean {
    if (typeof value !== 'boolean') this.fail(at, `must be true or false, got ${JSON.stringify(value)}`);
    return value;
  }

  oneOf<T extends string>(value: unknown, at: string, allowed: readonly T[]): T {
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) this.fail(at, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
    return value as T;
  }

  list(value: unknown, at: string): unknown[] {
    if (!Array.isArray(value) || value.length === 0) this.fail(at, 'must be a non-empty array');
    return value;
  }
}

function parseEnvTest(raw: unknown, at: string, p: Parsing): { name: string; test: EnvTest } {
  if (!isObject(raw)) p.fail(at, 'must be an object: {"name": ..., and one of equals, tf_bool, truthy, contains, matches}');
  const tests = Object.keys(raw).filter((k) => k !== 'name');
  const unknown = tests.filter((k) => !['equals', 'tf_bool', 'truthy', 'contains', 'matches'].includes(k));
  if (unknown.length > 0) p.fail(`${at}.${unknown[0]}`, 'is not a test env_is knows (equals, tf_bool, truthy, contains, matches)');
  if (tests.length !== 1) p.fail(at, `must have exactly one test besides name, got ${tests.length}`);
  const name = p.envName(raw.name, `${at}.name`);
  const key = tests[0] as string;
  const value = raw[key];
  const where = `${at}.${key}`;
  switch (key) {
    case 'equals':
      if (typeof value !== 'string') p.fail(where, `must be a string, got ${JSON.stringify(value)}`);
      return { name, test: { kind: 'equals', value } };
    case 'tf_bool':
      if (value !== null && typeof value !== 'boolean') p.fail(where, `must be true, false or null, got ${JSON.stringify(value)}`);
      return { name, test: { kind: 'tf_bool', value } };
    case 'truthy':
      if (value !== true) p.fail(where, `must be true, got ${JSON.stringify(value)}`);
      return { name, test: { kind: 'truthy' } };
    case 'contains':
      return { name, test: { kind: 'contains', value: p.string(value, where) } };
    default: {
      const source = p.string(value, where);
      try {
        return { name, test: { kind: 'matches', pattern: new RegExp(source) } };
      } catch (error) {
        p.fail(where, `is not a valid regular expression: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}

function parseCondition(raw: unknown, at: string, p: Parsing): Condition {
  if (!isObject(raw)) p.fail(at, `must be a condition object, got ${JSON.stringify(raw)}`);
  const keys = Object.keys(raw);
  const unknown = keys.find((k) => !(CONDITION_KEYS as readonly string[]).includes(k));
  if (unknown !== undefined) p.fail(`${at}.${unknown}`, `is not a known predicate (known: ${CONDITION_KEYS.join(', ')})`);
  if (keys.includes('framework')) {
    const extra = keys.find((k) => k !== 'framework' && k !== 'version');
    if (extra !== undefined) p.fail(`${at}.${extra}`, 'cannot stand beside framework: a condition object holds one predicate (use all)');
    const framework = p.oneOf(raw.framework, `${at}.framework`, FRAMEWORKS);
    return { kind: 'framework', framework, version: raw.version === undefined ? null : p.specifier(raw.version, `${at}.version`) };
  }
  if (keys.length !== 1) p.fail(at, keys.length === 0 ? 'is empty: it needs one predicate' : `holds ${keys.join(', ')}: a condition object holds one predicate (use all)`);
  const key = keys[0] as (typeof CONDITION_KEYS)[number];
  const value = raw[key];
  const where = `${at}.${key}`;
  switch (key) {
    case 'all':
    case 'any':
      return { kind: key, items: p.list(value, where).map((item, i) => parseCondition(item, `${where}[${i}]`, p)) };
    case 'not':
      return { kind: 'not', item: parseCondition(value, where, p) };
    case 'version':
    case 'framework':
      return p.fail(where, 'needs framework beside it');
    case 'keras_backend':
      return { kind: key, backend: p.oneOf(value, where, ['tensorflow', 'jax', 'torch', 'numpy', 'openvino']) };
    case 'package':
      return { kind: key, name: normalizePackageName(p.string(value, where, /^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a distribution name')) };
    case 'env_set':
    case 'env_unset':
      return { kind: key, name: p.envName(value, where) };
    case 'env_is':
      return { kind: key, ...parseEnvTest(value, where, p) };
    case 'gpu':
    case 'recorded':
      return { kind: key, value: p.boolean(value, where) };
    case 'gpus_at_least':
    case 'fits_at_least':
      return { kind: key, count: p.count(value, where) };
    case 'gpu_compute_capability':
      return { kind: key, specifier: p.specifier(value, where) };
    case 'arch': {
      const names = p.string(value, where, /^[a-z0-9_]+(\|[a-z0-9_]+)*$/, 'lower-case architecture names separated by |, such as "x86_64|amd64"').split('|');
      return { kind: key, names };
    }
    case 'cpu_flags_any':
      p.features = true;
      return { kind: key, flags: p.list(value, where).map((flag, i) => p.string(flag, `${where}[${i}]`, /^[a-z0-9_]+$/, 'a lower-case CPU flag as /proc/cpuinfo spells it')) };
    case 'imported':
      return { kind: key, module: p.oneOf(value, where, ['tensorflow', 'torch'] as const) };
    case 'called':
    case 'called_directly':
    case 'call_without_args':
      return { kind: key, call: p.string(value, where, CALL_NAME, 'a dotted call name such as "keras.utils.set_random_seed"') };
    case 'no_seed_calls':
      if (value !== true) p.fail(where, `must be true, got ${JSON.stringify(value)}`);
      return { kind: key };
    case 'switch_on':
    case 'switch_off':
      return { kind: key, name: p.oneOf(value, where, RECORD_SWITCHES) };
  }
}

function checkTemplate(template: string, at: string, p: Parsing): void {
  for (const [, name] of template.matchAll(PLACEHOLDER)) {
    if (!(PLACEHOLDERS as readonly string[]).includes(name as string)) p.fail(at, `uses {${name}}, which is not a placeholder (known: ${PLACEHOLDERS.join(', ')})`);
    if (name === 'name' && !p.each) p.fail(at, 'uses {name}, but the rule has no each_name');
    if ((name === 'features' || name === 'features_sought') && !p.features) p.fail(at, `uses {${name}}, but its condition has no cpu_flags_any`);
  }
}

const CASE_FIELDS = ['level', 'when', 'message', 'fix'] as const;

function parseCase(raw: Json, at: string, p: Parsing): FindingCase {
  const prefix = at === '' ? '' : `${at}.`;
  for (const field of CASE_FIELDS) if (!(field in raw)) p.fail(`${prefix}${field}`, 'is missing');
  const level = p.oneOf(raw.level, `${prefix}level`, ['warning', 'info'] as const);
  p.features = false;
  const when = parseCondition(raw.when, `${prefix}when`, p);
  const message = p.string(raw.message, `${prefix}message`);
  checkTemplate(message, `${prefix}message`, p);
  const fix = raw.fix === null ? null : p.string(raw.fix, `${prefix}fix`);
  if (fix !== null) checkTemplate(fix, `${prefix}fix`, p);
  return { level, when, message, fix };
}

const RULE_FIELDS = new Set(['code', 'source', 'each_name', 'cases', ...CASE_FIELDS]);

/**
 * Validates data/findings.json and compiles its conditions; throws an Error naming the rule (its
 * index and code) and the field. `knownEnv`: the variables a capture records; a rule on any
 * other could never fire.
 */
export function parseFindingRules(json: unknown, knownEnv: ReadonlySet<string> | null = null): FindingRules {
  if (!isObject(json)) throw new Error('findings rules: the document must be a JSON object');
  const extra = Object.keys(json).find((k) => k !== 'version' && k !== 'rules');
  if (extra !== undefined) throw new Error(`findings rules: unknown field "${extra}" (a document holds version and rules)`);
  if (json.version !== FINDINGS_FORMAT_VERSION) {
    throw new Error(`findings rules: "version" must be ${FINDINGS_FORMAT_VERSION}, got ${JSON.stringify(json.version)} (a newer rules file needs a newer snapshot)`);
  }
  if (!Array.isArray(json.rules) || json.rules.length === 0) throw new Error('findings rules: "rules" must be a non-empty array');
  const seen = new Set<string>();
  const rules = json.rules.map((raw: unknown, i: number): FindingRule => {
    const named = isObject(raw) && typeof raw.code === 'string' ? `rules[${i}] (${raw.code})` : `rules[${i}]`;
    if (!isObject(raw)) throw new Error(`findings rules: ${named} is not an object`);
    const p0: Parsing = new Parsing(named, 'each_name' in raw, knownEnv);
    const unknown = Object.keys(raw).find((k) => !RULE_FIELDS.has(k));
    if (unknown !== undefined) p0.fail(unknown, `is not a rule field (${[...RULE_FIELDS].join(', ')})`);
    const code = p0.string(raw.code, 'code', CODE, 'upper-case letters, digits and _');
    if (seen.has(code)) p0.fail('code', `repeats ${code}: every rule has its own code`);
    seen.add(code);
    const source = p0.string(raw.source, 'source');
    const eachName = raw.each_name === undefined ? null : p0.list(raw.each_name, 'each_name').map((n, j) => p0.envName(n, `each_name[${j}]`));
    let cases: FindingCase[];
    if (raw.cases !== undefined) {
      const inline = CASE_FIELDS.find((f) => f in raw);
      if (inline !== undefined) p0.fail(inline, 'cannot stand beside cases: put it in each case');
      cases = p0.list(raw.cases, 'cases').map((c, j) => {
        if (!isObject(c)) p0.fail(`cases[${j}]`, 'is not an object');
        const stray = Object.keys(c).find((k) => !(CASE_FIELDS as readonly string[]).includes(k));
        if (stray !== undefined) p0.fail(`cases[${j}].${stray}`, `is not a case field (${CASE_FIELDS.join(', ')})`);
        return parseCase(c, `cases[${j}]`, p0);
      });
    } else {
      cases = [parseCase(raw, '', p0)];
    }
    return { code, source, eachName, cases };
  });
  return { version: json.version, rules };
}

// ---------------------------------------------------------------------------------------------
// Evaluation

const TRUTHY = new Set(['1', 'true', 'True', 'TRUE']);

/** How TensorFlow's ReadBoolFromEnvVar reads a flag: '0'/'false' and '1'/'true', any case; else unset. */
export function tfBool(value: string | undefined): boolean | undefined {
  const v = value?.toLowerCase();
  return v === '0' || v === 'false' ? false : v === '1' || v === 'true' ? true : undefined;
}

interface Bindings {
  name: string | null;
  features: string[];
  featuresSought: string[];
}

/** What the predicates read, worked out once per evaluation. */
class Facts {
  readonly usesGpu: boolean;
  readonly packages: ReadonlySet<string>;
  readonly calls: readonly RecordedCall[];

  constructor(readonly input: FindingsInput) {
    this.usesGpu = input.gpu.available && input.gpu.devices.length > 0;
    this.packages = new Set(input.packages.map(normalizePackageName));
    this.calls = input.record === null ? [] : [...input.record.seeds, ...input.record.switches];
  }

  frameworkVersion(name: FrameworkName): { present: boolean; version: string | null } {
    const f = this.input.frameworks;
    if (name === 'tf_keras') return { present: f.keras?.tf_keras_version != null, version: f.keras?.tf_keras_version ?? null };
    const info = f[name];
    return { present: info !== null, version: info?.version ?? null };
  }

  switchValue(name: RecordSwitch): boolean | null {
    const [section, key] = name.split('.') as ['tensorflow' | 'torch', string];
    const values = this.input.record?.[section] as Record<string, boolean | null> | null | undefined;
    return values?.[key] ?? null;
  }

  /** The seed a fix should show, and the call it came from: tf.random.set_seed's if there is one. */
  seed(): { value: string; call: string | null } {
    const integer = (c: RecordedCall) => typeof c.args[0] === 'number' && Number.isInteger(c.args[0]);
    const seeds = (this.input.record?.seeds ?? []).filter((c) => c.via === null && CALL_NAME.test(c.call));
    const chosen = seeds.find((c) => c.call === 'tf.random.set_seed' && integer(c)) ?? seeds.find((c) => c.call !== 'numpy.random.default_rng' && integer(c)) ?? seeds.find(integer);
    if (chosen !== undefined) return { value: String(chosen.args[0]), call: chosen.call };
    return { value: 'SEED', call: seeds[0]?.call ?? null };
  }
}

function envValue(facts: Facts, name: string, b: Bindings): string | undefined {
  const resolved = name === '{name}' ? b.name : name;
  return resolved === null ? undefined : facts.input.env[resolved];
}

function envTest(value: string | undefined, test: EnvTest): boolean {
  switch (test.kind) {
    case 'equals':
      return value === test.value;
    case 'tf_bool':
      return (tfBool(value) ?? null) === test.value;
    case 'truthy':
      return value !== undefined && TRUTHY.has(value);
    case 'contains':
      return value !== undefined && value.includes(test.value);
    case 'matches':
      return value !== undefined && test.pattern.test(value);
  }
}

function holds(c: Condition, facts: Facts, b: Bindings): boolean {
  const { input } = facts;
  const record = input.record;
  switch (c.kind) {
    case 'all':
      return c.items.every((item) => holds(item, facts, b));
    case 'any':
      return c.items.some((item) => holds(item, facts, b));
    case 'not':
      return !holds(c.item, facts, b);
    case 'framework': {
      const { present, version } = facts.frameworkVersion(c.framework);
      if (!present) return false;
      return c.version === null || (version !== null && satisfiesSpecifier(version, c.version, { prereleases: true }));
    }
    case 'keras_backend':
      return input.frameworks.keras?.backend === c.backend;
    case 'package':
      return facts.packages.has(c.name);
    case 'env_set':
      return envValue(facts, c.name, b) !== undefined;
    case 'env_unset':
      return envValue(facts, c.name, b) === undefined;
    case 'env_is':
      return envTest(envValue(facts, c.name, b), c.test);
    case 'gpu':
      return facts.usesGpu === c.value;
    case 'gpus_at_least':
      return facts.usesGpu && input.gpu.devices.length >= c.count;
    case 'gpu_compute_capability':
      return input.gpu.devices.some((d) => d.compute_capability !== null && satisfiesSpecifier(d.compute_capability, c.specifier, { prereleases: true }));
    case 'arch':
      return c.names.includes(input.arch.toLowerCase());
    case 'cpu_flags_any':
      b.features = c.flags.filter((flag) => input.cpuFlags.includes(flag));
      b.featuresSought = c.flags;
      return b.features.length > 0;
    case 'recorded':
      return (record !== null) === c.value;
    case 'imported':
      return record !== null && record[c.module] !== null;
    case 'fits_at_least':
      return record !== null && record.fits.length >= c.count;
    case 'called':
      return facts.calls.some((call) => call.call === c.call);
    case 'called_directly':
      return facts.calls.some((call) => call.call === c.call && call.via === null);
    case 'call_without_args':
      return facts.calls.some((call) => call.call === c.call && (call.args.length === 0 || call.args[0] === null));
    case 'no_seed_calls':
      return record !== null && record.seeds.length === 0;
    case 'switch_on':
      return facts.switchValue(c.name) === true;
    case 'switch_off':
      return facts.switchValue(c.name) === false;
  }
}

function fill(template: string, facts: Facts, b: Bindings): string {
  const f = facts.input.frameworks;
  return template.replace(PLACEHOLDER, (_, name: string) => {
    switch (name) {
      case 'tf':
        return f.tensorflow?.version ?? 'unknown';
      case 'keras':
        return f.keras?.version ?? 'unknown';
      case 'torch':
        return f.torch?.version ?? 'unknown';
      case 'jax':
        return f.jax?.version ?? 'unknown';
      case 'backend':
        return f.keras?.backend ?? 'unknown';
      case 'backend_source':
        return f.keras?.backend_source ?? 'unknown';
      case 'features':
        return b.features.join(', ');
      case 'features_sought':
        return b.featuresSought.join(', ');
      case 'gpus':
        return String(facts.input.gpu.devices.length);
      case 'name':
        return b.name ?? 'unknown';
      case 'seed':
        return facts.seed().value;
      case 'seed_call':
        return facts.seed().call ?? 'your seed call';
      case 'seed_calls': {
        const names = [...new Set((facts.input.record?.seeds ?? []).filter((c) => c.via === null && CALL_NAME.test(c.call)).map((c) => c.call))];
        return names.length > 0 ? names.join(', ') : 'none';
      }
      default:
        // parseFindingRules refuses any other placeholder.
        return `{${name}}`;
    }
  });
}

/** The findings the rules give on what was captured, in the rules' order. */
export function evaluateFindings(input: FindingsInput, rules: FindingRules): Finding[] {
  const facts = new Facts(input);
  const findings: Finding[] = [];
  for (const rule of rules.rules) {
    for (const name of rule.eachName ?? [null]) {
      for (const c of rule.cases) {
        const b: Bindings = { name, features: [], featuresSought: [] };
        if (!holds(c.when, facts, b)) continue;
        findings.push({ level: c.level, code: rule.code, message: fill(c.message, facts, b), fix: c.fix === null ? null : fill(c.fix, facts, b) });
        break;
      }
    }
  }
  return findings;
}

/** Every condition key a raw rules document uses, for checks over the data file. */
export function conditionKeysUsed(json: unknown): string[] {
  const keys = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (isObject(node)) {
      for (const [key, value] of Object.entries(node)) {
        keys.add(key);
        if (key === 'all' || key === 'any' || key === 'not') walk(value);
      }
    }
  };
  if (isObject(json) && Array.isArray(json.rules)) {
    for (const rule of json.rules) {
      if (!isObject(rule)) continue;
      if (rule.when !== undefined) walk(rule.when);
      if (Array.isArray(rule.cases)) for (const c of rule.cases) if (isObject(c)) walk(c.when);
    }
  }
  return [...keys].sort();
}
