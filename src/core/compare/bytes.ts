// Outputs without a format of their own, judged by content: identical iff the bytes are; a small
// text file that differs gets a short unified diff. Pure: the adapter reads the bytes (whole for
// small files, streamed and hashed for large ones).
import { createHash } from 'node:crypto';
import type { OutputReport } from './model.js';
import { looksLikeText, TEXT_DIFF_MAX_BYTES, unifiedTextDiff } from './text-diff.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Two whole small files. */
export function compareByteContents(path: string, baseline: Uint8Array, candidate: Uint8Array): OutputReport {
  const [ha, hb] = [sha256(baseline), sha256(candidate)];
  return judgeByHash(path, { sha256: ha, size: baseline.length }, { sha256: hb, size: candidate.length }, () => [baseline, candidate]);
}

/** Two files by their hashes; `contents` gives both sides' bytes when they are small enough for a text diff. */
export function judgeByHash(
  path: string,
  base: { sha256: string; size: number },
  cand: { sha256: string; size: number },
  contents: () => [Uint8Array, Uint8Array] | null,
): OutputReport {
  const bytes = { baseline_sha256: base.sha256, candidate_sha256: cand.sha256, baseline_size: base.size, candidate_size: cand.size };
  if (base.sha256 === cand.sha256 && base.size === cand.size) return { path, format: 'bytes', status: 'identical', bytes };
  const report: OutputReport = {
    path,
    format: 'bytes',
    status: 'different',
    message: base.size === cand.size ? `content differs (same size, ${base.size} bytes)` : `content differs (${base.size} bytes in the baseline, ${cand.size} in the candidate)`,
    bytes,
  };
  if (base.size <= TEXT_DIFF_MAX_BYTES && cand.size <= TEXT_DIFF_MAX_BYTES) {
    const both = contents();
    if (both && looksLikeText(both[0]) && looksLikeText(both[1])) {
      report.text_diff = unifiedTextDiff(Buffer.from(both[0]).toString('utf8'), Buffer.from(both[1]).toString('utf8'));
    }
  }
  return report;
}
