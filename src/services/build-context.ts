// A build context, held as entries rather than files: the Dockerfile plan in memory, the snapshot,
// the probe, and the code tree streamed from git. The same entries become a tar for an engine
// (pack) or the folder `snapshot dockerfile` writes, so the two cannot drift apart. The same
// snapshot gives the same bytes: entries in one order, fixed mtimes, uid/gid 0, normalised modes.
import { CONTEXT_MTIME, compareKeys, orderKey } from '../core/code-tree.js';
import { planDockerfile, type DockerfilePlan } from '../core/dockerfile/plan.js';
import type { Snapshot } from '../core/model.js';
import { fileSize, openReadStream, walkFiles } from '../adapters/fs.js';
import { loadCompatTable, loadTemplates } from '../adapters/package-files.js';
import { PROBE_SCRIPT } from '../adapters/probes/python.js';
import { RECORDER_DIR } from '../adapters/probes/recorder.js';
import { serializeSnapshot } from '../adapters/snapshot-file.js';
import { packTar, type TarEntryOut } from '../adapters/tar.js';
import { locateCode, prepareCodeTree, type CodeFacts, type CodeTree } from './code-tree.js';

/** uv's own image, pinned: it installs the exact captured Python when the base image lacks it. */
export const UV_IMAGE = 'ghcr.io/astral-sh/uv:0.13.8';

/** Where the code tree sits in the context (the Dockerfile's `COPY code/`). */
export const CODE_FOLDER = 'code';

export interface BuildContextInput {
  snapshot: Snapshot;
  /** Absolute: captured patches are found beside it. */
  snapshotPath: string;
  /** The folder holding the code, as the caller found it; null when there is none. */
  repoDir: string | null;
  baseImage?: string;
  target?: 'gpu' | 'cpu';
  pythonFrom?: 'base' | 'apt' | 'uv';
  noCode: boolean;
  commitOnly: boolean;
  toolVersion: string;
  /** Bound on each quick git step (not on streaming the tree: its reader sets the pace). */
  timeoutMs: number;
  signal?: AbortSignal;
}

/** One entry of the context: `name` is '/'-separated, relative to the context's root. */
export type ContextEntry = TarEntryOut;

export interface BuildContext {
  plan: DockerfilePlan;
  code: CodeFacts;
  /** The repository's top level when the code is in the context. */
  codeRoot: string | null;
  /** The code's warnings, then the plan's (plan.warnings holds only the plan's). */
  warnings: string[];
  /** The context's top-level names, as `snapshot dockerfile` lists them. */
  files: string[];
  /** Every entry, sorted (orderKey), each file's body to be read before the next is asked for. */
  entries(): AsyncGenerator<ContextEntry>;
  /** The context as a tar stream; each call streams it afresh. */
  pack(): NodeJS.ReadableStream & AsyncIterable<Buffer>;
  /** Removes the code tree's temporary index and objects. Call it once done with the context. */
  dispose(): Promise<void>;
}

