// CSV tables (a Keras CSVLogger file, a predictions table): same header and row count, then cell by
// cell — numeric columns against the column's rule, other cells exactly. Only the cells that are not
// identical are listed, with counts in the message, so a 100 000-row log stays a short report.
import { parse } from 'csv-parse/sync';
import { numberFromToken, type JsonNumber } from './json-cursor.js';
import { compareNumbers } from './metrics.js';
import type { MetricDiff } from './model.js';
import { formatMetricPath, type MetricRules } from './policy.js';

export interface CsvComparison {
  status: 'identical' | 'equivalent' | 'different' | 'error';
  metrics: MetricDiff[];
  message?: string;
}

/** At most this many non-identical cells are listed; the message still counts them all. */
export const MAX_LISTED_CELLS = 200;

const NON_FINITE = /^[+-]?(nan|inf|infinity)$/i;

/**
 * A cell as a number: decimals (integers beyond 2^53 exactly, as bigints), and nan/inf/infinity in
 * any case with an optional sign (numpy and pandas spell them so).
 */
export function parseNumericCell(cell: string): JsonNumber | null {
  const text = cell.trim();
  if (text === '') return null;
  if (NON_FINITE.test(text)) {
    const lower = text.toLowerCase().replace(/^\+/, '');
    if (lower.endsWith('nan')) return Number.NaN;
    return lower.startsWith('-') ? -Infinity : Infinity;
  }
  // Number('') and Number('0x10') are too lenient: only decimal notation counts.
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return null;
  if (/^[+-]?\d+$/.test(text)) return numberFromToken(text.replace(/^\+/, ''));
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A table's bytes as text, strictly: bytes that are not UTF-8 are refused (Python's csv module on a
 * UTF-8 file refuses them too), never replaced by U+FFFD, which would make two different cells equal.
 * Null when they are not UTF-8.
 */
export function decodeTableText(bytes: Uint8Array): string | null {
  try {
    return UTF8.decode(bytes);
  } catch {
    return null;
  }
}

function parseTable(text: string): string[][] {
  return parse(text, { bom: true, skip_empty_lines: true, relax_column_count: false }) as string[][];
}

export function compareCsv(baselineText: string, candidateText: string, rules: MetricRules): CsvComparison {
  let base: string[][];
  let cand: string[][];
  try {
    base = parseTable(baselineText);
  } catch (error) {
    return { status: 'error', metrics: [], message: `baseline is not valid CSV: ${(error as Error).message}` };
  }
  try {
    cand = parseTable(candidateText);
  } catch (error) {
    return { status: 'error', metrics: [], message: `candidate is not valid CSV: ${(error as Error).message}` };
  }
  const baseHeader = base[0] ?? [];
  const candHeader = cand[0] ?? [];
  if (baseHeader.length !== candHeader.length || baseHeader.some((name, i) => name !== candHeader[i])) {
    return { status: 'different', metrics: [], message: `header differs: baseline [${baseHeader.join(', ')}], candidate [${candHeader.join(', ')}]` };
  }
  const baseRows = base.slice(1);
  const candRows = cand.slice(1);
  if (baseRows.length !== candRows.length) {
    return { status: 'different', metrics: [], message: `row count differs: baseline ${baseRows.length}, candidate ${candRows.length}` };
  }

  const columns = baseHeader.map((name, index) => {
    const cells = [...baseRows, ...candRows].map((row) => row[index] ?? '');
    const numeric = cells.some((cell) => cell.trim() !== '') && cells.every((cell) => cell.trim() === '' || parseNumericCell(cell) !== null);
    return { name, index, numeric };
  });

  const listed: MetricDiff[] = [];
  const counts = { numeric: 0, numericDifferent: 0, numericEquivalent: 0, text: 0, textDifferent: 0 };
  const differingColumns = new Set<string>();
  let notIdentical = 0;
  for (const column of columns) {
    // A cell's key path is [column, row]: a rule for the column covers its cells.
    const ruleOf = rules.elementRules([column.name]);
    for (let row = 0; row < baseRows.length; row++) {
      const rule = ruleOf(row);
      const b = baseRows[row]?.[column.index] ?? '';
      const c = candRows[row]?.[column.index] ?? '';
      const key = formatMetricPath([column.name, row]);
      let diff: MetricDiff;
      const nb = column.numeric ? parseNumericCell(b) : null;
      const nc = column.numeric ? parseNumericCell(c) : null;
      if (nb !== null && nc !== null) {
        counts.numeric++;
        const result = compareNumbers(nb, nc, rule);
        if (result.status === 'different') counts.numericDifferent++;
        if (result.status === 'equivalent') counts.numericEquivalent++;
        const shown = (v: JsonNumber) => (typeof v === 'bigint' ? v.toString() : v);
        diff = { key, status: result.status, baseline: shown(nb), candidate: shown(nc), difference: result.difference, tolerance: rule, ...(result.message && result.status !== 'identical' ? { message: result.message } : {}) };
      } else {
        // Text cells, and an empty cell in a numeric column: exact.
        counts.text++;
        const same = b === c;
        if (!same) counts.textDifferent++;
        diff = { key, status: same ? 'identical' : 'different', baseline: b, candidate: c, difference: null, tolerance: null };
      }
      if (diff.status === 'identical') continue;
      notIdentical++;
      if (diff.status === 'different') differingColumns.add(column.name);
      if (listed.length < MAX_LISTED_CELLS) listed.push(diff);
    }
  }

  // From the counts, not the (capped) list: a difference past the first listed cells still counts.
  const status: CsvComparison['status'] = counts.numericDifferent + counts.textDifferent > 0 ? 'different' : notIdentical > 0 ? 'equivalent' : 'identical';
  const parts: string[] = [];
  const columnList = (names: Set<string>) => `column${names.size === 1 ? '' : 's'} ${[...names].join(', ')}`;
  if (counts.numericDifferent > 0) parts.push(`${counts.numericDifferent} of ${counts.numeric} numeric cells differ beyond tolerance`);
  if (counts.textDifferent > 0) parts.push(`${counts.textDifferent} of ${counts.text} text cells differ`);
  if (differingColumns.size > 0) parts[parts.length - 1] += `, ${columnList(differingColumns)}`;
  if (counts.numericEquivalent > 0) parts.push(`${counts.numericEquivalent} of ${counts.numeric} numeric cells within tolerance or better`);
  if (notIdentical > listed.length) parts.push(`first ${listed.length} of ${notIdentical} listed`);
  return { status, metrics: listed, ...(parts.length > 0 ? { message: parts.join('; ') } : {}) };
}
