// JUnit XML for CI test reports. Kept apart from the other renderers so xmlbuilder2 is loaded
// only when --junit asks for it.
import { create } from 'xmlbuilder2';
import type { CompareReport } from '../core/compare/model.js';
import type { ReplayReport } from '../core/replay/report.js';
import { outputDetail, outputLines } from './compare.js';

/**
 * JUnit XML: one <testsuite name="snapshot compare"> (inside <testsuites> with the same counts),
 * one <testcase classname="snapshot.compare" name="<path>"> per output. different and missing
 * outputs fail, error outputs are errors, ignored ones are skipped; the non-identical tensors and
 * metrics are the failure text. identical, equivalent and extra outputs pass.
 */
export function renderJUnit(report: CompareReport): string {
  const failures = report.outputs.filter((o) => o.status === 'different' || o.status === 'missing').length;
  const errors = report.outputs.filter((o) => o.status === 'error').length;
  const skipped = report.outputs.filter((o) => o.status === 'ignored').length;
  const counts = { tests: String(report.outputs.length), failures: String(failures), errors: String(errors), skipped: String(skipped) };
  const root = create({ version: '1.0', encoding: 'UTF-8', invalidCharReplacement: '\uFFFD' }).ele('testsuites', { name: 'snapshot compare', ...counts });
  const suite = root.ele('testsuite', { name: 'snapshot compare', ...counts });
  const props = suite.ele('properties');
  props.ele('property', { name: 'verdict', value: report.verdict });
  props.ele('property', { name: 'baseline', value: report.baseline });
  props.ele('property', { name: 'candidate', value: report.candidate });
  props.ele('property', { name: 'policy', value: report.policy ?? '' });
  for (const o of report.outputs) {
    const testcase = suite.ele('testcase', { classname: 'snapshot.compare', name: o.path });
    const detail = outputDetail(o);
    const message = `${o.status}${detail ? `: ${detail}` : ''}`;
    const body = [`${o.path} (${o.format}): ${o.status}`, ...outputLines(o, false)].join('\n');
    if (o.status === 'different' || o.status === 'missing') testcase.ele('failure', { message, type: o.status }).txt(body);
    else if (o.status === 'error') testcase.ele('error', { message, type: 'error' }).txt(body);
    else if (o.status === 'ignored') testcase.ele('skipped', { message: o.message ?? 'ignored by the policy' });
    else if (o.status !== 'identical') testcase.ele('system-out').txt(body);
  }
  return `${root.end({ prettyPrint: true })}\n`;
}

/**
 * A replay as JUnit: one <testcase name="replay"> carrying the verdict (a failure for `different`,
 * an error for `error`, with the conclusion and likely causes as its text), then one per output.
 */
export function renderReplayJUnit(report: ReplayReport): string {
  const outputs = report.compare?.outputs ?? [];
  const failures = outputs.filter((o) => o.status === 'different' || o.status === 'missing').length + (report.verdict === 'different' ? 1 : 0);
  const errors = outputs.filter((o) => o.status === 'error').length + (report.verdict === 'error' ? 1 : 0);
  const skipped = outputs.filter((o) => o.status === 'ignored').length;
  const counts = { tests: String(outputs.length + 1), failures: String(failures), errors: String(errors), skipped: String(skipped) };
  const root = create({ version: '1.0', encoding: 'UTF-8', invalidCharReplacement: '\uFFFD' }).ele('testsuites', { name: 'snapshot replay', ...counts });
  const suite = root.ele('testsuite', { name: 'snapshot replay', ...counts });
  const props = suite.ele('properties');
  props.ele('property', { name: 'verdict', value: report.verdict });
  props.ele('property', { name: 'snapshot', value: report.snapshot.path });
  props.ele('property', { name: 'engine', value: `${report.engine.kind} ${report.engine.where}` });
  const replay = suite.ele('testcase', { classname: 'snapshot.replay', name: 'replay' });
  const body = [report.conclusion, ...report.causes.map((c, i) => `${i + 1}. ${c.message}`), ...(report.failure?.log_tail ?? [])].join('\n');
  if (report.verdict === 'different') replay.ele('failure', { message: report.conclusion, type: 'different' }).txt(body);
  else if (report.verdict === 'error') replay.ele('error', { message: report.conclusion, type: report.failure?.code ?? 'error' }).txt(body);
  for (const o of outputs) {
    const testcase = suite.ele('testcase', { classname: 'snapshot.replay.outputs', name: o.path });
    const detail = outputDetail(o);
    const message = `${o.status}${detail ? `: ${detail}` : ''}`;
    const text = [`${o.path} (${o.format}): ${o.status}`, ...outputLines(o, false)].join('\n');
    if (o.status === 'different' || o.status === 'missing') testcase.ele('failure', { message, type: o.status }).txt(text);
    else if (o.status === 'error') testcase.ele('error', { message, type: 'error' }).txt(text);
    else if (o.status === 'ignored') testcase.ele('skipped', { message: o.message ?? 'ignored by the policy' });
  }
  return `${root.end({ prettyPrint: true })}\n`;
}
