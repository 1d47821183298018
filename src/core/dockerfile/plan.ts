// From a snapshot to the files of a build context: pure, deterministic (the same snapshot gives
// byte-identical files), and every value from the snapshot validated before it is written.
import { untrackedAtCapture } from '../git.js';
import type { Snapshot } from '../model.js';
import { compareVersions } from '../versions.js';
import { chooseBaseImage, type BaseChoice, type BaseOptions } from './base-image.js';
import type { CompatTable } from './compat.js';
import { renderRequirements, SKIP_REASONS, type RenderedRequirements } from './requirements.js';
import { renderEach, renderTemplate } from './template.js';
import { DETERMINISM_ENV_ALLOWLIST, HOST_ONLY_ENV } from '../determinism.js';
import { assertCommitId, assertDeterminismEnvValue, assertEnvName, assertHttpUrl, assertRelativePosixPath, assertImageReference, dockerfileEnvValue, dockerfileLabelValue, showValue, unsafeValue } from './validate.js';

export const TEMPLATE_NAMES = [
  'Dockerfile',
  'label',
  'reason',
  'env',
  'environment',
  'keras',
  'python-base',
  'python-override',
  'python-uv',
  'python-apt',
  'system-packages',
  'code',
  'no-code',
] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];
export type Templates = Readonly<Record<TemplateName, string>>;

/**
 * pip comes with every Python the image installs (and pinning the installer's own version breaks
 * builds on mirrors). setuptools and wheel are not provided: see PACKAGING_TOOLS.
 */
export const PROVIDED_BY_BASE = new Set(['pip']);


export const SNAPSHOT_PATH_IN_IMAGE = '/opt/snapshot/snapshot.yaml';

export interface PlanOptions extends BaseOptions {
  toolVersion: string;
  /** The code layer, when the generator could rebuild the tree at the captured commit. */
  /**
   * The code layer: the repository at the captured commit. `subdir` is where the captured code
   * folder sits inside the repository ('' for its root); the image starts there.
   */
  code: { included: true; commit: string; patched: boolean; commitOnly: boolean; subdir: string; submodules: CodeSubmodule[] } | { included: false; reason: string };
  uvImage: string;
}

/** A submodule whose tree the code layer holds, at the commit the training ran. */
export interface CodeSubmodule {
  path: string;
  commit: string;
  patched: boolean;
}

export interface PlannedEnv {
  name: string;
  value: string;
  why: string;
}

export interface DockerfilePlan {
  files: { Dockerfile: string; 'requirements.txt': string; 'keras.json'?: string };
  base: BaseChoice;
  environment: PlannedEnv[];
  requirements: { pinned: number; skipped: Array<{ name: string; version: string; reason: string; advice: string }>; tooling: RenderedRequirements['tooling'] };
  warnings: string[];
}

const PYTHON_VERSION = /^\d+\.\d+\.\d+((a|b|rc)\d+)?$/;

function pythonVersionOf(snapshot: Snapshot): string {
  const version = snapshot.python.version;
  if (!PYTHON_VERSION.test(version)) throw unsafeValue('python.version', version, 'is not a Python version');
  return version;
}

/**
 * The ENV the image bakes in: the captured allowlisted variables (host-only ones left out), then the
 * recipe right for the captured TensorFlow and torch.
 */
