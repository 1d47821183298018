// What the recorder saw, and the run-to-run check, as lines for show and replay: the seeds in
// order, each fit's model and data, the numerics libraries really loaded, and the verdict of
// capture --repeat. Pure; every value from the record is untrusted text and printed through
// printable().
import type { ReloadCheck, RepeatCheck } from '../core/model.js';
import type { ReplayReload } from '../core/replay/report.js';
import { callText, type DataDigest, type RunRecording } from '../core/recording.js';
import { printable } from './text.js';
import { formatSeconds } from '../core/units.js';

function row(label: string, value: string): string {
  return `  ${label.padEnd(13)}${printable(value)}`;
}

function digestText(d: DataDigest): string {
  switch (d.kind) {
    case 'array':
      return `${d.dtype}[${d.shape.join('x')}] ${d.sha256.slice(0, 12)}`;
    case 'dataset':
      return `${d.source} ${d.element_spec ?? ''}${d.cardinality !== null ? ` (${d.cardinality} batches)` : ''}`;
    case 'structure':
      return `{${Object.entries(d.items)
        .map(([k, v]) => `${k}: ${digestText(v)}`)
        .join(', ')}}`;
    case 'none':
      return 'none';
    case 'unknown':
      return `${d.source} (not digested: ${d.reason})`;
  }
}

export function renderRecord(record: RunRecording): string[] {
  const lines: string[] = [];
  lines.push(row('Seeds', record.seeds.length > 0 ? record.seeds.map(callText).join('; ') : 'no seed call'));
  if (record.switches.length > 0) lines.push(row('Switches', record.switches.map(callText).join('; ')));
  for (const fit of record.fits) {
    const m = fit.model;
    lines.push(row(`fit #${fit.index + 1}`, `${m.class} "${m.name}", ${m.layers.length} layers, ${m.params} params (${fit.api} ${fit.keras_version ?? ''}, ${fit.backend ?? '?'} backend); initial weights ${m.initial_weights_sha256?.slice(0, 12) ?? 'unknown'}`));
    const opt = fit.optimizer ? `${fit.optimizer.class}${typeof fit.optimizer.config.learning_rate === 'number' ? ` lr=${fit.optimizer.config.learning_rate}` : ''}` : 'no optimizer';
    lines.push(row('', `${opt}, loss ${JSON.stringify(fit.loss)}, epochs ${fit.epochs ?? '?'}, batch ${fit.batch_size ?? 'default'}, shuffle ${JSON.stringify(fit.shuffle)}${fit.validation_split ? `, validation split ${fit.validation_split}` : ''}${fit.callbacks.length ? `, callbacks ${fit.callbacks.join(', ')}` : ''}`));
    lines.push(row('', `x ${digestText(fit.data.x)}; y ${digestText(fit.data.y)}${fit.data.validation.kind !== 'none' ? `; validation ${digestText(fit.data.validation)}` : ''}`));
  }
  const libs = (record.libraries ?? []).filter((l) => /^lib(cudnn|cublas|nccl|cudart|mkl|dnnl|openblas)/.test(l.name));
  // numpy's and scipy's own copies of one library read alike here: each is said once (--json has every path).
  if (libs.length > 0) lines.push(row('Loaded', [...new Set(libs.map((l) => `${l.name} ${l.version ?? '?'}`))].join(', ')));
  if (record.tensorflow) {
    const t = record.tensorflow;
    const says = [t.onednn_enabled !== null ? `oneDNN ${t.onednn_enabled ? 'on' : 'off'}` : null, t.op_determinism !== null ? `op determinism ${t.op_determinism ? 'on' : 'off'}` : null, t.tf32_enabled !== null ? `TF32 ${t.tf32_enabled ? 'on' : 'off'}` : null].filter((x) => x !== null);
    if (says.length > 0) lines.push(row('TensorFlow', says.join(', ')));
  }
  if (record.errors.length > 0) lines.push(row('Not seen', record.errors.map((e) => `${e.where}: ${e.message}`).slice(0, 3).join('; ')));
  return lines;
}

export function renderRepeat(repeat: RepeatCheck): string[] {
  const lines = [row('Run to run', `${repeat.verdict} over ${repeat.runs} runs${repeat.policy ? ` under ${repeat.policy}` : ''}: ${repeat.message}`)];
  for (const m of repeat.moved.slice(0, 8)) lines.push(row('', `${m.path}: ${m.status}${m.max_abs_diff !== null ? `, max |diff| ${m.max_abs_diff}` : ''}${m.message ? ` (${m.message})` : ''}`));
  if (repeat.divergence) lines.push(row('Diverged', `${repeat.divergence.stage}: ${repeat.divergence.message}`));
  if (repeat.explained_by.length > 0) lines.push(row('Explained by', repeat.explained_by.join(', ')));
  if (repeat.explain) {
    for (const t of repeat.explain.tried) lines.push(row('Tried', `${t.fix}: ${t.identical ? 'the runs became identical' : `still ${t.verdict}`}`));
    if (repeat.explain.fixed_by) lines.push(row('Fixed by', repeat.explain.fixed_by));
  }
  return lines;
}

/** capture's reload check: each saved model, whether it loaded, and on what input. */
export function renderReloadCheck(check: ReloadCheck): string[] {
  const lines: string[] = [];
  for (const m of check.models) {
    const inputs = m.inputs.map((i) => `${i.name}[${i.shape.join(',')}] ${i.dtype}`).join(', ');
    lines.push(row(lines.length === 0 ? 'Reloads' : '', m.status === 'ok' ? `${m.path} (${m.format}): loads and runs on ${inputs || 'its inputs'}` : `${m.path} (${m.format}): does not reload: ${m.message ?? 'no reason given'}`));
  }
  return lines;
}

/** replay's reload of the baseline's saved models: one line, then each model's verdict. */
export function renderReplayReload(reload: ReplayReload): string[] {
  const lines = [`  ${printable(reload.message)}${reload.duration_ms > 0 ? ` (${formatSeconds(reload.duration_ms)}${reload.import_ms !== null ? `, the import ${formatSeconds(reload.import_ms)}` : ''})` : ''}`];
  for (const m of reload.models) lines.push(`    ${m.status.padEnd(11)} ${printable(m.path)} (${m.format}): ${printable(m.message)}`);
  return lines;
}
