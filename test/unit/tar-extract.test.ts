// extractTarSafely against archives crafted with tar-stream's pack: what a container (or an engine
// in the middle) could hand us instead of a plain folder.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { extractTarSafely } from '../../src/adapters/tar-extract.js';
import { ExternalError } from '../../src/errors.js';

type Entry = Partial<tar.Header> & { name: string; content?: Buffer | string };

/** A tar archive of these entries, as a Node stream (what dockerode's getArchive gives). */
async function archive(entries: Entry[]): Promise<Readable> {
  const pack = tar.pack();
  // Read while entries are added: a large entry waits for the pack to drain.
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const { content, ...header } of entries) {
    await new Promise<void>((resolve, reject) => pack.entry(header, content ?? '', (error) => (error ? reject(error) : resolve())));
  }
  pack.finalize();
  await collected;
  return Readable.from([Buffer.concat(chunks)]);
}

let work: string;
let dest: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'snapshot-tar-'));
  dest = join(work, 'dest');
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

/** Everything under dir, as relative paths: to show nothing was written where it should not be. */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

async function refused(entries: Entry[], options = { stripFirst: true }): Promise<ExternalError> {
  const promise = extractTarSafely(await archive(entries), dest, options);
  await expect(promise).rejects.toBeInstanceOf(ExternalError);
  const error = (await promise.catch((e: unknown) => e)) as ExternalError;
  expect(error.code).toBe('OUTPUT_ARCHIVE_UNSAFE');
  return error;
}

