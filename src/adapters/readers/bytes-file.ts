// Any output without a format of its own, read for core/compare/bytes.ts: hashed as a stream (both
// sides at once), and read whole for a text diff only when both are small.
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { judgeByHash } from '../../core/compare/bytes.js';
import type { OutputReport } from '../../core/compare/model.js';
import { TEXT_DIFF_MAX_BYTES } from '../../core/compare/text-diff.js';
import { describeFsError, sha256File } from '../fs.js';

/** Reads a whole file only when it is at most maxBytes; null otherwise. */
async function readSmall(path: string, maxBytes: number): Promise<Buffer | null> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size > maxBytes) return null;
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** Compares two files by content hash; `path` is the report path (default: the candidate's file name). */
export async function compareBytesFiles(baselinePath: string, candidatePath: string, path: string = basename(candidatePath)): Promise<OutputReport> {
  // Both sides at once: two files on a disk read faster together than one after the other.
  const [left, right] = await Promise.allSettled([sha256File(baselinePath), sha256File(candidatePath)]);
  if (left.status === 'rejected') return { path, format: 'bytes', status: 'error', message: `cannot read baseline ${baselinePath}: ${describeFsError(left.reason)}` };
  if (right.status === 'rejected') return { path, format: 'bytes', status: 'error', message: `cannot read candidate ${candidatePath}: ${describeFsError(right.reason)}` };
  let contents: [Uint8Array, Uint8Array] | null = null;
  if (left.value.sha256 !== right.value.sha256 && left.value.size <= TEXT_DIFF_MAX_BYTES && right.value.size <= TEXT_DIFF_MAX_BYTES) {
    const both = await Promise.all([readSmall(baselinePath, TEXT_DIFF_MAX_BYTES), readSmall(candidatePath, TEXT_DIFF_MAX_BYTES)]).catch(() => [null, null]);
    if (both[0] && both[1]) contents = [both[0], both[1]];
  }
  return judgeByHash(path, left.value, right.value, () => contents);
}
