// The zip reader's promise: a corrupt entry is an error for whoever reads it, never an unhandled
// 'error' event that kills the process, however long the reader takes to start.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ZipArchive } from '../../../src/adapters/readers/zip.js';
import { runProcess } from '../../../src/adapters/process.js';

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'snapshot-zip-'));
  // A real deflated archive made by Python's zipfile, then its compressed data overwritten.
  const made = await runProcess('python3', ['-c', `import zipfile; z = zipfile.ZipFile('${join(dir, 'bad.zip')}', 'w', zipfile.ZIP_DEFLATED); z.writestr('a.bin', bytes(range(256)) * 400); z.close()`]);
  expect(made.outcome).toBe('ok');
  const raw = readFileSync(join(dir, 'bad.zip'));
  raw.fill(0xff, 40, 90);
  writeFileSync(join(dir, 'bad.zip'), raw);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ZipArchive', () => {
  it('holds a corrupt entry error until the stream is read', async () => {
    const archive = await ZipArchive.open(join(dir, 'bad.zip'));
    try {
      const stream = await archive.openStream('a.bin');
      // Let the decompression fail before anyone reads: wait for the failure itself, however long it takes.
      await new Promise((resolve) => stream.once('error', resolve));
      const read = async () => {
        for await (const chunk of stream) void chunk;
      };
      await expect(read()).rejects.toThrow(/cannot read entry a\.bin of zip archive .*bad\.zip/);
    } finally {
      archive.close();
    }
  });

  it('names the file when it is not a zip at all', async () => {
    writeFileSync(join(dir, 'notzip.npz'), 'hello');
    await expect(ZipArchive.open(join(dir, 'notzip.npz'))).rejects.toThrow(/not a zip archive \(corrupt or truncated\): .*notzip\.npz/);
  });
});
