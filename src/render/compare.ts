// Pure renderers for `snapshot compare`: a CompareReport in, text out — a terminal table, a Markdown
// CI job summary, and JUnit XML (one test case per output).
import { isOptimizerState } from '../core/compare/fold.js';
import type { CompareReport, MetricDiff, OutputReport, OutputStatus, TensorDiff, Tolerance, Verdict } from '../core/compare/model.js';
import { printable } from './text.js';

/** Non-identical tensors/metrics listed per output before "... and N more". */
export const MAX_ITEMS_PER_OUTPUT = 20;

const ANSI = { green: '\u001b[32m', cyan: '\u001b[36m', red: '\u001b[31m', yellow: '\u001b[33m', reset: '\u001b[0m' };

function paint(status: OutputStatus | Verdict | MetricDiff['status'], text: string, color: boolean): string {
  if (!color) return text;
  const code =
    status === 'identical' ? ANSI.green : status === 'equivalent' ? ANSI.cyan : status === 'different' || status === 'missing' ? ANSI.red : status === 'error' ? ANSI.yellow : null;
  return code === null ? text : `${code}${text}${ANSI.reset}`;
}

/** A number for people: integers as they are, others to 6 significant digits; null as '-'. */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined) return '-';
  if (Number.isNaN(value)) return 'nan';
  if (Object.is(value, -0)) return '-0';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e15)) return value.toExponential(3);
  return String(Number(value.toPrecision(6)));
}

function formatValue(value: unknown): string {
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return '-';
  return JSON.stringify(value) ?? String(value);
}

function formatDifference(value: number | null): string {
  if (value === null) return '-';
  return value > 0 ? `+${formatNumber(value)}` : formatNumber(value);
}

export function formatTolerance(t: Tolerance | null): string {
  if (t === null) return 'exact';
  const direction = 'greater_is_better' in t && typeof t.greater_is_better === 'boolean' ? (t.greater_is_better ? ', higher is better' : ', lower is better') : '';
  const nan = t.nan_equal ? '' : ', NaN != NaN';
  if (t.mode === 'allclose') return `allclose rtol=${t.rtol} atol=${t.atol}${nan}${direction}`;
  return `${t.mode}${nan}${direction}`;
}

function shapeText(shape: number[]): string {
  return `[${shape.join(', ')}]`;
}

function sidePair<T>(pair: { baseline: T; candidate: T }, show: (v: T) => string): string {
  const b = show(pair.baseline);
  const c = show(pair.candidate);
  return b === c ? b : `${b} -> ${c}`;
}

function mismatchText(t: TensorDiff): string {
  return `${t.mismatched}/${t.elements} (${(t.mismatched_fraction * 100).toFixed(2)}%)`;
}

function tensorName(t: TensorDiff): string {
  return t.name === '' ? '(array)' : t.name;
}

const SEVERITY: Record<string, number> = { error: 0, missing: 1, different: 2, extra: 3, equivalent: 4, identical: 5 };

/** The items worth a line, out-of-tolerance first; identical ones are only counted. */
function nonIdentical<T extends { status: string }>(items: readonly T[] | undefined): T[] {
  return (items ?? []).filter((item) => item.status !== 'identical').sort((a, b) => (SEVERITY[a.status] ?? 9) - (SEVERITY[b.status] ?? 9));
}

/** Tensors in the groups a reader looks for: the model's weights, then its optimizer state. */
function tensorGroups(tensors: readonly TensorDiff[] | undefined): Array<{ title: string | null; all: TensorDiff[]; shown: TensorDiff[] }> {
  const list = tensors ?? [];
  const optimizer = list.filter((t) => isOptimizerState(t.name));
  if (optimizer.length === 0) return [{ title: null, all: [...list], shown: nonIdentical(list) }];
  const model = list.filter((t) => !isOptimizerState(t.name));
  return [
    { title: 'weights', all: model, shown: nonIdentical(model) },
    { title: 'optimizer state', all: optimizer, shown: nonIdentical(optimizer) },
  ];
}

/** A one-line description of why an output is what it is: its message, else counts of what is not identical. */
export function outputDetail(o: OutputReport): string {
  if (o.message) return o.message;
  const parts: string[] = [];
  const tensors = nonIdentical(o.tensors);
  if (tensors.length > 0) parts.push(`${tensors.length} of ${o.tensors?.length ?? 0} tensors not identical`);
  const metrics = nonIdentical(o.metrics);
  if (metrics.length > 0) parts.push(`${metrics.length} ${metrics.length === 1 ? 'item' : 'items'} not identical`);
  return parts.join('; ');
}

