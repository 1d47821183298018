// The build precompiles the schemas (scripts/compile-schemas.mjs) so commands start fast; the
// precompiled validator must be the schema, byte for byte, and judge exactly as a run-time compile.
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { compileNow } from '../../../src/adapters/json-schema.js';
import { repoRoot } from '../../helpers/cli.js';
import { makeSnapshot } from '../../helpers/snapshot-fixture.js';

const require = createRequire(import.meta.url);

describe('precompiled schema validators', () => {
  it('match a run-time compile on valid and broken snapshots alike', () => {
    execFileSync(process.execPath, [join(repoRoot, 'scripts', 'compile-schemas.mjs')]);
    const path = join(repoRoot, 'dist', 'schemas', 'snapshot.validate.cjs');
    expect(existsSync(path)).toBe(true);
    const pre = require(path) as ((v: unknown) => boolean) & { errors?: unknown[] };
    const now = compileNow(readFileSync(join(repoRoot, 'schemas', 'snapshot.schema.json'), 'utf8'));
    const good = JSON.parse(JSON.stringify(makeSnapshot()));
    const bad = { ...good, id: 'not a uuid', packages: [{ name: 'x' }], extra: 1 };
    for (const value of [good, bad]) {
      expect(pre(value)).toBe(now(value));
      expect(pre.errors ?? null).toEqual(now.errors ?? null);
    }
    expect(pre(bad)).toBe(false);
  });
});