export async function buildContext(input: BuildContextInput): Promise<BuildContext> {
  const { snapshot } = input;
  const [table, templates, located] = await Promise.all([
    loadCompatTable(),
    loadTemplates(),
    locateCode({ snapshot, snapshotPath: input.snapshotPath, repoDir: input.repoDir, noCode: input.noCode, commitOnly: input.commitOnly, timeoutMs: input.timeoutMs, signal: input.signal }),
  ]);
  const included = 'repo' in located;
  const plan = planDockerfile(
    snapshot,
    {
      target: input.target,
      pythonFrom: input.pythonFrom,
      baseImage: input.baseImage,
      toolVersion: input.toolVersion,
      uvImage: UV_IMAGE,
      code: included
        ? {
            included: true,
            commit: located.commit,
            patched: located.patch !== null,
            commitOnly: located.commitOnly,
            subdir: located.subdir,
            submodules: located.submodules.map((sub) => ({ path: sub.path, commit: sub.commit, patched: sub.patch !== null })),
          }
        : { included: false, reason: located.reason },
    },
    table,
    templates,
  );
  // Only once the plan is accepted: a crafted snapshot is refused before git is asked for anything.
  const tree: CodeTree | null = included ? await prepareCodeTree(located, { timeoutMs: input.timeoutMs, signal: input.signal }) : null;
  const probeSize = await fileSize(PROBE_SCRIPT);
  if (probeSize === null) {
    await tree?.dispose();
    throw new Error(`the probe ${PROBE_SCRIPT} is missing from the installation`);
  }

  const file = (name: string, body: Buffer): ContextEntry => ({ name, kind: 'file', mode: 0o644, size: body.length, mtime: CONTEXT_MTIME, linkname: null, body });
  const fixed: ContextEntry[] = [file('Dockerfile', Buffer.from(plan.files.Dockerfile)), file('requirements.txt', Buffer.from(plan.files['requirements.txt']))];
  if (plan.files['keras.json'] !== undefined) fixed.push(file('keras.json', Buffer.from(plan.files['keras.json'])));
  fixed.push(file('snapshot.yaml', Buffer.from(serializeSnapshot(snapshot))));
  const recorder = await recorderFiles();
  const listed = fixed.map((entry) => entry.name).concat('snapshot_probe.py', `${RECORDER_FOLDER}/`, tree === null ? [] : [`${CODE_FOLDER}/`]);
  // The probe is streamed from the installation like any other file, never held whole.
  const probe = (): ContextEntry => ({ name: 'snapshot_probe.py', kind: 'file', mode: 0o644, size: probeSize, mtime: CONTEXT_MTIME, linkname: null, body: openReadStream(PROBE_SCRIPT) });

  async function* entries(): AsyncGenerator<ContextEntry> {
    const top: Array<{ key: Buffer; make: () => AsyncGenerator<ContextEntry> | ContextEntry }> = [...fixed.map((entry) => ({ key: orderKey(entry.name, 'file'), make: () => entry })), { key: orderKey('snapshot_probe.py', 'file'), make: probe }];
    top.push({ key: orderKey(RECORDER_FOLDER, 'directory'), make: () => recorderEntries(recorder) });
    if (tree !== null) top.push({ key: orderKey(CODE_FOLDER, 'directory'), make: () => codeEntries(tree, input.signal) });
    top.sort((a, b) => compareKeys(a.key, b.key));
    for (const { make } of top) {
      const made = make();
      if (Symbol.asyncIterator in made) yield* made;
      else yield made;
    }
  }

  const warnings = included ? [...located.warnings, ...(tree?.warnings ?? []), ...plan.warnings] : [...plan.warnings, `The code is not in the image: ${located.reason}.`];
  const code: CodeFacts = included && tree !== null ? tree.facts : { included: false, reason: 'reason' in located ? located.reason : 'no code' };
  return {
    plan,
    code,
    codeRoot: included ? located.root : null,
    warnings,
    files: listed,
    entries,
    pack: () => packTar(entries()),
    dispose: async () => {
      await tree?.dispose();
    },
  };
}

/** The recorder's folder in the context and the image (python/snapshot_recorder in the installation). */
export const RECORDER_FOLDER = 'snapshot_recorder';

/** The recorder's Python files, by name and size: a flat folder of the installation. */
async function recorderFiles(): Promise<Array<{ name: string; path: string; size: number }>> {
  const files = await walkFiles(RECORDER_DIR);
  const out: Array<{ name: string; path: string; size: number }> = [];
  for (const f of files) {
    if (!/^[A-Za-z0-9_]+\.py$/.test(f.relativePath)) continue;
    const path = String(f.absolutePath);
    out.push({ name: f.relativePath, path, size: (await fileSize(path)) ?? 0 });
  }
  if (!out.some((f) => f.name === 'sitecustomize.py')) throw new Error(`the recorder ${RECORDER_DIR} is missing from the installation`);
  return out;
}

async function* recorderEntries(files: Array<{ name: string; path: string; size: number }>): AsyncGenerator<ContextEntry> {
  yield { name: RECORDER_FOLDER, kind: 'directory', mode: 0o755, size: 0, mtime: CONTEXT_MTIME, linkname: null, body: null };
  for (const f of files) yield { name: `${RECORDER_FOLDER}/${f.name}`, kind: 'file', mode: 0o644, size: f.size, mtime: CONTEXT_MTIME, linkname: null, body: openReadStream(f.path) };
}

/** The code tree under code/, its folder first. */
async function* codeEntries(tree: CodeTree, signal: AbortSignal | undefined): AsyncGenerator<ContextEntry> {
  yield { name: CODE_FOLDER, kind: 'directory', mode: 0o755, size: 0, mtime: CONTEXT_MTIME, linkname: null, body: null };
  for await (const entry of tree.entries(signal)) {
    yield { name: `${CODE_FOLDER}/${entry.path}`, kind: entry.kind, mode: entry.mode, size: entry.size, mtime: CONTEXT_MTIME, linkname: entry.linkname, body: entry.body };
  }
}
