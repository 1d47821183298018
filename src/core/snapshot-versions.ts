// Snapshot schema versions: every snapshot a released tool wrote stays readable. Each older version
// is validated against its own schema file first, then lifted here, step by step, to the current
// one. Pure: a validated document in, the current document out.
import { posix } from 'node:path';
import { SCHEMA_VERSION, type Snapshot } from './model.js';

/** Every version this tool reads, oldest first; the last one is SCHEMA_VERSION. */
export const READABLE_SCHEMA_VERSIONS = [1, 2, 3, 4] as const;

export type SchemaSupport = { kind: 'current' } | { kind: 'older'; version: number } | { kind: 'newer'; version: number } | { kind: 'unknown' };

/** What the document's `schema` field says about how to read it. */
export function schemaSupport(value: unknown): SchemaSupport {
  const version = typeof value === 'object' && value !== null ? (value as { schema?: unknown }).schema : undefined;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) return { kind: 'unknown' };
  if (version === SCHEMA_VERSION) return { kind: 'current' };
  if (version > SCHEMA_VERSION) return { kind: 'newer', version };
  return (READABLE_SCHEMA_VERSIONS as readonly number[]).includes(version) ? { kind: 'older', version } : { kind: 'unknown' };
}

type Document = Record<string, unknown>;

/**
 * v1 -> v2. What schema 1 never recorded is unknown, never invented: the patch's checksum, the
 * packages' metadata kind and location, keras.json's settings, submodules, the log sizes. The data
 * manifests stay inline (manifest_file null).
 */
function v1ToV2(doc: Document): Document {
  const code = doc.code as { git: Document | null } | null;
  const git = code?.git ? { ...code.git, patch_sha256: null, patch_size: null, patch_error: null, staged: [], submodules: [] } : null;
  // Keys keep the v2 order, so a migrated snapshot serialises like a captured one.
  const withGit = git === null ? null : reorder(git, ['commit', 'branch', 'remote_url', 'dirty', 'patch_file', 'patch_sha256', 'patch_size', 'patch_error', 'staged', 'untracked', 'submodules']);
  const packages = (doc.packages as Document[]).map((p) => ({ ...p, metadata: null, location: null, requires_tooling: [] }));
  const frameworks = doc.frameworks as Document & { keras: Document | null };
  const keras = frameworks.keras === null ? null : { ...frameworks.keras, config: null };
  const data = (doc.data as Document[]).map((d) => reorder({ ...d, manifest_file: null }, ['path', 'kind', 'file_count', 'total_bytes', 'digest', 'manifest_file', 'files']));
  const run = doc.run as Document | null;
  const withRun = run === null ? null : reorder({ ...run, stdout_bytes: null, stderr_bytes: null, logs_truncated: false }, ['command', 'cwd', 'exit_code', 'signal', 'duration_ms', 'started_at', 'status', 'stdout_log', 'stderr_log', 'stdout_bytes', 'stderr_bytes', 'logs_truncated', 'outputs_dir', 'baseline']);
  return { ...doc, schema: 2, packages, frameworks: { ...frameworks, keras }, code: code === null ? null : { ...code, git: withGit }, data, run: withRun };
}

/**
 * v2 -> v3. Schema 2 was released in two shapes (fields were added to it later): what the early
 * one lacks is filled as unknown, as v1ToV2 does. Schema 3 adds where each path sat in the
 * repository; an older snapshot did not record its repository's root, so those are unknown too
 * (null) and replay falls back to the code folder. The outputs' absolute path follows from the
 * run's working directory, which both recorded.
 */
function v2ToV3(doc: Document): Document {
  const packages = (doc.packages as Document[]).map((p) => ({ metadata: null, location: null, requires_tooling: [], ...p }));
  const frameworks = doc.frameworks as Document & { keras: Document | null };
  const keras = frameworks.keras === null ? null : { config: null, ...frameworks.keras };
  const code = doc.code as (Document & { git: Document | null; path: string }) | null;
  const git = code?.git
    ? reorder(
        { staged: [], ...code.git, submodules: ((code.git.submodules as Document[] | undefined) ?? []).map((s) => ({ ...s, untracked: [] })) },
        ['commit', 'branch', 'remote_url', 'dirty', 'patch_file', 'patch_sha256', 'patch_size', 'patch_error', 'staged', 'untracked', 'submodules'],
      )
    : null;
  const withCode = code === null ? null : { path: code.path, repo_root: null, in_repo: null, git };
  const data = (doc.data as Document[]).map((d) => reorder({ manifest_file: null, ...d, absolute: null, in_repo: null }, ['path', 'absolute', 'in_repo', 'kind', 'file_count', 'total_bytes', 'digest', 'manifest_file', 'files']));
  const run = doc.run as (Document & { cwd: string; outputs_dir: string }) | null;
  const withRun =
    run === null
      ? null
      : reorder(
          { stdout_bytes: null, stderr_bytes: null, logs_truncated: false, ...run, cwd_in_repo: null, outputs_path: posix.resolve("/", run.cwd, run.outputs_dir), outputs_in_repo: null },
          ['command', 'cwd', 'cwd_in_repo', 'exit_code', 'signal', 'duration_ms', 'started_at', 'status', 'stdout_log', 'stderr_log', 'stdout_bytes', 'stderr_bytes', 'logs_truncated', 'outputs_dir', 'outputs_path', 'outputs_in_repo', 'baseline'],
        );
  return { ...doc, schema: 3, packages, frameworks: { ...frameworks, keras }, code: withCode, data, run: withRun };
}

/**
 * v3 -> v4. Schema 4 adds what the recorder saw the training do, the run-to-run check of
 * capture --repeat, the saved models' reload check, and each finding's fix: none of them existed before, so null.
 */
function v3ToV4(doc: Document): Document {
  const determinism = doc.determinism as Document & { findings: Document[] };
  const findings = determinism.findings.map((f) => ({ ...f, fix: null }));
  const run = doc.run as Document | null;
  return { ...doc, schema: 4, determinism: { ...determinism, findings }, run: run === null ? null : { ...run, record: null, repeat: null, reload: null } };
}

const STEPS: Record<number, (doc: Document) => Document> = { 1: v1ToV2, 2: v2ToV3, 3: v3ToV4 };

/** Lifts a document valid under schema `from` to the current schema. */
export function migrateSnapshot(value: unknown, from: number): Snapshot {
  let doc = value as Document;
  for (let version = from; version < SCHEMA_VERSION; version++) {
    const step = STEPS[version];
    if (step === undefined) throw new Error(`no migration from snapshot schema ${version}`);
    doc = step(doc);
  }
  return doc as unknown as Snapshot;
}

function reorder(doc: Document, keys: string[]): Document {
  const out: Document = {};
  for (const key of keys) if (key in doc) out[key] = doc[key];
  for (const [key, value] of Object.entries(doc)) if (!(key in out)) out[key] = value;
  return out;
}
