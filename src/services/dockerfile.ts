// `snapshot dockerfile`: a build context folder (Dockerfile, pinned requirements, the snapshot, the
// probe, and the code at the captured commit) written atomically from a snapshot, from the same
// entries an engine gets as a tar (services/build-context.ts).
import { resolve } from 'node:path';
import type { DockerfilePlan } from '../core/dockerfile/plan.js';
import { besideSnapshot } from '../core/paths.js';
import { OutputRefusedError } from '../errors.js';
import { assertWritableTarget, isInside, StagedFolder } from '../adapters/fs.js';
import { readSnapshot } from '../adapters/snapshot-file.js';
import { buildContext } from './build-context.js';

export { UV_IMAGE } from './build-context.js';

export interface DockerfileInput {
  snapshotPath: string;
  outputDir?: string;
  baseImage?: string;
  target?: 'gpu' | 'cpu';
  pythonFrom?: 'base' | 'apt' | 'uv';
  /** Where the code's git repository is; default: the folder the snapshot recorded. */
  codeDir?: string;
  noCode: boolean;
  /** Build the commit alone when the snapshot's uncommitted changes were not captured (refused otherwise). */
  commitOnly: boolean;
  force: boolean;
  cwd: string;
  toolVersion: string;
  timeoutMs: number;
}

export interface DockerfileResult {
  outputDir: string;
  files: string[];
  plan: DockerfilePlan;
  /** dockerignore: whether the repository's .dockerignore left things out of the code tree. */
  code: { included: boolean; commit: string | null; patched: boolean; commitOnly: boolean; submodules: Array<{ path: string; commit: string; patched: boolean }>; dockerignore: boolean; reason: string | null };
}


function assertNotInside(outputDir: string, holds: Array<[string, string]>): void {
  for (const [what, path] of holds) {
    if (isInside(outputDir, path)) {
      throw new OutputRefusedError('OUTPUT_OVERLAPS', `the build context folder ${outputDir} would hold ${what} (${path}), and writing it replaces the folder`, {
        hint: 'Choose a new folder for --output-dir.',
      });
    }
  }
}

export async function generateDockerfile(input: DockerfileInput): Promise<DockerfileResult> {
  const snapshotPath = resolve(input.cwd, input.snapshotPath);
  const snapshot = await readSnapshot(snapshotPath);
  const outputDir = input.outputDir !== undefined ? resolve(input.cwd, input.outputDir) : besideSnapshot(snapshotPath, '.docker');
  await assertWritableTarget(outputDir, input.force, 'build context folder');
  // --force replaces the whole folder: never one that holds what this run reads or stands in.
  assertNotInside(outputDir, [['the snapshot', snapshotPath], ['the current folder', input.cwd]]);
  const context = await buildContext({
    snapshot,
    snapshotPath,
    // --code, else the folder the snapshot recorded.
    repoDir: input.codeDir !== undefined ? resolve(input.cwd, input.codeDir) : snapshot.code?.path ?? null,
    baseImage: input.baseImage,
    target: input.target,
    pythonFrom: input.pythonFrom,
    noCode: input.noCode,
    commitOnly: input.commitOnly,
    toolVersion: input.toolVersion,
    timeoutMs: input.timeoutMs,
  });
  try {
    if (context.codeRoot !== null) assertNotInside(outputDir, [['the code repository', context.codeRoot]]);
    // The folder is written from the very entries an engine would get as a tar.
    const staged = await StagedFolder.create(outputDir);
    try {
      for await (const entry of context.entries()) await staged.writeEntry(entry.name, entry);
      await staged.finishEntries();
      await staged.commit(input.force);
    } catch (error) {
      await staged.discard();
      throw error;
    }
  } finally {
    await context.dispose();
  }
  const code = context.code;
  return {
    outputDir,
    files: context.files,
    plan: { ...context.plan, warnings: context.warnings },
    code: code.included
      ? { included: true, commit: code.commit, patched: code.patched, commitOnly: code.commitOnly, submodules: code.submodules, dockerignore: code.dockerignore !== null, reason: null }
      : { included: false, commit: null, patched: false, commitOnly: false, submodules: [], dockerignore: false, reason: code.reason },
  };
}
