import { describe, expect, it } from '@jest/globals';
import { capturedTree, parsePorcelainZ, parseSubmoduleStatus, stripUrlCredentials } from '../../../src/core/git.js';

describe('stripUrlCredentials', () => {
  it.each([
    ['https with user:token', 'https://alice:ghp_s3cr3t@github.com/org/repo.git', 'https://github.com/org/repo.git'],
    ['https with a token only', 'https://ghp_s3cr3t@github.com/org/repo.git', 'https://github.com/org/repo.git'],
    ['https with x-access-token', 'https://x-access-token:ghs_abc@github.com/org/repo', 'https://github.com/org/repo'],
    ['http with user:password', 'http://bob:hunter2@git.internal:8080/team/repo.git', 'http://git.internal:8080/team/repo.git'],
    ['an upper-case scheme', 'HTTPS://u:p@example.com/r', 'HTTPS://example.com/r'],
    ['ssh with a plain user', 'ssh://git@github.com/org/repo.git', 'ssh://git@github.com/org/repo.git'],
    ['ssh with user:password', 'ssh://user:pw@host.example/org/repo.git', 'ssh://user@host.example/org/repo.git'],
    ['a raw @ inside the password', 'https://u:p@ss@host.example/r.git', 'https://host.example/r.git'],
    ['scp-style', 'git@github.com:org/repo.git', 'git@github.com:org/repo.git'],
    ['file', 'file:///srv/git/repo.git', 'file:///srv/git/repo.git'],
    ['a local path', '/srv/git/repo.git', '/srv/git/repo.git'],
    ['https without credentials', 'https://github.com/org/repo.git', 'https://github.com/org/repo.git'],
    ['an @ in the path, not the authority', 'https://example.com/org/repo@v1.git', 'https://example.com/org/repo@v1.git'],
    ['surrounding whitespace', '  https://alice:tok@github.com/org/repo.git\n', 'https://github.com/org/repo.git'],
    ['whitespace without credentials', ' git@github.com:org/repo.git \n', 'git@github.com:org/repo.git'],
  ])('%s', (_name, url, expected) => {
    expect(stripUrlCredentials(url)).toBe(expected);
  });

  it('never leaves a secret behind', () => {
    for (const url of ['https://alice:ghp_s3cr3t@github.com/r', 'https://ghp_s3cr3t@github.com/r', 'http://u:ghp_s3cr3t@h/r', 'ssh://u:ghp_s3cr3t@h/r']) {
      expect(stripUrlCredentials(url)).not.toContain('ghp_s3cr3t');
    }
  });
});

describe('parsePorcelainZ', () => {
  const z = (...records: string[]) => records.map((r) => `${r}\0`).join('');

  it('reads empty output as clean', () => {
    expect(parsePorcelainZ('')).toEqual({ dirty: false, staged: [], untracked: [] });
  });

  it.each([
    ['modified in the work tree', ' M src/train.py', []],
    ['modified in the index', 'M  src/train.py', ['src/train.py']],
    ['added', 'A  src/new.py', ['src/new.py']],
    ['deleted', ' D src/old.py', []],
    ['deleted from the index', 'D  src/old.py', ['src/old.py']],
    ['unmerged', 'UU src/conflict.py', []],
    ['both added (a conflict)', 'AA src/both.py', []],
  ])('%s is dirty, and staged only when the index changed', (_name, record, staged) => {
    expect(parsePorcelainZ(z(record))).toEqual({ dirty: true, staged, untracked: [] });
  });

  it('a rename is dirty and its source record is not read as an entry of its own', () => {
    // The source path of a rename is its own NUL-terminated record, with no status code; make
    // it look like an untracked entry to prove it is skipped.
    expect(parsePorcelainZ(z('R  new name.py', '?? looks untracked.py'))).toEqual({ dirty: true, staged: ['new name.py'], untracked: [] });
    expect(parsePorcelainZ(z('RM src/b.py', 'src/a.py', '?? data/x.csv'))).toEqual({ dirty: true, staged: ['src/b.py'], untracked: ['data/x.csv'] });
  });

  it('lists untracked files, sorted, without making the tree dirty', () => {
    expect(parsePorcelainZ(z('?? z.txt', '?? a dir/b c.txt', '?? m.py'))).toEqual({ dirty: false, staged: [], untracked: ['a dir/b c.txt', 'm.py', 'z.txt'] });
  });

  it('ignores ignored files', () => {
    expect(parsePorcelainZ(z('!! build/out.bin', '!! .venv/'))).toEqual({ dirty: false, staged: [], untracked: [] });
  });

  it('keeps paths with spaces, quotes and non-ASCII verbatim (-z does not quote)', () => {
    const result = parsePorcelainZ(z(' M my file.py', '?? notes "v2".md', '?? données é.txt', '?? a'));
    expect(result).toEqual({ dirty: true, staged: [], untracked: ['a', 'données é.txt', 'notes "v2".md'] });
  });

  it('mixes everything', () => {
    const output = z(' M train.py', 'A  model.py', ' D old.py', 'R  renamed.py', 'orig.py', '?? new data.csv', '!! cache.pkl');
    expect(parsePorcelainZ(output)).toEqual({ dirty: true, staged: ['model.py', 'renamed.py'], untracked: ['new data.csv'] });
  });
});

describe('parseSubmoduleStatus', () => {
  const A = 'a'.repeat(40);
  const B = 'b'.repeat(40);
  const C = 'c'.repeat(40);
  it('reads checked-out, moved, uninitialized and nested submodules, with or without a describe', () => {
    const output = [` ${A} lib/core (v1.0-3-gaaaaaaa)`, `+${B} vendor/tool (heads/main)`, `-${C} docs/theme`, ` ${A} lib/core/nested dir`, ''].join('\n');
    expect(parseSubmoduleStatus(output)).toEqual([
      { path: 'lib/core', commit: A, initialized: true },
      { path: 'vendor/tool', commit: B, initialized: true },
      { path: 'docs/theme', commit: C, initialized: false },
      { path: 'lib/core/nested dir', commit: A, initialized: true },
    ]);
  });

  it('reads SHA-256 repositories and ignores lines it cannot read', () => {
    const long = 'd'.repeat(64);
    expect(parseSubmoduleStatus(` ${long} m\nfatal: something\n`)).toEqual([{ path: 'm', commit: long, initialized: true }]);
  });
});

describe('capturedTree', () => {
  it('is the commit for a clean tree, the commit and patch for a saved dirty tree', () => {
    expect(capturedTree({ dirty: false, patch_file: null, patch_error: null })).toEqual({ kind: 'clean' });
    expect(capturedTree({ dirty: true, patch_file: 'snapshot.bundle/code.patch', patch_error: null })).toEqual({ kind: 'patched', patchFile: 'snapshot.bundle/code.patch' });
  });

  it('is only the commit when a dirty tree was not saved, with the reason when one was recorded', () => {
    expect(capturedTree({ dirty: true, patch_file: null, patch_error: 'git diff exited with code 128' })).toEqual({ kind: 'commit-only', reason: 'git diff exited with code 128' });
    expect(capturedTree({ dirty: true, patch_file: null, patch_error: null })).toEqual({ kind: 'commit-only', reason: 'the snapshot records uncommitted changes but no patch' });
  });
});
