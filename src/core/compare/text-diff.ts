// A short unified diff for small text outputs (a log line, a config), so a reader sees what changed
// without opening both files. Pure: the bytes are read by src/adapters/bytes-file.ts.
import { structuredPatch } from 'diff';

/** Files larger than this get a hash comparison only. */
export const TEXT_DIFF_MAX_BYTES = 64 * 1024;
export const TEXT_DIFF_MAX_LINES = 40;

/** Text for our purposes: no NUL byte and valid UTF-8. */
export function looksLikeText(bytes: Uint8Array): boolean {
  if (bytes.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * A unified diff (`--- baseline`, `+++ candidate`, `@@ … @@` hunks with 3 lines of context), cut
 * at maxLines with a final "... N more lines" line. Empty when the texts are equal.
 */
export function unifiedTextDiff(baselineText: string, candidateText: string, options: { maxLines?: number; context?: number; baselineName?: string; candidateName?: string } = {}): string[] {
  if (baselineText === candidateText) return [];
  const maxLines = options.maxLines ?? TEXT_DIFF_MAX_LINES;
  const patch = structuredPatch(options.baselineName ?? 'baseline', options.candidateName ?? 'candidate', baselineText, candidateText, undefined, undefined, { context: options.context ?? 3 });
  const lines = [`--- ${patch.oldFileName}`, `+++ ${patch.newFileName}`];
  for (const hunk of patch.hunks) {
    lines.push(`@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`);
    lines.push(...hunk.lines);
  }
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, Math.max(1, maxLines - 1));
  kept.push(`... ${lines.length - kept.length} more lines`);
  return kept;
}
