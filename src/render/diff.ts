// `snapshot diff` as text: most likely to change numerics first, every value made printable.
import type { SnapshotDiffResult } from '../core/snapshot-diff.js';
import { printable } from './text.js';

export function renderSnapshotDiff(result: SnapshotDiffResult): string[] {
  const lines = [`${printable(result.a.path)} (${result.a.id}) -> ${printable(result.b.path)} (${result.b.id})`];
  if (result.differences.length === 0) return [...lines, 'No differences.'];
  const c = result.counts;
  lines.push(`${result.differences.length} difference(s): ${c.high} high, ${c.medium} medium, ${c.low} low, ${c.info} info`, '');
  const width = Math.min(48, Math.max(...result.differences.map((d) => d.field.length)));
  for (const d of result.differences) {
    lines.push(`${d.severity.padEnd(6)} ${printable(d.field).padEnd(width)}  ${printable(d.baseline ?? '(not set)')} -> ${printable(d.replay ?? '(not set)')}`);
    if (d.severity === 'high' || d.severity === 'medium') lines.push(`       ${' '.repeat(width)}  ${printable(d.why)}`);
  }
  return lines;
}
