// Real NumPy fixtures for the .npy/.npz comparator tests: a Python snippet (run with the test venv's
// interpreter) builds arrays from small code strings, saves them, and computes with NumPy the
// TensorDiff numbers the comparator must report.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Tolerance } from '../../src/core/compare/model.js';
import { runProcess } from '../../src/adapters/process.js';

export const PYTHON = join(process.cwd(), '.cache/envs/tf221/bin/python');

export function pythonAvailable(): boolean {
  return existsSync(PYTHON);
}

export const BIT: Tolerance = { mode: 'bitwise', rtol: 0, atol: 0, nan_equal: true };
export const CLOSE: Tolerance = { mode: 'allclose', rtol: 0, atol: 1e-6, nan_equal: true };
export const CLOSE_NONAN: Tolerance = { mode: 'allclose', rtol: 1e-5, atol: 1e-8, nan_equal: false };
export const IGNORE: Tolerance = { mode: 'ignore', rtol: 0, atol: 0, nan_equal: true };

export interface Expected {
  status: string;
  elements: number;
  max_abs_diff: number | null;
  max_rel_diff: number | null;
  mismatched: number;
  mismatched_fraction: number;
  first_mismatch: number[] | null;
}

/** Helpers available to the snippets, and the NumPy reference for expected values. */
export const PY_PRELUDE = String.raw`
import json, sys
import numpy as np

def _values(flat):
    k = flat.dtype.kind
    if k == 'f':
        return flat.astype(np.float64)
    if k == 'c':
        return flat.astype(np.complex128)
    if k in 'iu' and flat.dtype.itemsize == 8:
        return [int(v) for v in flat]
    if k in 'iub':
        return flat.astype(np.float64)
    return None

def expect(a, b, tol):
    n = int(a.size)
    ac = np.ascontiguousarray(a).reshape(-1)
    bc = np.ascontiguousarray(b).reshape(-1)
    size = a.dtype.itemsize
    differ = (ac.view(np.uint8).reshape(n, size) != bc.view(np.uint8).reshape(n, size)).any(axis=1) if n else np.zeros(0, bool)
    out = {'elements': n, 'max_abs_diff': None, 'max_rel_diff': None, 'mismatched': 0, 'mismatched_fraction': 0, 'first_mismatch': None}
    if tol['mode'] == 'ignore':
        out['status'] = 'equivalent' if differ.any() else 'identical'
        return out
    va, vb = _values(ac), _values(bc)
    if va is None:
        # No numeric value: only the bytes count, and no distance is reported.
        mism = differ
        maxabs, maxrel = None, None
    else:
        if isinstance(va, list):
            d = np.array([float(abs(x - y)) for x, y in zip(va, vb)], dtype=np.float64)
            absb = np.array([float(abs(x)) for x in va], dtype=np.float64)
            fin = np.ones(n, bool)
            close = d <= tol['atol'] + tol['rtol'] * absb
        else:
            with np.errstate(all='ignore'):
                nan_a, nan_b = np.isnan(va), np.isnan(vb)
                fin = np.isfinite(va) & np.isfinite(vb)
                d = np.abs(va - vb)
                absb = np.abs(va)
                close = np.where(nan_a | nan_b, tol['nan_equal'] & nan_a & nan_b,
                                 np.where(fin, d <= tol['atol'] + tol['rtol'] * absb, va == vb))  # b = baseline, as in the report model
        sel = differ & fin
        maxabs = float(d[sel].max()) if sel.any() else 0.0
        rs = sel & (absb != 0)
        maxrel = float((d[rs] / absb[rs]).max()) if rs.any() else 0.0
        if tol['mode'] == 'bitwise':
            # With nan_equal off, a NaN never equals anything, in every mode.
            nan_any = (np.isnan(va) | np.isnan(vb)) if not isinstance(va, list) else np.zeros(n, bool)
            mism = differ | (nan_any & (not tol['nan_equal']))
        else:
            mism = ~close
    if n:
        out['max_abs_diff'], out['max_rel_diff'] = maxabs, maxrel
    m = int(np.count_nonzero(mism))
    out['mismatched'] = m
    out['mismatched_fraction'] = m / n if n else 0
    if m:
        out['first_mismatch'] = [int(i) for i in np.unravel_index(int(np.argmax(mism)), a.shape)]
    out['status'] = 'different' if m else ('equivalent' if differ.any() else 'identical')
    return out
`;

export async function runPython(script: string, input: unknown): Promise<unknown> {
  const result = await runProcess(PYTHON, ['-c', PY_PRELUDE + script], { input: JSON.stringify(input), timeoutMs: 120_000 });
  if (result.outcome !== 'ok') throw new Error(`fixture generation failed: ${result.reason}\n${result.stderr}`);
  return JSON.parse(result.stdout);
}
