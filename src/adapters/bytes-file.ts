// Any output without a format of its own: identical iff the sha256 matches; a small text file that
// differs gets a short unified diff.
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import type { OutputReport } from '../core/compare/model.js';
import { looksLikeText, TEXT_DIFF_MAX_BYTES, unifiedTextDiff } from '../core/compare/text-diff.js';
import { describeFsError, sha256File } from './fs.js';

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
  const [base, cand] = [left.value, right.value];
  const bytes = { baseline_sha256: base.sha256, candidate_sha256: cand.sha256, baseline_size: base.size, candidate_size: cand.size };
  if (base.sha256 === cand.sha256) return { path, format: 'bytes', status: 'identical', bytes };
  const report: OutputReport = {
    path,
    format: 'bytes',
    status: 'different',
    message: base.size === cand.size ? `content differs (same size, ${base.size} bytes)` : `content differs (${base.size} bytes in the baseline, ${cand.size} in the candidate)`,
    bytes,
  };
  if (base.size <= TEXT_DIFF_MAX_BYTES && cand.size <= TEXT_DIFF_MAX_BYTES) {
    const [a, b] = await Promise.all([readSmall(baselinePath, TEXT_DIFF_MAX_BYTES), readSmall(candidatePath, TEXT_DIFF_MAX_BYTES)]).catch(() => [null, null]);
    if (a && b && looksLikeText(a) && looksLikeText(b)) {
      report.text_diff = unifiedTextDiff(a.toString('utf8'), b.toString('utf8'));
    }
  }
  return report;
}
