// doctor's checks as lines: each ok / warn / fail with its reason, then what the determinism rules
// find in the snapshot (each with its fix), then the verdict.
import type { DoctorReport } from '../core/replay/report.js';
import { findingLines, printable } from './text.js';

export function renderDoctor(report: DoctorReport): string[] {
  const mark = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' } as const;
  const lines = [`Engine ${printable(report.engine.endpoint)} (${printable(report.engine.source)})${report.snapshot ? `, for ${printable(report.snapshot)}` : ''}, GPUs: ${report.gpus}`];
  for (const c of report.checks) lines.push(`  ${mark[c.status]} ${c.name}: ${printable(c.message)}`);
  if (report.findings.length > 0) {
    lines.push(`Determinism findings for ${printable(report.snapshot ?? 'the snapshot')} (a replay may differ):`);
    for (const finding of report.findings) lines.push(...findingLines(finding));
  }
  lines.push(report.status === 'fail' ? 'Not ready: fix the failing check.' : report.status === 'warn' ? 'Ready, with warnings.' : 'Ready.');
  return lines;
}
