// From a snapshot to the files of a build context: pure, deterministic (the same snapshot gives
// byte-identical files), and every value from the snapshot validated before it is written.
import type { Snapshot } from '../model.js';
import { compareVersions } from '../versions.js';
import { chooseBaseImage, type BaseChoice, type BaseOptions } from './base-image.js';
import type { CompatTable } from './compat.js';
import { renderRequirements, SKIP_REASONS } from './requirements.js';
import { renderEach, renderTemplate } from './template.js';
import { DETERMINISM_ENV_ALLOWLIST } from '../determinism.js';
import { assertDeterminismEnvValue, assertEnvName, assertHttpUrl, assertRelativePosixPath, assertImageReference, dockerfileEnvValue, dockerfileLabelValue, unsafeValue } from './validate.js';

export const TEMPLATE_NAMES = [
  'Dockerfile',
  'label',
  'reason',
  'env',
  'environment',
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

/** The installer's own tooling comes from the base image: pinning it exactly breaks builds on mirrors. */
export const PROVIDED_BY_BASE = new Set(['pip', 'setuptools', 'wheel', 'distribute']);

/** Variables that describe the capturing host, not the numerics: replay sets its own. */
const HOST_ONLY_ENV = new Set(['CUDA_VISIBLE_DEVICES', 'NVIDIA_VISIBLE_DEVICES', 'NVIDIA_DRIVER_CAPABILITIES', 'KERAS_HOME']);

export const SNAPSHOT_PATH_IN_IMAGE = '/opt/snapshot/snapshot.yaml';

export interface PlanOptions extends BaseOptions {
  toolVersion: string;
  /** The code layer, when the generator could rebuild the tree at the captured commit. */
  /**
   * The code layer: the repository at the captured commit. `subdir` is where the captured code
   * folder sits inside the repository ('' for its root); the image starts there.
   */
  code: { included: true; commit: string; patched: boolean; commitOnly: boolean; subdir: string } | { included: false; reason: string };
  uvImage: string;
}

export interface PlannedEnv {
  name: string;
  value: string;
  why: string;
}

export interface DockerfilePlan {
  files: { Dockerfile: string; 'requirements.txt': string };
  base: BaseChoice;
  environment: PlannedEnv[];
  requirements: { pinned: number; skipped: Array<{ name: string; version: string; reason: string; advice: string }> };
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
export function planEnvironment(snapshot: Snapshot, base: BaseChoice): { env: PlannedEnv[]; warnings: string[] } {
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
    labels.push({ key: 'org.opencontainers.image.revision', value: git.commit });
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

function systemPackages(templates: Templates, snapshot: Snapshot, base: BaseChoice): string {
  const packages: string[] = [];
  const reasons: string[] = [];
  if (snapshot.packages.some((p) => p.source.kind === 'vcs' && p.source.commit_id)) {
    packages.push('git');
    reasons.push('git for the VCS requirements');
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
    ? renderTemplate(templates.code, { commit: options.code.commit, patch_note: codeNote(options.code) }, 'code')
    : renderTemplate(templates['no-code'], { reason: options.code.reason }, 'no-code');

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
      system_packages: systemPackages(templates, snapshot, base),
      python_install: pythonInstall(templates, base, pythonVersion, options.uvImage),
      environment:
        env.length === 0
          ? ''
          : renderTemplate(
              templates.environment.trimEnd(),
              { lines: renderEach(templates.env.trimEnd(), env.map((e) => ({ name: e.name, value: dockerfileEnvValue(e.value, `determinism.env.${e.name}`) })), 'env') },
              'environment',
            ),
      code,
      workdir: workdirFor(options.code),
    },
    'Dockerfile',
  );

  const skippedWarnings = requirements.skipped
    .filter((s) => s.reason !== SKIP_REASONS.baseImage)
    .map((s) => `${s.name} ${s.version} is not pinned: ${s.reason}. ${s.advice}`);
  return {
    // Optional blocks that render empty would leave runs of blank lines behind.
    files: { Dockerfile: `${dockerfile.replace(/\n{3,}/g, '\n\n').trimEnd()}\n`, 'requirements.txt': requirements.text },
    base,
    environment: env,
    requirements: { pinned: requirements.pinned, skipped: requirements.skipped },
    warnings: [...base.warnings, ...envWarnings, ...skippedWarnings],
  };
}