export function planEnvironment(snapshot: Snapshot, base: Pick<BaseChoice, 'target' | 'family'>): { env: PlannedEnv[]; warnings: string[] } {
  const env: PlannedEnv[] = [];
  const warnings: string[] = [];
  const names = new Set<string>();
  const add = (name: string, value: string, why: string) => {
    if (names.has(name)) return;
    names.add(name);
    env.push({ name, value, why });
  };
  for (const [name, value] of Object.entries(snapshot.determinism.env).sort(([a], [b]) => (a < b ? -1 : 1))) {
    assertEnvName(name, `determinism.env.${name}`);
    // Capture records nothing outside the allowlist, so any other name (LD_PRELOAD, HTTPS_PROXY...)
    // was put there by hand, and must not reach the image.
    if (!Object.hasOwn(DETERMINISM_ENV_ALLOWLIST, name)) throw unsafeValue(`determinism.env.${name}`, name, 'is not a variable snapshot records (see the allowlist in src/core/determinism.ts)');
    if (HOST_ONLY_ENV.has(name)) continue;
    assertDeterminismEnvValue(value, `determinism.env.${name}`);
    add(name, value, 'captured');
  }
  const tf = snapshot.frameworks.tensorflow?.version ?? null;
  if (tf !== null && base.target === 'gpu' && compareVersions(tf, '2.1') >= 0 && compareVersions(tf, '2.8') < 0) {
    add('TF_DETERMINISTIC_OPS', '1', `deterministic GPU ops for TensorFlow ${tf} (2.1-2.7 recipe)`);
  }
  if (snapshot.frameworks.torch !== null && base.target === 'gpu') {
    add('CUBLAS_WORKSPACE_CONFIG', ':4096:8', 'deterministic cuBLAS for torch');
  }
  if (base.target === 'gpu' && base.family === 'python') {
    add('NVIDIA_DRIVER_CAPABILITIES', 'compute,utility', 'the NVIDIA runtime injects the driver libraries this image needs');
  }
  if (!names.has('PYTHONHASHSEED')) {
    warnings.push('PYTHONHASHSEED was not set when the snapshot was captured, so the image does not set it either: hash order may differ between runs.');
  }
  return { env, warnings };
}

function labelsFor(snapshot: Snapshot, base: BaseChoice, toolVersion: string): Array<{ key: string; value: string }> {
  const labels: Array<{ key: string; value: string }> = [
    { key: 'org.opencontainers.image.title', value: `snapshot replay ${snapshot.id}` },
    { key: 'org.opencontainers.image.created', value: snapshot.created_at },
    { key: 'org.opencontainers.image.base.name', value: base.image },
  ];
  if (base.digest) labels.push({ key: 'org.opencontainers.image.base.digest', value: base.digest });
  const git = snapshot.code?.git;
  if (git) {
    if (git.commit !== null) labels.push({ key: 'org.opencontainers.image.revision', value: git.commit });
    if (git.remote_url && /^https?:\/\//.test(git.remote_url)) {
      labels.push({ key: 'org.opencontainers.image.source', value: assertHttpUrl(git.remote_url, 'code.git.remote_url') });
    }
  }
  labels.push(
    { key: 'dev.snapshot.id', value: snapshot.id },
    { key: 'dev.snapshot.schema', value: String(snapshot.schema) },
    { key: 'dev.snapshot.tool-version', value: toolVersion },
    { key: 'dev.snapshot.path', value: SNAPSHOT_PATH_IN_IMAGE },
  );
  return labels.map(({ key, value }) => ({ key, value: dockerfileLabelValue(value, `label ${key}`) }));
}

function pythonInstall(templates: Templates, base: BaseChoice, pythonVersion: string, uvImage: string): string {
  if (base.family === 'override' && base.pythonFrom === 'base') {
    return renderTemplate(templates['python-override'], { python_version: pythonVersion }, 'python-override');
  }
  switch (base.pythonFrom) {
    case 'uv':
      return renderTemplate(templates['python-uv'], { python_version: pythonVersion, uv_image: uvImage }, 'python-uv');
    case 'apt':
      return renderTemplate(templates['python-apt'], { python_version: pythonVersion }, 'python-apt');
    default:
      return renderTemplate(templates['python-base'], { python_version: pythonVersion }, 'python-base');
  }
}

/** The Debian package of each VCS client pip clones with. */
const VCS_CLIENT_PACKAGES: Readonly<Record<string, string>> = { git: 'git', hg: 'mercurial', svn: 'subversion', bzr: 'bzr' };

