import { describe, expect, it } from '@jest/globals';
import { compareKeys, CONTEXT_MTIME, linkTargetProblem, normaliseMode, orderKey, parentsOf, parseDockerignore, treePathProblem, type EntryKind } from '../../../src/core/code-tree.js';

describe('normaliseMode', () => {
  it('keeps only what git knows: executable or not, folder, link', () => {
    expect(normaliseMode('file', 0o664)).toBe(0o644);
    expect(normaliseMode('file', 0o600)).toBe(0o644);
    expect(normaliseMode('file', 0o775)).toBe(0o755);
    expect(normaliseMode('file', 0o700)).toBe(0o755);
    expect(normaliseMode('directory', 0o700)).toBe(0o755);
    expect(normaliseMode('symlink', 0o755)).toBe(0o777);
  });
});

describe('orderKey', () => {
  const sorted = (entries: Array<[string, EntryKind]>) => [...entries].sort(([a, ka], [b, kb]) => compareKeys(orderKey(a, ka), orderKey(b, kb))).map(([p]) => p);

  it("is git's tree order: a folder sorts as its name with '/', so sub.py comes before sub/'s files", () => {
    expect(
      sorted([
        ['sub/a', 'file'],
        ['sub', 'directory'],
        ['sub.py', 'file'],
        ['sub-x', 'file'],
        ['Dockerfile', 'file'],
        ['code', 'directory'],
      ]),
    ).toEqual(['Dockerfile', 'code', 'sub-x', 'sub.py', 'sub', 'sub/a']);
  });

  it('compares UTF-8 bytes, not UTF-16 units (an astral character sorts after U+FFxx, as in git)', () => {
    expect(sorted([['\u{1F600}', 'file'], ['\uff01', 'file']])).toEqual(['\uff01', '\u{1F600}']);
    // JavaScript's own comparison says the opposite:
    expect('\u{1F600}' < '\uff01').toBe(true);
  });

  it('puts the context top level in the order the tar holds it', () => {
    expect(sorted([['snapshot_probe.py', 'file'], ['snapshot.yaml', 'file'], ['requirements.txt', 'file'], ['code', 'directory'], ['keras.json', 'file'], ['Dockerfile', 'file']])).toEqual([
      'Dockerfile',
      'code',
      'keras.json',
      'requirements.txt',
      'snapshot.yaml',
      'snapshot_probe.py',
    ]);
  });
});

describe('treePathProblem', () => {
  it('accepts ordinary names, spaces, unicode and dots inside names', () => {
    for (const ok of ['a', 'a/b.py', 'with space/ü.txt', '..data/x', 'a..b', '.github/workflows/ci.yml', '.gitignore']) expect([ok, treePathProblem(ok)]).toEqual([ok, null]);
  });

  it('refuses what could land outside code/ or is not the name git stored', () => {
    const cases: Record<string, RegExp> = {
      '': /empty/,
      '/etc/passwd': /absolute/,
      '../x': /"\.\." segment/,
      'a/../../x': /"\.\." segment/,
      'a/./b': /"\." segment/,
      'a//b': /"" segment/,
      '.git/hooks/post-checkout': /\.git segment/,
      'sub/.GIT/config': /\.git segment/,
      'bad\ufffdname': /not valid UTF-8/,
      'nul\0x': /NUL/,
    };
    for (const [path, why] of Object.entries(cases)) expect([path, treePathProblem(path)]).toEqual([path, expect.stringMatching(why)]);
  });
});

describe('linkTargetProblem', () => {
  it('lets a link point anywhere (it stays a link), but only as text', () => {
    expect(linkTargetProblem('../../etc/passwd')).toBeNull();
    expect(linkTargetProblem('/usr/lib/x')).toBeNull();
    expect(linkTargetProblem('')).toMatch(/empty/);
    expect(linkTargetProblem('a\ufffd')).toMatch(/UTF-8/);
  });
});

describe('parseDockerignore', () => {
  it("follows Docker's rules: folders, re-inclusion with !, root-only globs, **, comments", () => {
    const rules = parseDockerignore('# build outputs\n\ndata\n!data/keep.txt\n*.log\nnotes/**/*.md\n  /secrets  \r\n');
    expect(rules.patterns).toEqual(['data', '!data/keep.txt', '*.log', 'notes/**/*.md', '/secrets']);
    const ignored = ['data', 'data/a.csv', 'data/sub/b.csv', 'train.log', 'notes/a/b/c.md', 'secrets', 'secrets/key'];
    const kept = ['data/keep.txt', 'logs/train.log', 'notes/readme.txt', 'train.py', 'database.py'];
    for (const path of ignored) expect([path, rules.ignores(path)]).toEqual([path, true]);
    for (const path of kept) expect([path, rules.ignores(path)]).toEqual([path, false]);
  });
});

describe('parentsOf and CONTEXT_MTIME', () => {
  it('lists the folders above a path, outermost first', () => {
    expect(parentsOf('a/b/c.txt')).toEqual(['a', 'a/b']);
    expect(parentsOf('c.txt')).toEqual([]);
  });

  it('dates every entry 1980-01-01, which zip tools still accept', () => {
    expect(CONTEXT_MTIME.toISOString()).toBe('1980-01-01T00:00:00.000Z');
  });
});