function tensorLine(t: TensorDiff, color: boolean): string {
  return (
    `${paint(t.status, t.status, color)} tensor ${printable(tensorName(t))}  shape ${sidePair(t.shape, shapeText)}  dtype ${printable(sidePair(t.dtype, (d) => d || '-'))}` +
    `  max abs diff ${formatNumber(t.max_abs_diff)}  max rel diff ${formatNumber(t.max_rel_diff)}  mismatched ${mismatchText(t)}` +
    `  first mismatch ${t.first_mismatch === null ? '-' : shapeText(t.first_mismatch)}  tolerance ${formatTolerance(t.tolerance)}${t.message ? `  (${printable(t.message)})` : ''}`
  );
}

/**
 * The detail lines of one output (no header), indented by four spaces. Out-of-tolerance items come
 * first; identical tensors are folded into a count, so a model with thousands of them stays readable.
 * Everything that comes from the outputs (names, keys, text) is printed terminal-safe.
 */
export function outputLines(o: OutputReport, color: boolean): string[] {
  const lines: string[] = [];
  const indent = '    ';
  const push = (text: string) => lines.push(`${indent}${printable(text)}`);
  if (o.message) push(o.message);
  for (const group of tensorGroups(o.tensors)) {
    if (group.all.length === 0) continue;
    const identical = group.all.length - group.shown.length;
    if (group.title !== null) push(`${group.title}: ${group.all.length} tensors, ${identical} identical`);
    for (const t of group.shown.slice(0, MAX_ITEMS_PER_OUTPUT)) lines.push(`${indent}${group.title === null ? '' : '  '}${tensorLine(t, color)}`);
    if (group.shown.length > MAX_ITEMS_PER_OUTPUT) push(`${group.title === null ? '' : '  '}... and ${group.shown.length - MAX_ITEMS_PER_OUTPUT} more not identical`);
    if (group.title === null && identical > 0 && group.shown.length > 0) push(`${identical} other tensor${identical === 1 ? '' : 's'} identical`);
  }
  const metrics = nonIdentical(o.metrics);
  for (const m of metrics.slice(0, MAX_ITEMS_PER_OUTPUT)) {
    lines.push(
      `${indent}${paint(m.status, m.status, color)} ${printable(m.key)}  baseline ${printable(formatValue(m.baseline))}  candidate ${printable(formatValue(m.candidate))}` +
        `  difference ${formatDifference(m.difference)}  tolerance ${formatTolerance(m.tolerance)}${m.message ? `  (${printable(m.message)})` : ''}`,
    );
    for (const line of m.text_diff ?? []) push(`  ${line}`);
  }
  if (metrics.length > MAX_ITEMS_PER_OUTPUT) push(`... and ${metrics.length - MAX_ITEMS_PER_OUTPUT} more`);
  if (o.status !== 'identical' && o.text_diff && o.text_diff.length > 0) for (const line of o.text_diff) push(line);
  if (o.ignored && o.ignored.length > 0) push(`ignored: ${o.ignored.join('; ')}`);
  return lines;
}

export function summaryLine(report: CompareReport): string {
  const s = report.summary;
  const ignored = s.ignored > 0 ? `, ${s.ignored} ignored` : '';
  return `${report.verdict}: ${s.outputs} output${s.outputs === 1 ? '' : 's'} — ${s.identical} identical, ${s.equivalent} equivalent, ${s.different} different, ${s.missing} missing, ${s.extra} extra, ${s.error} error${s.error === 1 ? '' : 's'}${ignored}`;
}

export function renderCompareTable(report: CompareReport, options: { color: boolean }): string[] {
  const { color } = options;
  const lines: string[] = [];
  const width = Math.max(10, ...report.outputs.map((o) => o.status.length));
  for (const o of report.outputs) {
    lines.push(`${paint(o.status, o.status.padEnd(width), color)}  ${printable(o.path)}  (${o.format})`);
    lines.push(...outputLines(o, color));
  }
  if (report.outputs.length > 0) lines.push('');
  lines.push(paint(report.verdict, summaryLine(report), color));
  return lines;
}

// ---------------------------------------------------------------- Markdown

/**
 * Safe inside Markdown text and table cells: emphasis, code, link and table characters escaped,
 * HTML characters as entities, control characters visible, one line.
 */
