// How the local engine finds this host's interpreters: each real file asked once and its answer
// kept by file stamp, version managers' shims never asked. Fake interpreters (scripts that answer
// as a Python would and count how often they are asked) show the caching; the last test asks this
// host's real Pythons.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPythons } from '../../src/adapters/probes/pythons.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'snapshot-pythons-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** A script that answers the identity question as `version`, and logs each time it is asked. */
function fakePython(path: string, version: string, log: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, `#!/bin/sh\necho asked >> '${log}'\nprintf '%s' '${version}|CPython|${path}'\n`);
  chmodSync(path, 0o755);
}

const asked = (log: string) => {
  try {
    return readFileSync(log, 'utf8').split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
};

/** A pyenv holding one fake 3.11.7, the environment that finds it, and where the cache goes. */
function fakePyenv() {
  const pyenv = join(root, 'pyenv');
  const log = join(root, 'asked.log');
  const python = join(pyenv, 'versions', '3.11.7', 'bin', 'python3.11');
  fakePython(python, '3.11.7', log);
  return { log, python, env: { HOME: join(root, 'home'), PYENV_ROOT: pyenv, PATH: '' }, cache: join(root, 'pythons.json') };
}

describe('findPythons', () => {
  test('asks each interpreter once, answers from the cache after, and asks again when the file changes', async () => {
    const { log, python, env, cache } = fakePyenv();

    const first = await findPythons(env, '3.11', cache);
    expect(first).toEqual([{ version: '3.11.7', implementation: 'CPython', path: python, origin: 'pyenv' }]);
    expect(asked(log)).toBe(1);

    const second = await findPythons(env, '3.11', cache);
    expect(second).toEqual(first);
    expect(asked(log)).toBe(1);

    // Rebuilt in place (pyenv install --force): the stamp changes, the answer is asked again.
    fakePython(python, '3.11.8', log);
    utimesSync(python, new Date(), new Date(Date.now() + 5000));
    const third = await findPythons(env, '3.11', cache);
    expect(third.map((p) => p.version)).toEqual(['3.11.8']);
    expect(asked(log)).toBe(2);
  });

  test('never asks a pyenv shim, which would only pick one of the versions already listed', async () => {
    const pyenv = join(root, 'pyenv');
    const log = join(root, 'asked.log');
    const shimLog = join(root, 'shim.log');
    fakePython(join(pyenv, 'versions', '3.11.7', 'bin', 'python3.11'), '3.11.7', log);
    fakePython(join(pyenv, 'shims', 'python3'), '3.11.7', shimLog);
    const env = { HOME: join(root, 'home'), PYENV_ROOT: pyenv, PATH: join(pyenv, 'shims') };
    const found = await findPythons(env, '3.11');
    expect(found.map((p) => p.origin)).toEqual(['pyenv']);
    expect(asked(shimLog)).toBe(0);
  });

  test('a corrupt or edited cache is asked again, not trusted', async () => {
    const { log, python, env, cache } = fakePyenv();
    for (const content of ['{not json', JSON.stringify({ version: 1, pythons: { [python]: { stamp: 'x', version: '3.11.7; rm -rf /', implementation: 'CPython', path: python } } }), JSON.stringify({ version: 2, pythons: {} })]) {
      writeFileSync(cache, content);
      const before = asked(log);
      const found = await findPythons(env, '3.11', cache);
      expect(found.map((p) => p.version)).toEqual(['3.11.7']);
      expect(asked(log)).toBe(before + 1);
    }
    // And the rewritten cache is well-formed again.
    expect(JSON.parse(readFileSync(cache, 'utf8')).pythons[python].version).toBe('3.11.7');
  });

  test("this host's real Pythons: the cached answer is the one they give", async () => {
    const cache = join(root, 'pythons.json');
    const env = { HOME: process.env.HOME, PATH: process.env.PATH, PYENV_ROOT: process.env.PYENV_ROOT };
    const asked = await findPythons(env, '3.11', cache);
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.some((p) => p.version.startsWith('3.11.'))).toBe(true);
    expect(await findPythons(env, '3.11', cache)).toEqual(asked);
  });
});
