// Which staging folders in the venv cache count as abandoned: this host's by their builder's PID,
// another host's (a cache on a home shared over NFS) only after a day untouched.
import { describe, expect, test } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { stagingName, staleStaging } from '../../src/adapters/venv-cache.js';

describe('staleStaging', () => {
  test("this host's live and dead builders, another host's fresh and old folders, and names that say neither", async () => {
    const root = mkdtempSync(join(tmpdir(), 'snapshot-staging-'));
    try {
      const host = hostname().replace(/[^A-Za-z0-9.-]/g, '_');
      const key = 'a'.repeat(32);
      const ours = stagingName(key);
      expect(ours).toMatch(new RegExp(`^\\.staging-${key}-${host.replace(/\./g, '\\.')}-${process.pid}-[0-9a-f]{8}$`));
      const folders = {
        live: ours,
        dead: `.staging-${key}-${host}-4194000-deadbeef`,
        foreignFresh: `.staging-${key}-gpu-node-07.cluster-12345-0badcafe`,
        foreignOld: `.staging-${key}-gpu-node-08.cluster-12345-0badcafe`,
        unnamed: '.staging-whatever',
      };
      for (const name of Object.values(folders)) mkdirSync(join(root, name));
      const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600_000);
      utimesSync(join(root, folders.foreignOld), twoDaysAgo, twoDaysAgo);
      const stale = (await staleStaging(root)).map((p) => basename(p)).sort();
      expect(stale).toEqual([folders.dead, folders.foreignOld, folders.unnamed].sort());
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