function systemPackages(templates: Templates, requirements: RenderedRequirements, base: BaseChoice): string {
  const packages: string[] = [];
  const reasons: string[] = [];
  // Only for VCS pins that remain: a skipped file:// repository needs no client.
  for (const vcs of requirements.vcs) {
    const client = VCS_CLIENT_PACKAGES[vcs];
    if (client === undefined) continue;
    packages.push(client);
    reasons.push(`${client} to clone the ${vcs} requirements`);
  }
  // git only Recommends an ssh client, and --no-install-recommends leaves it out.
  if (requirements.overSsh.length > 0) {
    packages.push('openssh-client');
    reasons.push('openssh-client for the ssh:// requirements');
  }
  if (base.pythonFrom === 'uv' || base.family === 'nvidia-cuda') {
    packages.push('ca-certificates');
    reasons.push('ca-certificates for HTTPS downloads');
  }
  if (packages.length === 0) return '';
  return renderTemplate(templates['system-packages'], { packages: [...new Set(packages)].sort().join(' '), reason: reasons.join(', ') }, 'system-packages');
}

export const CODE_PATH_IN_IMAGE = '/workspace/code';

function workdirFor(code: PlanOptions['code']): string {
  if (!code.included || code.subdir === '') return CODE_PATH_IN_IMAGE;
  return `${CODE_PATH_IN_IMAGE}/${assertRelativePosixPath(code.subdir, 'code.path (inside its repository)')}`;
}

function submodulesNote(submodules: readonly CodeSubmodule[]): string {
  return submodules
    .map((sub, i) => {
      const path = assertRelativePosixPath(sub.path, `code.git.submodules[${i}].path`);
      const commit = assertCommitId(sub.commit, `code.git.submodules[${i}].commit`);
      return `# Submodule ${path} at commit ${commit}${sub.patched ? ', with its captured uncommitted patch applied' : ''}.`;
    })
    .join('\n');
}

const KERAS_FLOATX = new Set(['float16', 'bfloat16', 'float32', 'float64']);
const KERAS_DATA_FORMATS = new Set(['channels_last', 'channels_first']);
const KERAS_BACKEND_NAME = /^[a-z][a-z0-9_]{0,31}$/;

/**
 * The keras.json the image needs, or null: Keras 3 reads its backend from it when KERAS_BACKEND
 * is unset, and floatx, epsilon and image_data_format change numerics. Written from validated
 * values only (the file is JSON, but replay also shows these values).
 */
/** What Keras 3 uses without a keras.json (keras/src/backend/config.py). */
const KERAS_DEFAULTS: Readonly<Record<string, string | number | boolean>> = { backend: 'tensorflow', floatx: 'float32', epsilon: 1e-7, image_data_format: 'channels_last' };