export function escapeMarkdown(text: string): string {
  return printable(text.replace(/\r?\n/g, ' '))
    .replace(/\\/g, '\\\\')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([|`*_~[\]#])/g, '\\$1');
}

const VERDICT_MARK: Record<Verdict, string> = { identical: '✅', equivalent: '✅', different: '❌', error: '⚠️' };

function mdRow(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function mdTable(header: string[], rows: string[][]): string[] {
  return [mdRow(header), mdRow(header.map(() => '---')), ...rows.map(mdRow)];
}

function fence(lines: string[]): string {
  const longest = Math.max(0, ...lines.map((l) => Math.max(0, ...(l.match(/`+/g) ?? []).map((run) => run.length))));
  return '`'.repeat(Math.max(3, longest + 1));
}

export function renderMarkdown(report: CompareReport): string {
  const e = escapeMarkdown;
  const s = report.summary;
  const out: string[] = [];
  out.push(`## ${VERDICT_MARK[report.verdict]} snapshot compare: ${report.verdict}`, '');
  out.push(`Baseline: ${e(report.baseline)}  `, `Candidate: ${e(report.candidate)}  `, `Policy: ${report.policy === null ? 'defaults' : e(report.policy)}`, '');
  out.push(...mdTable(['Outputs', 'Identical', 'Equivalent', 'Different', 'Missing', 'Extra', 'Errors', 'Ignored'], [[s.outputs, s.identical, s.equivalent, s.different, s.missing, s.extra, s.error, s.ignored].map(String)]), '');
  if (report.outputs.length > 0) {
    out.push('### Outputs', '');
    out.push(...mdTable(['Status', 'Path', 'Format', 'Detail'], report.outputs.map((o) => [o.status, e(o.path), o.format, e(outputDetail(o))])), '');
  }
  const notIdentical = report.outputs.filter((o) => o.status !== 'identical');
  if (notIdentical.length > 0) out.push('### Details', '');
  for (const o of notIdentical) {
    out.push(`#### ${e(o.path)}: ${o.status}`, '');
    if (o.message) out.push(e(o.message), '');
    for (const group of tensorGroups(o.tensors)) {
      const tensors = group.shown;
      if (tensors.length === 0) continue;
      if (group.title !== null) out.push(`${group.title}: ${group.all.length} tensors, ${group.all.length - tensors.length} identical`, '');
      const rows = tensors.slice(0, MAX_ITEMS_PER_OUTPUT).map((t) => [
        e(tensorName(t)),
        t.status,
        e(sidePair(t.shape, shapeText)),
        e(sidePair(t.dtype, (d) => d || '-')),
        formatNumber(t.max_abs_diff),
        formatNumber(t.max_rel_diff),
        mismatchText(t),
        t.first_mismatch === null ? '-' : shapeText(t.first_mismatch),
        e(formatTolerance(t.tolerance)),
        e(t.message ?? ''),
      ]);
      out.push(...mdTable(['Tensor', 'Status', 'Shape', 'Dtype', 'Max abs diff', 'Max rel diff', 'Mismatched', 'First mismatch', 'Tolerance', 'Note'], rows));
      if (tensors.length > MAX_ITEMS_PER_OUTPUT) out.push('', `... and ${tensors.length - MAX_ITEMS_PER_OUTPUT} more not identical`);
      const identical = group.all.length - tensors.length;
      if (group.title === null && identical > 0) out.push('', `${identical} other tensor${identical === 1 ? '' : 's'} identical`);
      out.push('');
    }
    const metrics = nonIdentical(o.metrics);
    if (metrics.length > 0) {
      const rows = metrics.slice(0, MAX_ITEMS_PER_OUTPUT).map((m) => [e(m.key), m.status, e(formatValue(m.baseline)), e(formatValue(m.candidate)), formatDifference(m.difference), e(formatTolerance(m.tolerance)), e(m.message ?? '')]);
      out.push(...mdTable(['Key', 'Status', 'Baseline', 'Candidate', 'Difference', 'Tolerance', 'Note'], rows));
      if (metrics.length > MAX_ITEMS_PER_OUTPUT) out.push('', `... and ${metrics.length - MAX_ITEMS_PER_OUTPUT} more`);
      out.push('');
    }
    if (o.text_diff && o.text_diff.length > 0) {
      const lines = o.text_diff.map(printable);
      const f = fence(lines);
      out.push(`${f}diff`, ...lines, f, '');
    }
    if (o.ignored && o.ignored.length > 0) out.push(`Ignored: ${o.ignored.map(e).join('; ')}`, '');
  }
  out.push(e(summaryLine(report)));
  return `${out.join('\n')}\n`;
}
