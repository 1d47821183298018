// How a replay reads: the verdict and its cause first, then what differed in the environment, the
// outputs, and the build and run facts. Text, Markdown and JUnit; every value from the snapshot,
// the engine or the container is made printable (or escaped) before it is shown.
import type { ReplayReport } from '../core/replay/report.js';
import type { SnapshotDifference } from '../core/snapshot-diff.js';
import { escapeMarkdown, renderCompareTable, renderMarkdown as renderCompareMarkdown } from './compare.js';
import { findingLines, printable } from './text.js';
import { formatSeconds as seconds } from '../core/units.js';
import { renderRepeat, renderReplayReload } from './record.js';


const SHOWN_CAUSES = 5;
const SHOWN_DIFFERENCES = 12;

function differenceLine(d: SnapshotDifference): string {
  return `${d.severity.padEnd(6)} ${d.field}: ${d.baseline ?? '(not set)'} -> ${d.replay ?? '(not set)'}`;
}

export function renderReplay(report: ReplayReport, options: { color: boolean }): string[] {
  const lines: string[] = [];
  const verdict = report.verdict.toUpperCase();
  const paint = (text: string) => {
    if (!options.color) return text;
    const code = report.verdict === 'identical' || report.verdict === 'equivalent' ? 32 : report.verdict === 'different' ? 31 : 33;
    return `\u001b[${code}m${text}\u001b[0m`;
  };
  lines.push(`${paint(verdict)}: ${printable(report.conclusion)}`);
  if (report.failure) {
    lines.push(`  ${printable(report.failure.code)} at ${report.failure.stage}: ${printable(report.failure.message)}`);
    if (report.failure.hint) lines.push(`  Hint: ${printable(report.failure.hint)}`);
    if (report.failure.log_tail.length > 0) {
      lines.push('  Last lines of the log:');
      for (const line of report.failure.log_tail) lines.push(`    ${printable(line)}`);
    }
  }
  if (report.causes.length > 0) {
    lines.push('', 'Likely causes, most likely first');
    report.causes.slice(0, SHOWN_CAUSES).forEach((c, i) => lines.push(`  ${i + 1}. ${printable(c.message)}`));
    if (report.causes.length > SHOWN_CAUSES) lines.push(`  ... and ${report.causes.length - SHOWN_CAUSES} more (--json lists them all)`);
  }
  const notable = report.differences.filter((d) => d.severity !== 'info');
  lines.push('', `Environment: ${notable.length === 0 ? 'no difference that changes numerics' : `${notable.length} difference(s) from the captured one`}`);
  for (const d of notable.slice(0, SHOWN_DIFFERENCES)) lines.push(`  ${printable(differenceLine(d))}`);
  if (notable.length > SHOWN_DIFFERENCES) lines.push(`  ... and ${notable.length - SHOWN_DIFFERENCES} more (snapshot diff, or --json)`);
  if (report.environment.hardware_crossed) lines.push('  ! the comparison crossed hardware classes (GPU at capture, CPU here, or the reverse)');
  if (report.data.skipped) lines.push('  ! the data was not checked against its captured sha256 (--no-verify-data)');
  if (report.compare) {
    lines.push('', 'Outputs');
    for (const line of renderCompareTable(report.compare, options)) lines.push(`  ${line}`);
  }
  if (report.reload) lines.push('', 'Saved models', ...renderReplayReload(report.reload));
  const warned = (report.baseline?.findings ?? []).filter((f) => f.level === 'warning');
  if (report.baseline?.repeat || warned.length > 0) {
    lines.push('', 'The baseline itself');
    if (report.baseline.repeat) lines.push(...renderRepeat(report.baseline.repeat));
    else lines.push('  run to run: not checked where it was captured (capture --repeat 2 tells whether the training gives the same outputs twice)');
    for (const f of warned.slice(0, 5)) lines.push(...findingLines(f));
    if (warned.length > 5) lines.push(`  ... and ${warned.length - 5} more (snapshot show)`);
  }
  lines.push('', 'Replay');
  lines.push(`  engine     ${printable(report.engine.kind)} at ${printable(report.engine.where)}`);
  const facts = report.environment.facts;
  if (typeof facts.image_id === 'string') lines.push(`  image      ${printable(facts.image_id)} from ${printable(String(facts.base_image ?? '?'))}${facts.base_digest ? ` (${printable(String(facts.base_digest))})` : ''}`);
  if (report.run) lines.push(`  run        ${printable(report.run.command)} in ${printable(report.run.workdir)}: exit ${report.run.exit_code ?? report.run.signal ?? '?'}${report.run.oom_killed ? ' (out of memory)' : ''}${report.run.timed_out ? ' (timed out)' : ''}, ${seconds(report.run.duration_ms)}`);
  lines.push(`  gpus       ${printable(report.environment.gpus)}`);
  const d = report.durations;
  lines.push(`  durations  build ${seconds(d.prepare_ms)}, data ${seconds(d.verify_ms)}, run ${seconds(d.run_ms)}, probe ${seconds(d.probe_ms)}, compare ${seconds(d.compare_ms)}${d.reload_ms ? `, reload ${seconds(d.reload_ms)} (beside the probe)` : ''}; total ${seconds(d.total_ms)}`);
  lines.push(`  folder     ${printable(report.folder)}`);
  return lines;
}

export function renderReplayMarkdown(report: ReplayReport): string {
  const icon = report.verdict === 'identical' || report.verdict === 'equivalent' ? '✅' : report.verdict === 'different' ? '❌' : '⚠️';
  const out: string[] = [`## ${icon} snapshot replay: ${report.verdict}`, '', escapeMarkdown(report.conclusion), ''];
  if (report.failure) out.push(`**${escapeMarkdown(report.failure.code)}** at ${report.failure.stage}: ${escapeMarkdown(report.failure.message)}`, '');
  if (report.causes.length > 0) {
    out.push('### Likely causes', '');
    report.causes.slice(0, SHOWN_CAUSES).forEach((c, i) => out.push(`${i + 1}. ${escapeMarkdown(c.message)}`));
    out.push('');
  }
  const notable = report.differences.filter((x) => x.severity !== 'info');
  if (notable.length > 0) {
    out.push('### Environment differences', '', '| severity | field | captured | replay |', '|---|---|---|---|');
    for (const x of notable.slice(0, 30)) out.push(`| ${x.severity} | ${escapeMarkdown(x.field)} | ${escapeMarkdown(x.baseline ?? '')} | ${escapeMarkdown(x.replay ?? '')} |`);
    out.push('');
  }
  if (report.compare) out.push(renderCompareMarkdown(report.compare));
  if (report.reload) {
    out.push('', "### The baseline's saved models, reloaded without retraining", '', escapeMarkdown(report.reload.message), '');
    if (report.reload.models.length > 0) {
      out.push('| model | format | verdict | detail |', '|---|---|---|---|');
      for (const m of report.reload.models) out.push(`| ${escapeMarkdown(m.path)} | ${m.format} | ${m.status} | ${escapeMarkdown(m.message)} |`);
      out.push('');
    }
  }
  if (report.baseline?.repeat) out.push('', `**Run to run where it was captured:** ${report.baseline.repeat.verdict} over ${report.baseline.repeat.runs} runs: ${escapeMarkdown(report.baseline.repeat.message)}`, '');
  return `${out.join('\n')}\n`;
}
