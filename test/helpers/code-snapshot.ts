// A snapshot of a real git checkout, with its patches written and checksummed the way capture does
// (readGitState), without running capture's probes: for tests of the code layer and the context.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { readGitState } from '../../src/adapters/git.js';
import { readSnapshot, serializeSnapshot } from '../../src/adapters/snapshot-file.js';
import type { Snapshot } from '../../src/core/model.js';
import { makeSnapshot } from './snapshot-fixture.js';

/** A snapshot of `codeDir` as capture records it, with its patches in `<snapshotDir>/snapshot.bundle/`. */
export async function captureCode(codeDir: string, snapshotDir: string, overrides: Partial<Snapshot> = {}): Promise<{ snapshot: Snapshot; snapshotPath: string }> {
  const bundle = join(snapshotDir, 'snapshot.bundle');
  mkdirSync(join(bundle, 'submodules'), { recursive: true });
  const state = await readGitState(codeDir, { timeoutMs: 30_000, patchPath: join(bundle, 'code.patch'), submodulePatchPath: (i) => join(bundle, 'submodules', `${i}.patch`) });
  const git = state.git;
  if (git === null) throw new Error('not a repository');
  const snapshot = makeSnapshot({
    ...overrides,
    code: {
      path: codeDir,
      repo_root: git.root,
      in_repo: relative(git.root, codeDir).split(sep).join('/'),
      git: {
        commit: git.commit,
        branch: git.branch,
        remote_url: null,
        dirty: git.dirty,
        patch_file: state.patch ? 'snapshot.bundle/code.patch' : null,
        patch_sha256: state.patch?.sha256 ?? null,
        patch_size: state.patch?.size ?? null,
        patch_error: state.error,
        staged: git.staged,
        untracked: [],
        submodules: state.submodules.map((sub, i) => ({
          path: sub.path,
          commit: sub.commit,
          url: sub.url,
          initialized: sub.initialized,
          dirty: sub.dirty,
          patch_file: sub.patch ? `snapshot.bundle/submodules/${i}.patch` : null,
          patch_sha256: sub.patch?.sha256 ?? null,
          patch_size: sub.patch?.size ?? null,
          patch_error: sub.error,
          untracked: sub.untracked,
        })),
      },
    },
  });
  const snapshotPath = join(snapshotDir, 'snapshot.yaml');
  // Through the file, as every command reads it.
  writeFileSync(snapshotPath, serializeSnapshot(snapshot));
  return { snapshot: await readSnapshot(snapshotPath), snapshotPath };
}