describe('extractTarSafely', () => {
  it('extracts a nested tree byte-exact, dropping the archive\'s top folder', async () => {
    const big = randomBytes(300_000);
    const files = await extractTarSafely(
      await archive([
        { name: 'out/', type: 'directory' },
        { name: 'out/metrics.json', content: '{"loss":0.1}\n' },
        { name: 'out/model/', type: 'directory' },
        { name: 'out/model/weights.bin', content: big, mode: 0o755 },
        { name: 'out/empty/', type: 'directory' },
      ]),
      dest,
      { stripFirst: true },
    );
    expect(files).toEqual([
      { path: 'metrics.json', size: 13 },
      { path: 'model/weights.bin', size: big.length },
    ]);
    expect(readFileSync(join(dest, 'metrics.json'), 'utf8')).toBe('{"loss":0.1}\n');
    expect(readFileSync(join(dest, 'model/weights.bin')).equals(big)).toBe(true);
    expect(lstatSync(join(dest, 'model/weights.bin')).mode & 0o777).toBe(0o755);
    expect(lstatSync(join(dest, 'empty')).isDirectory()).toBe(true);
  });

  it('extracts an empty archive to an empty folder', async () => {
    await expect(extractTarSafely(await archive([]), dest, { stripFirst: true })).resolves.toEqual([]);
    expect(tree(dest)).toEqual([]);
  });

  it('keeps names as they are without stripFirst', async () => {
    await expect(extractTarSafely(await archive([{ name: 'a/b.txt', content: 'x' }]), dest)).resolves.toEqual([{ path: 'a/b.txt', size: 1 }]);
  });

  it.each([
    ['../x', 'a ".." component'],
    ['out/../../x', 'a ".." component'],
    ['out/a/../../../x', 'a ".." component'],
    ['/etc/x', 'an absolute name'],
    ['other/x', 'outside the folder out'],
  ])('refuses the entry %s and writes nothing outside', async (name, why) => {
    const error = await refused([{ name: 'out/', type: 'directory' }, { name, content: 'pwned' }]);
    expect(error.message).toContain(why);
    expect(error.message).toContain(JSON.stringify(name));
    expect(error.data).toMatchObject({ entry: name });
    expect(tree(work)).toEqual(['dest']);
  });

  it('refuses a/../../x without stripping: it leaves the folder', async () => {
    const error = extractTarSafely(await archive([{ name: 'a/../../x', content: 'pwned' }]), dest);
    await expect(error).rejects.toMatchObject({ code: 'OUTPUT_ARCHIVE_UNSAFE' });
    expect(existsSync(join(work, 'x'))).toBe(false);
  });

  it('never creates a link: one to a file of the folder becomes a copy (as capture follows it), any other is left out and named', async () => {
    const skipped: Array<[string, string]> = [];
    const files = await extractTarSafely(
      await archive([
        { name: 'out/', type: 'directory' },
        { name: 'out/ckpt-5.h5', content: 'weights' },
        // Lightning's last.ckpt, relative; a chain through another link; a hard link.
        { name: 'out/last.h5', type: 'symlink', linkname: 'ckpt-5.h5' },
        { name: 'out/sub/latest', type: 'symlink', linkname: '../last.h5' },
        { name: 'out/hard.h5', type: 'link', linkname: 'out/ckpt-5.h5' },
        // Out of the folder, absolute, to a folder, dangling, a loop: none is followed.
        { name: 'out/passwd', type: 'symlink', linkname: '/etc/passwd' },
        { name: 'out/up', type: 'symlink', linkname: '../../x' },
        { name: 'out/dir-link', type: 'symlink', linkname: 'sub' },
        { name: 'out/dangling', type: 'symlink', linkname: 'nothing' },
        { name: 'out/loop-a', type: 'symlink', linkname: 'loop-b' },
        { name: 'out/loop-b', type: 'symlink', linkname: 'loop-a' },
      ]),
      dest,
      { stripFirst: true, onSkip: (path, why) => skipped.push([path, why]) },
    );
    expect(files.map((f) => f.path)).toEqual(['ckpt-5.h5', 'hard.h5', 'last.h5', 'sub/latest']);
    for (const name of ['last.h5', 'hard.h5', 'sub/latest']) {
      expect(lstatSync(join(dest, name)).isSymbolicLink()).toBe(false);
      expect(readFileSync(join(dest, name), 'utf8')).toBe('weights');
    }
    expect(skipped.map(([path]) => path)).toEqual(['dangling', 'dir-link', 'loop-a', 'loop-b', 'passwd', 'up']);
    expect(skipped.find(([path]) => path === 'passwd')?.[1]).toMatch(/points outside the folder \(\/etc\/passwd\)/);
    expect(existsSync(join(work, 'x'))).toBe(false);
  });

  it('refuses a file written through a link of the same archive', async () => {
    await refused([
      { name: 'out/passwd', type: 'symlink', linkname: 'real' },
      { name: 'out/real', content: 'r' },
      { name: 'out/passwd', content: 'overwritten' },
    ]);
  });

  it.each(['character-device', 'block-device', 'fifo'] as const)('refuses a %s', async (type) => {
    const error = await refused([{ name: 'out/dev', type }]);
    expect(error.message).toContain(`a ${type}, not a file or folder`);
  });

  it('refuses a duplicate entry instead of overwriting the first', async () => {
    const error = await refused([
      { name: 'out/a', content: 'first' },
      { name: 'out/a', content: 'second' },
    ]);
    expect(error.message).toContain('duplicate');
    expect(readFileSync(join(dest, 'a'), 'utf8')).toBe('first');
  });

  it('does not write through a symlink already in the destination', async () => {
    const outside = join(work, 'outside');
    mkdirSync(outside);
    mkdirSync(dest);
    symlinkSync(outside, join(dest, 'sub'));
    symlinkSync(join(outside, 'f'), join(dest, 'f'));
    await refused([{ name: 'out/sub/x', content: 'pwned' }]);
    await refused([{ name: 'out/f', content: 'pwned' }]);
    expect(tree(outside)).toEqual([]);
  });

  it('refuses a file where the folder itself should be', async () => {
    const error = await refused([{ name: 'out', content: 'just a file' }]);
    expect(error.message).toContain('a file where the folder was expected');
  });

  it('stops at the byte and entry limits', async () => {
    const big = [{ name: 'out/a', content: 'x'.repeat(100) }];
    await expect(extractTarSafely(await archive(big), dest, { stripFirst: true, maxBytes: 50 })).rejects.toMatchObject({ code: 'OUTPUT_ARCHIVE_UNSAFE' });
    const many = [{ name: 'out/a', content: '1' }, { name: 'out/b', content: '2' }];
    await expect(extractTarSafely(await archive(many), join(work, 'd2'), { stripFirst: true, maxEntries: 1 })).rejects.toThrow('more than 1 entries');
  });

  it('reports a truncated archive as broken, not as a bug', async () => {
    const whole = await archive([{ name: 'out/a', content: 'x'.repeat(5000) }]);
    const bytes: Buffer[] = [];
    for await (const chunk of whole) bytes.push(chunk as Buffer);
    const cut = Readable.from([Buffer.concat(bytes).subarray(0, 1500)]);
    await expect(extractTarSafely(cut, dest, { stripFirst: true })).rejects.toMatchObject({ code: 'OUTPUT_ARCHIVE_INVALID' });
  });

  it('reports a source stream that fails', async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error('socket hang up'));
      },
    });
    await expect(extractTarSafely(failing, dest, { stripFirst: true })).rejects.toThrow('socket hang up');
  });

  it('writes into an existing destination beside what is there', async () => {
    mkdirSync(dest);
    writeFileSync(join(dest, 'keep.txt'), 'kept');
    await extractTarSafely(await archive([{ name: 'out/new.txt', content: 'n' }]), dest, { stripFirst: true });
    expect(tree(dest)).toEqual(['keep.txt', 'new.txt']);
  });
});