export function kerasJsonFor(snapshot: Snapshot): { text: string; summary: string } | null {
  const keras = snapshot.frameworks.keras;
  if (!keras) return null;
  // Keras 2 and tf.keras read floatx, epsilon and image_data_format from keras.json too, but no backend.
  const keras3 = keras.version !== null && compareVersions(keras.version, '3') >= 0;
  const config = keras.config ?? null;
  if (config === null && keras.backend_source !== 'keras.json') return null;
  if (config !== null && (typeof config !== 'object' || Array.isArray(config))) throw unsafeValue('frameworks.keras.config', config, 'is not a keras.json object');
  const settings: Record<string, string | number | boolean> = {};
  const field = (key: string) => `frameworks.keras.config.${key}`;
  const backend = !keras3 ? undefined : keras.backend_source === 'keras.json' ? keras.backend : config?.backend;
  if (backend !== undefined) {
    if (typeof backend !== 'string' || !KERAS_BACKEND_NAME.test(backend)) throw unsafeValue(field('backend'), backend, 'is not a Keras backend name');
    settings.backend = backend;
  }
  if (config?.floatx !== undefined) {
    if (typeof config.floatx !== 'string' || !KERAS_FLOATX.has(config.floatx)) throw unsafeValue(field('floatx'), config.floatx, `is not one of ${[...KERAS_FLOATX].join(', ')}`);
    settings.floatx = config.floatx;
  }
  if (config?.epsilon !== undefined) {
    if (typeof config.epsilon !== 'number' || !Number.isFinite(config.epsilon)) throw unsafeValue(field('epsilon'), config.epsilon, 'is not a finite number');
    settings.epsilon = config.epsilon;
  }
  if (config?.image_data_format !== undefined) {
    if (typeof config.image_data_format !== 'string' || !KERAS_DATA_FORMATS.has(config.image_data_format)) throw unsafeValue(field('image_data_format'), config.image_data_format, `is not one of ${[...KERAS_DATA_FORMATS].join(', ')}`);
    settings.image_data_format = config.image_data_format;
  }
  if (config?.nnx_enabled !== undefined) {
    if (typeof config.nnx_enabled !== 'boolean') throw unsafeValue(field('nnx_enabled'), config.nnx_enabled, 'is not true or false');
    settings.nnx_enabled = config.nnx_enabled;
  }
  // Keras 2 takes nothing else from the file: without a numerics setting there is nothing to carry.
  if (!keras3 && Object.keys(settings).length === 0) return null;
  // The keras.json Keras writes on first import holds its defaults: the image gets the same without
  // it, and a second capture of the same environment keeps the same Dockerfile (and build cache).
  if (keras3 && Object.keys(settings).length > 0 && Object.entries(settings).every(([k, v]) => KERAS_DEFAULTS[k] === v)) return null;
  const ordered = Object.fromEntries(Object.entries(settings).sort(([a], [b]) => (a < b ? -1 : 1)));
  const summary = Object.entries(ordered).map(([k, v]) => `${k} ${String(v)}`).join(', ') || 'an empty keras.json';
  let text = JSON.stringify(ordered, null, 4);
  // Keras asserts that epsilon is a float: a whole number must keep its decimal point (1.0, not 1).
  if (typeof settings.epsilon === 'number' && Number.isInteger(settings.epsilon)) text = text.replace(/("epsilon": -?\d+)(,?\n|\n?\}$)/, '$1.0$2');
  return { text: `${text}\n`, summary };
}

function codeNote(code: { patched: boolean; commitOnly: boolean }): string {
  if (code.patched) return ', with the captured uncommitted patch applied';
  // Said in the image itself too: this is not the code the training ran.
  if (code.commitOnly) return ' ONLY: the uncommitted changes the training ran with were not captured (built with --commit-only)';
  return '';
}

export function planDockerfile(snapshot: Snapshot, options: PlanOptions, table: CompatTable, templates: Templates): DockerfilePlan {
  const pythonVersion = pythonVersionOf(snapshot);
  if (options.baseImage !== undefined) assertImageReference(options.baseImage, '--base-image');
  const base = chooseBaseImage(snapshot, options, table);
  // The chosen reference goes into FROM: it is checked like any other value, wherever it came from.
  assertImageReference(base.image, 'base image');
  const requirements = renderRequirements(snapshot, { extraIndexUrls: base.extraIndexUrls, exclude: PROVIDED_BY_BASE });
  const { env, warnings: envWarnings } = planEnvironment(snapshot, base);

  const code = options.code.included
    ? renderTemplate(templates.code, { commit: assertCommitId(options.code.commit, 'code.git.commit'), patch_note: codeNote(options.code), submodules: submodulesNote(options.code.submodules) }, 'code')
    : renderTemplate(templates['no-code'], { reason: options.code.reason }, 'no-code');
  const kerasJson = kerasJsonFor(snapshot);

  const from = base.digest && !base.image.includes('@') ? `${base.image}@${base.digest}` : base.image;
  const dockerfile = renderTemplate(
    templates.Dockerfile,
    {
      tool_version: options.toolVersion,
      snapshot_id: snapshot.id,
      // Comments too: a line break in a reason could start an instruction, so none survives.
      base_reasons: renderEach(templates.reason.trimEnd(), base.reasons.map((reason) => ({ reason: reason.replace(/[\r\n\u2028\u2029]+/g, ' ') })), 'reason'),
      base_image: from,
      labels: renderEach(templates.label.trimEnd(), labelsFor(snapshot, base, options.toolVersion), 'label'),
      system_packages: systemPackages(templates, requirements, base),
      python_install: pythonInstall(templates, base, pythonVersion, options.uvImage),
      environment:
        env.length === 0
          ? ''
          : renderTemplate(
              templates.environment.trimEnd(),
              { lines: renderEach(templates.env.trimEnd(), env.map((e) => ({ name: e.name, value: dockerfileEnvValue(e.value, `determinism.env.${e.name}`) })), 'env') },
              'environment',
            ),
      keras: kerasJson === null ? '' : renderTemplate(templates.keras.trimEnd(), { summary: kerasJson.summary }, 'keras'),
      code,
      workdir: workdirFor(options.code),
    },
    'Dockerfile',
  );

  const skippedWarnings = requirements.skipped
    .filter((s) => s.reason !== SKIP_REASONS.baseImage && s.reason !== SKIP_REASONS.toolingUnneeded)
    .map((s) => `${s.name} ${s.version} is not pinned: ${s.reason}. ${s.advice}`);
  const sshWarnings =
    requirements.overSsh.length === 0
      ? []
      : [
          `${requirements.overSsh.join(', ')} ${requirements.overSsh.length === 1 ? 'is' : 'are'} cloned over ssh: the build needs your ssh credentials, which the classic builder cannot pass. Build with BuildKit and an ssh mount (docker buildx build --ssh default ...) after changing the install line to RUN --mount=type=ssh, or publish them where the build can reach them over https.`,
        ];
  const files: DockerfilePlan['files'] = { Dockerfile: `${dockerfile.replace(/\n{3,}/g, '\n\n').trimEnd()}\n`, 'requirements.txt': requirements.text };
  if (kerasJson !== null) files['keras.json'] = kerasJson.text;
  return {
    // Optional blocks that render empty would leave runs of blank lines behind.
    files,
    base,
    environment: env,
    requirements: { pinned: requirements.pinned, skipped: requirements.skipped, tooling: requirements.tooling },
    warnings: [...base.warnings, ...envWarnings, ...skippedWarnings, ...sshWarnings, ...untrackedWarnings(snapshot)],
  };
}

/** How many untracked paths a warning names before it says "and N more". */
const UNTRACKED_SHOWN = 10;

/**
 * Files git did not track at capture are in no commit and no patch, so the image lacks them: if
 * the training read one, a replay differs. Named here, as `show` does; the names are printed
 * JSON-quoted (a file name may hold anything).
 */
export function untrackedWarnings(snapshot: Snapshot): string[] {
  const untracked = untrackedAtCapture(snapshot.code?.git);
  if (untracked.length === 0) return [];
  const shown = untracked.slice(0, UNTRACKED_SHOWN).map((path) => showValue(path)).join(', ');
  const more = untracked.length > UNTRACKED_SHOWN ? ` and ${untracked.length - UNTRACKED_SHOWN} more` : '';
  return [`${untracked.length} file${untracked.length === 1 ? ' was' : 's were'} untracked at capture and ${untracked.length === 1 ? 'is' : 'are'} not in the image: ${shown}${more}. If the training reads ${untracked.length === 1 ? 'it' : 'them'}, commit ${untracked.length === 1 ? 'it' : 'them'} (or pass the folder as --data) and recapture.`];
}
