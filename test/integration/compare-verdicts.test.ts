// Every way compare was once found to give a wrong verdict, or an error where a verdict was due,
// on real files made by NumPy, h5py, Python's json and Keras in the test venv. Each case is a
// pair of folders, baseline and candidate, judged by the compare service (and the CLI for the
// report formats). A wrong `identical` is the worst answer this product can give.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareNpyFiles } from '../../src/adapters/readers/npy-file.js';
import { compareNpzFiles } from '../../src/adapters/readers/npz-file.js';
import { BITWISE } from '../../src/core/compare/model.js';
import type { CompareReport, OutputReport } from '../../src/core/compare/model.js';
import { compareOutputs } from '../../src/services/compare.js';
import { repoRoot, runCli, tfPython } from '../helpers/cli.js';

let work: string;
const env = { ...process.env, PYTHONHASHSEED: '0', TF_CPP_MIN_LOG_LEVEL: '3', KERAS_BACKEND: 'tensorflow', CUDA_VISIBLE_DEVICES: '' };

// One Python run builds every case: <case>/a and <case>/b.
const MAKE = String.raw`
import json, os, sys, zipfile
import numpy as np, h5py
root = sys.argv[1]
def case(name):
    for side in 'ab':
        os.makedirs(os.path.join(root, name, side), exist_ok=True)
    return os.path.join(root, name, 'a'), os.path.join(root, name, 'b')
rng = np.random.default_rng(0)
x = rng.standard_normal((4, 5)).astype('f4')

# 1. .npz side entries and arrays without the .npy suffix
for name, extra_a, extra_b in [('npz-notes', b'run 1', b'run 2'), ('npz-same', b'same', b'same')]:
    a, b = case(name)
    for d, extra in ((a, extra_a), (b, extra_b)):
        np.savez(os.path.join(d, 'arrays.npz'), x=x)
        with zipfile.ZipFile(os.path.join(d, 'arrays.npz'), 'a') as z:
            z.writestr('notes.txt', extra)
            z.writestr('meta.json', json.dumps({'run': extra.decode()}))
a, b = case('npz-nosuffix')
for d, v in ((a, np.ones(3)), (b, np.zeros(3))):
    import io
    buf = io.BytesIO(); np.save(buf, v)
    with zipfile.ZipFile(os.path.join(d, 'arrays.npz'), 'w') as z:
        z.writestr('weights', buf.getvalue())
    assert (np.load(os.path.join(d, 'arrays.npz'))['weights'] == v).all()

# 2. several arrays in one .npy, and bytes after the last one
a, b = case('npy-second-array')
for d, second in ((a, np.arange(5)), (b, np.arange(5) + 1)):
    with open(os.path.join(d, 'arrays.npy'), 'wb') as f:
        np.save(f, x); np.save(f, second)
a, b = case('npy-same-two')
for d in (a, b):
    with open(os.path.join(d, 'arrays.npy'), 'wb') as f:
        np.save(f, x); np.save(f, np.arange(5))
a, b = case('npy-trailing')
np.save(os.path.join(a, 'p.npy'), x)
np.save(os.path.join(b, 'p.npy'), x)
with open(os.path.join(b, 'p.npy'), 'ab') as f:
    f.write(b'garbage after the array')

# 3. JSON keys that collide when dotted, and a list against an object
for name, va, vb in [('json-dotted', {'a.b': 1, 'a': {'b': 2}}, {'a.b': 1, 'a': {'b': 999}}), ('json-moved', {'a.b': 1}, {'a': {'b': 1}}), ('json-list-object', {'h': [1, 2]}, {'h': {'0': 1, '1': 2}})]:
    a, b = case(name)
    json.dump(va, open(os.path.join(a, 'm.json'), 'w')); json.dump(vb, open(os.path.join(b, 'm.json'), 'w'))

# 4. integers beyond 2^53, in JSON and CSV
a, b = case('bigint')
json.dump({'seed': 9007199254740993}, open(os.path.join(a, 'm.json'), 'w')); json.dump({'seed': 9007199254740992}, open(os.path.join(b, 'm.json'), 'w'))
open(os.path.join(a, 't.csv'), 'w').write('id,v\n9007199254740993,1\n'); open(os.path.join(b, 't.csv'), 'w').write('id,v\n9007199254740992,1\n')

# 6. a non-finite candidate under greater_is_better
a, b = case('nonfinite')
json.dump({'loss': 0.4, 'accuracy': 0.9}, open(os.path.join(a, 'm.json'), 'w'))
json.dump({'loss': float('-inf'), 'accuracy': float('inf')}, open(os.path.join(b, 'm.json'), 'w'))

# 7. NaN on both sides, byte for byte
a, b = case('nan-both')
for d in (a, b):
    np.save(os.path.join(d, 'p.npy'), np.array([1.0, np.nan], dtype='f4'))
    json.dump({'loss': float('nan')}, open(os.path.join(d, 'm.json'), 'w'))

# 8. byte order and memory order are storage; the dtype's kind and width are content
a, b = case('byteorder')
np.save(os.path.join(a, 'p.npy'), x.astype('<f4')); np.save(os.path.join(b, 'p.npy'), x.astype('>f4'))
a, b = case('width')
np.save(os.path.join(a, 'p.npy'), x.astype('<f4')); np.save(os.path.join(b, 'p.npy'), x.astype('<f8'))
a, b = case('memory-order')
np.save(os.path.join(a, 'p.npy'), np.ascontiguousarray(x)); np.save(os.path.join(b, 'p.npy'), np.asfortranarray(x))
with h5py.File(os.path.join(a, 'w.h5'), 'w') as f: f['d'] = x.astype('<f4')
with h5py.File(os.path.join(b, 'w.h5'), 'w') as f: f['d'] = x.astype('>f4')

# HDF5 attributes below the root
a, b = case('h5-attrs')
for d, names, scale in ((a, [b'dense/kernel:0'], 1.0), (b, [b'dense/kernel:1'], 2.0)):
    with h5py.File(os.path.join(d, 'model.h5'), 'w') as f:
        g = f.create_group('model_weights/dense'); g.attrs['weight_names'] = names
        ds = g.create_dataset('kernel', data=x); ds.attrs['scale'] = scale

# float16 datasets and null dataspaces
for name, va, vb in [('h5-f16-same', x, x), ('h5-f16-diff', x, x * 2)]:
    a, b = case(name)
    for d, v in ((a, va), (b, vb)):
        with h5py.File(os.path.join(d, 'w.h5'), 'w') as f: f['half'] = v.astype('f2')
a, b = case('h5-empty')
for d, empty in ((a, True), (b, True)):
    with h5py.File(os.path.join(d, 'e.h5'), 'w') as f: f['nothing'] = h5py.Empty('f4'); f.attrs['none'] = h5py.Empty('f4')
a, b = case('h5-empty-vs-data')
with h5py.File(os.path.join(a, 'e.h5'), 'w') as f: f['nothing'] = h5py.Empty('f4')
with h5py.File(os.path.join(b, 'e.h5'), 'w') as f: f['nothing'] = np.zeros(0, 'f4')

# an HDF5 external link out of the folder
outside = os.path.join(root, 'outside.h5')
with h5py.File(outside, 'w') as f: f['secret'] = np.arange(3)
a, b = case('h5-external')
for d in (a, b):
    with h5py.File(os.path.join(d, 'w.h5'), 'w') as f:
        f['own'] = x
        f['linked'] = h5py.ExternalLink(outside, '/secret')

# JSON with a UTF-8 byte order mark
a, b = case('json-bom')
for d in (a, b):
    open(os.path.join(d, 'm.json'), 'wb').write(b'\xef\xbb\xbf' + json.dumps({'loss': 0.5}).encode())

# optimizer state apart from the weights (Keras 3 weights layout)
a, b = case('optimizer')
for d, m in ((a, 0.1), (b, 0.1001)):
    with h5py.File(os.path.join(d, 'model.weights.h5'), 'w') as f:
        f['layers/dense/vars/0'] = x
        f['optimizer/vars/1'] = np.full((4, 5), m, 'f4')

# a history compared by its last value
a, b = case('history')
json.dump({'val_accuracy': [0.5, 0.8, 0.9]}, open(os.path.join(a, 'history.json'), 'w'))
json.dump({'val_accuracy': [0.5, 0.815, 0.9075]}, open(os.path.join(b, 'history.json'), 'w'))

# non-numeric arrays: no distance
a, b = case('structured')
dt = np.dtype([('a', '<i4'), ('b', '<f4')])
np.save(os.path.join(a, 's.npy'), np.array([(1, 2.0)], dt)); np.save(os.path.join(b, 's.npy'), np.array([(1, 3.0)], dt))
print('ok')
`;

// A Keras model compiled with another learning rate: the same weights, another training.
const KERAS = String.raw`
import os, sys
import keras
root = sys.argv[1]
for side, lr in (('a', 0.001), ('b', 0.0014)):
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=lr), loss='mse')
    os.makedirs(os.path.join(root, 'keras-lr', side), exist_ok=True)
    model.save(os.path.join(root, 'keras-lr', side, 'model.keras'))
print('ok')
`;

// C- and Fortran-order copies of the same values, larger than the 64 MiB reordered in memory.
const LARGE = String.raw`
import os, sys
import numpy as np
root = sys.argv[1]
v = np.arange(4200 * 4200, dtype='f4').reshape(4200, 4200) / 7
for name, change in (('large-order-same', False), ('large-order-diff', True)):
    os.makedirs(os.path.join(root, name, 'a'), exist_ok=True); os.makedirs(os.path.join(root, name, 'b'), exist_ok=True)
    np.save(os.path.join(root, name, 'a', 'p.npy'), v)
    w = np.asfortranarray(v.copy())
    if change:
        w[3000, 17] += 1
    np.save(os.path.join(root, name, 'b', 'p.npy'), w)
print('ok')
`;

// The wrong verdicts, hangs and errors a review found, each built for real: <case>/a and <case>/b.
const REVIEW = String.raw`
import io, json, os, sys, zipfile
import numpy as np, h5py
root = sys.argv[1]
def case(name):
    for side in 'ab':
        os.makedirs(os.path.join(root, name, side), exist_ok=True)
    return os.path.join(root, name, 'a'), os.path.join(root, name, 'b')
def h5(d, name='w.h5'):
    return h5py.File(os.path.join(d, name), 'w')
def raw(d, name, data):
    open(os.path.join(d, name), 'wb').write(data)

# A1. HDF5 attributes: every bit of the value and the dtype
a, b = case('h5-attr-values')
for d, big, nonfinite, zero in ((a, 2**53 + 1, [np.nan, 1.0], [-0.0, 1.0]), (b, 2**53, [np.inf, 1.0], [0.0, 1.0])):
    with h5(d) as f:
        f.attrs['big'] = np.int64(big); f.attrs['nonfinite'] = np.array(nonfinite); f.attrs['zero'] = np.array(zero)
a, b = case('h5-attr-dtype')
with h5(a) as f: f.attrs['i'] = np.int32(3); f.attrs['f'] = np.int64(3)
with h5(b) as f: f.attrs['i'] = np.int64(3); f.attrs['f'] = np.float64(3.0)
a, b = case('h5-attr-nan')
for d in (a, b):
    with h5(d) as f: f.attrs['loss'] = np.float64('nan')

# A2. HDF5 compound, complex and enum datasets: the full dtype and every bit
a, b = case('h5-compound-fields')
with h5(a) as f: f['r'] = np.array([(1, 2.0)], dtype=[('a', '<i4'), ('b', '<f4')])
with h5(b) as f: f['r'] = np.array([(1.0, 2)], dtype=[('x', '<f4'), ('y', '<i4')])
a, b = case('h5-compound-nan-inf')
with h5(a) as f: f['r'] = np.array([(1, np.nan)], dtype=[('a', '<i4'), ('b', '<f4')])
with h5(b) as f: f['r'] = np.array([(1, np.inf)], dtype=[('a', '<i4'), ('b', '<f4')])
a, b = case('h5-complex-nan-inf')
with h5(a) as f: f['z'] = np.array([1 + 1j * np.nan])
with h5(b) as f: f['z'] = np.array([1 + 1j * np.inf])
a, b = case('h5-enum-members')
with h5(a) as f: f['e'] = np.array([0, 1], dtype=h5py.enum_dtype({'RED': 0, 'GREEN': 1}, basetype='i1'))
with h5(b) as f: f['e'] = np.array([0, 1], dtype=h5py.enum_dtype({'CAT': 0, 'DOG': 1}, basetype='i1'))
a, b = case('h5-compound-byteorder')
rec = [(1, 2.5, b'ab'), (-3, np.nan, b'cd')]
with h5(a) as f: f['r'] = np.array(rec, dtype=[('a', '<i4'), ('b', '<f8'), ('s', 'S2')]); f['m'] = np.array(rec, dtype=[('a', '>i4'), ('b', '<f8'), ('s', 'S2')])
with h5(b) as f: f['r'] = np.array(rec, dtype=[('a', '>i4'), ('b', '>f8'), ('s', 'S2')]); f['m'] = np.array(rec, dtype=[('a', '<i4'), ('b', '<f8'), ('s', 'S2')])

# A3. fixed-length strings that differ after an embedded NUL, as datasets and attributes
a, b = case('h5-string-nul')
for d, s in ((a, b'ab\x00c'), (b, b'ab\x00d')):
    with h5(d) as f: f['s'] = np.array([s], dtype='S4'); f.attrs['s'] = np.array([s], dtype='S4')

# B2. links: a hard-link cycle, a soft link to an ancestor, soft links by their target
a, b = case('h5-links')
for d in (a, b):
    with h5(d) as f:
        g = f.create_group('g'); g['x'] = np.arange(3); g['self'] = g
        f['g2/y'] = np.ones(2); f['g2']['up'] = h5py.SoftLink('/g2'); f['alias'] = h5py.SoftLink('/g/x')
a, b = case('h5-soft-target')
for d, target in ((a, '/g/x'), (b, '/g/y')):
    with h5(d) as f: f['g/x'] = np.arange(3); f['g/y'] = np.arange(3); f['alias'] = h5py.SoftLink(target)

# variable-length strings and sequences: by value, byte order aside
a, b = case('h5-vlen-byteorder')
for d, o in ((a, '<'), (b, '>')):
    with h5(d) as f:
        f['vs'] = np.array(['h\u00e9llo', 'x'], dtype=h5py.string_dtype()); f.attrs['note'] = 'h\u00e9llo'
        f['seq'] = np.array([np.array([1, 2], o + 'i4'), np.array([3], o + 'i4')], dtype=h5py.vlen_dtype(np.dtype(o + 'i4')))
        f['rec'] = np.array([(1, b'ab')], dtype=[('a', o + 'i4'), ('s', h5py.string_dtype('ascii'))])
a, b = case('h5-vlen-diff')
for d, last in ((a, 3), (b, 4)):
    with h5(d) as f:
        f['vs'] = np.array(['same', str(last)], dtype=h5py.string_dtype()); f.attrs['note'] = str(last)
        f['seq'] = np.array([np.array([1, 2], '<i4'), np.array([last], '<i4')], dtype=h5py.vlen_dtype(np.dtype('<i4')))

a, b = case('h5-vlen-nan')
for d in (a, b):
    with h5(d) as f: f['seq'] = np.array([np.array([1.0, np.nan]), np.array([2.0])], dtype=h5py.vlen_dtype(np.dtype('f8')))

# C5. an empty group on one side only
a, b = case('h5-empty-group')
with h5(a) as f: f['d'] = np.arange(3); f.create_group('empty')
with h5(b) as f: f['d'] = np.arange(3)

# A4. structured field names ending in l/L are content; Python 2 shapes (3L,) are not
a, b = case('npy-field-l')
np.save(os.path.join(a, 's.npy'), np.zeros(2, dtype=[('w1l', '<f4')])); np.save(os.path.join(b, 's.npy'), np.zeros(2, dtype=[('w1', '<f4')]))
a, b = case('npy-py2-shape')
np.save(os.path.join(a, 'p.npy'), np.arange(3, dtype='<i8'))
buf = io.BytesIO(); np.save(buf, np.arange(3, dtype='<i8')); data = buf.getvalue()
hlen = int.from_bytes(data[8:10], 'little'); header = data[10:10 + hlen].decode('latin1').replace('(3,)', '(3L,)')
header = header.rstrip('\n').rstrip(' '); header = header + ' ' * (hlen - len(header) - 1) + '\n'
assert len(header) == hlen
raw(b, 'p.npy', data[:8] + hlen.to_bytes(2, 'little') + header.encode('latin1') + data[10 + hlen:])

# A5. .npz entries 'x.npy' and 'x': both are content; C5: a folder entry counts too
def npy_bytes(v):
    buf = io.BytesIO(); np.save(buf, v); return buf.getvalue()
a, b = case('npz-x-and-xnpy')
for d, first in ((a, np.ones(3)), (b, np.full(3, 2.0))):
    with zipfile.ZipFile(os.path.join(d, 'arrays.npz'), 'w') as z:
        z.writestr('x.npy', npy_bytes(first)); z.writestr('x', npy_bytes(np.zeros(3)))
    loaded = np.load(os.path.join(d, 'arrays.npz'))
    assert (loaded['x.npy'] == first).all() and (loaded['x'] == 0).all()
a, b = case('npz-folder-entry')
for d, folder in ((a, False), (b, True)):
    with zipfile.ZipFile(os.path.join(d, 'arrays.npz'), 'w') as z:
        z.writestr('x.npy', npy_bytes(np.ones(3)))
        if folder: z.writestr('extra/', b'')
    assert ('extra/' in np.load(os.path.join(d, 'arrays.npz')).files) == folder

# A6. invalid UTF-8 in JSON and CSV, small and large
a, b = case('utf8-bad')
raw(a, 'm.json', b'{"k": "\xff"}'); raw(b, 'm.json', b'{"k": "\xfe"}')
raw(a, 't.csv', b'name,v\n\xff,1\n'); raw(b, 't.csv', b'name,v\n\xfe,1\n')
pad = b''.join(b'row%d,%d\n' % (i, i) for i in range(120000))
raw(a, 'big.csv', b'name,v\n' + pad + b'\xff,1\n'); raw(b, 'big.csv', b'name,v\n' + pad + b'\xfe,1\n')
padj = b'[' + b','.join(b'%d' % i for i in range(250000)) + b']'
raw(a, 'big.json', b'{"h": ' + padj + b', "k": "\xff"}'); raw(b, 'big.json', b'{"h": ' + padj + b', "k": "\xfe"}')
for d in (a, b): assert os.path.getsize(os.path.join(d, 'big.json')) > 1 << 20 and os.path.getsize(os.path.join(d, 'big.csv')) > 1 << 20

# A7. repeated JSON keys: the last one counts, as in json.load
a, b = case('json-dup-extra')
raw(a, 'm.json', b'{"a": 1, "b": 0}'); raw(b, 'm.json', b'{"a": 1, "b": 0, "a": 7}')
a, b = case('json-dup-same')
raw(a, 'm.json', b'{"a": 1, "a": 2}'); raw(b, 'm.json', b'{"a": 2}')
for name in ('json-dup-extra', 'json-dup-same'):
    x, y = (json.load(open(os.path.join(root, name, s, 'm.json'))) for s in 'ab')
    assert (x == y) == (name == 'json-dup-same')

# A8. at: last with nan_equal off: a list holding NaN is not identical
a, b = case('json-at-last-nan')
for d in (a, b): json.dump({'loss': [float('nan'), 0.5]}, open(os.path.join(d, 'history.json'), 'w'))

# B1. at on lists that are not lists of numbers
a, b = case('json-at-lists')
lists = {'loss': [], 'val_loss': [1, 'x', 1], 'accuracy': [[1, 2], [3, 4]]}
json.dump(lists, open(os.path.join(a, 'history.json'), 'w')); json.dump(dict(reversed(list(lists.items()))), open(os.path.join(b, 'history.json'), 'w'))

# B3. a zero-itemsize dtype
a, b = case('npy-zero-itemsize')
for d in (a, b): np.save(os.path.join(d, 'z.npy'), np.zeros(3, dtype=np.dtype([])))

# C1. byte order of strings, datetimes and records is storage
a, b = case('npy-byteorder-other')
for d, o in ((a, '<'), (b, '>')):
    np.save(os.path.join(d, 'u.npy'), np.array(['ab', 'c'], dtype=o + 'U2'))
    np.save(os.path.join(d, 't.npy'), np.array(['2024-01-02T03:04:05', 'NaT'], dtype=o + 'M8[ns]'))
    np.save(os.path.join(d, 'r.npy'), np.array([(1, 2.5, 'x'), (-3, np.nan, 'yz')], dtype=[('a', o + 'i4'), ('b', o + 'f8'), ('c', o + 'U2')]))
a, b = case('npy-byteorder-other-diff')
np.save(os.path.join(a, 'r.npy'), np.array([(1, 2.5)], dtype=[('a', '<i4'), ('b', '<f8')]))
np.save(os.path.join(b, 'r.npy'), np.array([(1, 2.75)], dtype=[('a', '>i4'), ('b', '>f8')]))

# C2. a pickled object array with an array after it, stored in another byte order on one side
a, b = case('npy-pickle-then-array')
objects = np.array([{'k': 1}, 'text'], dtype=object)
for d, o in ((a, '<'), (b, '>')):
    with open(os.path.join(d, 'p.npy'), 'wb') as f:
        np.save(f, objects, allow_pickle=True); np.save(f, np.arange(3, dtype=o + 'f4'))
a, b = case('npy-pickle-same')
for d in (a, b):
    with open(os.path.join(d, 'p.npy'), 'wb') as f:
        np.save(f, objects, allow_pickle=True); np.save(f, np.arange(3, dtype='<f4'))

# C4. a rule ending in ** applies to a scalar list element, in JSON and CSV
a, b = case('rule-index-globstar')
json.dump({'x': [0.5, 1.0]}, open(os.path.join(a, 'm.json'), 'w')); json.dump({'x': [0.5, 1.001]}, open(os.path.join(b, 'm.json'), 'w'))
open(os.path.join(a, 't.csv'), 'w').write('x\n0.5\n1.0\n'); open(os.path.join(b, 't.csv'), 'w').write('x\n0.5\n1.001\n')

# C5. JSON integers: -0 is 0; 1 and 1.0 are an int and a float
a, b = case('json-int-zero')
raw(a, 'm.json', b'{"n": -0}'); raw(b, 'm.json', b'{"n": 0}')
a, b = case('json-int-float')
raw(a, 'm.json', b'{"n": 1}'); raw(b, 'm.json', b'{"n": 1.0}')
assert json.loads('-0') == 0 and type(json.loads('1')) is not type(json.loads('1.0'))

# C5. metric keys with glob-like characters other than * and ? are literal
a, b = case('rule-literal-brackets')
json.dump({'loss[1]': 0.5, 'loss1': 0.5}, open(os.path.join(a, 'm.json'), 'w')); json.dump({'loss[1]': 0.6, 'loss1': 0.6}, open(os.path.join(b, 'm.json'), 'w'))

# C3. byte-identical outputs still use the rules that match them
a, b = case('identical-rules')
for d in (a, b):
    json.dump({'loss': 0.5}, open(os.path.join(d, 'm.json'), 'w'))
    open(os.path.join(d, 't.csv'), 'w').write('acc\n0.5\n')
print('ok')
`;

// A two-output Keras model (compile_config.loss is a list of strings), trained and saved in a
// process of its own for each side, same seed.
const KERAS_TWO_OUTPUTS = String.raw`
import os, shutil, sys
import numpy as np, keras
root, side = sys.argv[1], sys.argv[2]
keras.utils.set_random_seed(0)
inp = keras.Input((3,))
h = keras.layers.Dense(4, activation='relu')(inp)
model = keras.Model(inp, [keras.layers.Dense(1, name='reg')(h), keras.layers.Dense(2, activation='softmax', name='cls')(h)])
model.compile(optimizer='adam', loss=['mse', 'categorical_crossentropy'])
x = np.random.default_rng(0).standard_normal((8, 3)).astype('f4')
model.fit(x, [x[:, :1], np.eye(2, dtype='f4')[np.arange(8) % 2]], epochs=1, verbose=0)
out = os.path.join(root, 'keras-two-outputs', side)
os.makedirs(out, exist_ok=True)
model.save(os.path.join(out, 'model.keras'))
if side == 'a':
    for copy in 'ab':
        os.makedirs(os.path.join(root, 'keras-same-bytes', copy), exist_ok=True)
        shutil.copy(os.path.join(out, 'model.keras'), os.path.join(root, 'keras-same-bytes', copy, 'model.keras'))
print('ok')
`;

function run(script: string, ...args: string[]): void {
  const file = join(work, `make-${Math.random().toString(36).slice(2)}.py`);
  writeFileSync(file, script);
  execFileSync(tfPython, [file, work, ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'snapshot-verdicts-'));
  run(MAKE);
  run(KERAS);
  run(LARGE);
  run(REVIEW);
  run(KERAS_TWO_OUTPUTS, 'a');
  run(KERAS_TWO_OUTPUTS, 'b');
}, 300_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

async function judge(name: string, policy?: string): Promise<CompareReport> {
  const { report } = await compareOutputs({ baseline: join(work, name, 'a'), candidate: join(work, name, 'b'), cwd: work, ...(policy ? { policyPath: policy } : {}) });
  return report;
}

function output(report: CompareReport, path: string): OutputReport {
  const found = report.outputs.find((o) => o.path === path);
  if (!found) throw new Error(`no output ${path} in ${report.outputs.map((o) => o.path).join(', ')}`);
  return found;
}

function policyFile(name: string, yaml: string): string {
  const path = join(work, `${name}.yaml`);
  writeFileSync(path, yaml);
  return path;
}

const shipped = (name: string) => join(repoRoot, 'examples', 'policies', name);

describe('wrong verdicts that are now right', () => {
  it('1. an .npz whose side entries differ is different, and so is an array stored without the .npy suffix', async () => {
    const notes = await judge('npz-notes');
    expect(notes.verdict).toBe('different');
    const npz = output(notes, 'arrays.npz');
    expect(npz.metrics?.map((m) => [m.key, m.status])).toEqual([
      ['meta.json', 'different'],
      ['notes.txt', 'different'],
    ]);
    expect(npz.metrics?.find((m) => m.key === 'notes.txt')?.text_diff).toEqual(['--- baseline', '+++ candidate', '@@ -1,1 +1,1 @@', '-run 1', '\\ No newline at end of file', '+run 2', '\\ No newline at end of file']);
    expect((await judge('npz-same')).verdict).toBe('identical');
    const nosuffix = await judge('npz-nosuffix');
    expect(nosuffix.verdict).toBe('different');
    expect(output(nosuffix, 'arrays.npz').tensors?.[0]).toMatchObject({ name: 'weights', status: 'different', mismatched: 3 });
  });

  it('2. every array of an .npy is read, and bytes after the last one are a difference', async () => {
    const second = await judge('npy-second-array');
    expect(second.verdict).toBe('different');
    expect(output(second, 'arrays.npy').tensors?.map((t) => [t.name, t.status])).toEqual([
      ['[0]', 'identical'],
      ['[1]', 'different'],
    ]);
    expect((await judge('npy-same-two')).verdict).toBe('identical');
    const trailing = await judge('npy-trailing');
    expect(trailing.verdict).toBe('different');
    expect(output(trailing, 'p.npy').tensors?.map((t) => [t.name, t.status])).toEqual([
      ['', 'identical'],
      ['(bytes after the last array)', 'different'],
    ]);
    // Under allclose too: trailing bytes are not a value within tolerance.
    expect((await judge('npy-trailing', policyFile('loose', 'version: 1\ndefault: { atol: 1 }\n'))).verdict).toBe('different');
  });

  it('3. JSON keys are unambiguous paths, and a change of structure is a difference', async () => {
    expect((await judge('json-dotted')).verdict).toBe('different');
    expect((await judge('json-moved')).verdict).toBe('different');
    const listObject = await judge('json-list-object');
    expect(listObject.verdict).toBe('different');
    expect(output(listObject, 'm.json').metrics?.[0]?.message).toBe('type changed: a list in the baseline, an object in the candidate');
  });

  it('4. integers beyond 2^53 are compared exactly in JSON and CSV', async () => {
    const report = await judge('bigint');
    expect(output(report, 'm.json').status).toBe('different');
    expect(output(report, 't.csv').status).toBe('different');
    expect(output(report, 'm.json').metrics?.[0]).toMatchObject({ key: 'seed', baseline: '9007199254740993', candidate: '9007199254740992' });
  });

  it('5. a .keras config is compared exactly: a learning rate changed by 40% is different under the cross-hardware policies', async () => {
    for (const policy of ['cross-gpu.yaml', 'gpu-vs-cpu.yaml']) {
      const report = await judge('keras-lr', shipped(policy));
      expect([policy, report.verdict]).toEqual([policy, 'different']);
      const lr = output(report, 'model.keras').metrics?.find((m) => /learning_rate$/.test(m.key));
      // Keras keeps the rate as a float32.
      expect(lr?.status).toBe('different');
      expect(lr?.baseline as number).toBeCloseTo(0.001, 9);
      expect(lr?.candidate as number).toBeCloseTo(0.0014, 9);
    }
  });

  it('6. a non-finite candidate is never "better than the baseline"', async () => {
    const report = await judge('nonfinite', policyFile('directions', 'version: 1\nmetrics:\n  loss: { rtol: 0.1, greater_is_better: false }\n  accuracy: { atol: 0.1, greater_is_better: true }\n'));
    expect(report.verdict).toBe('different');
    expect(output(report, 'm.json').metrics?.map((m) => [m.key, m.status, m.message])).toEqual([
      ['loss', 'different', 'candidate is -Infinity'],
      ['accuracy', 'different', 'candidate is Infinity'],
    ]);
  });

  it('7. nan_equal: false makes a NaN fail in every mode, bitwise included; the default keeps byte-equal files identical', async () => {
    expect((await judge('nan-both')).verdict).toBe('identical');
    const strict = await judge('nan-both', policyFile('nan-strict', 'version: 1\ndefault: { mode: bitwise, nan_equal: false }\n'));
    expect(output(strict, 'p.npy')).toMatchObject({ status: 'different' });
    expect(output(strict, 'p.npy').tensors?.[0]).toMatchObject({ mismatched: 1, first_mismatch: [1] });
    expect(output(strict, 'm.json').status).toBe('different');
  });

  it('8. byte order and memory order are storage; the dtype\'s kind and width are content', async () => {
    const order = await judge('byteorder');
    expect(order.verdict).toBe('identical');
    expect(output(order, 'p.npy').tensors?.[0]).toMatchObject({ dtype: { baseline: '<f4', candidate: '>f4' }, message: 'byte order differs (storage only)' });
    expect((await judge('byteorder', policyFile('close', 'version: 1\ndefault: { atol: 1.0e-6 }\n'))).verdict).toBe('identical');
    const width = await judge('width');
    expect(width.verdict).toBe('different');
    expect(output(width, 'p.npy').message).toBe('dtype differs: <f4 vs <f8');
    const memory = await judge('memory-order');
    expect(memory.verdict).toBe('identical');
    expect(output(memory, 'w.h5').tensors?.[0]?.dtype).toEqual({ baseline: '<f4', candidate: '>f4' });
  });

  it('HDF5 attributes below the root (legacy Keras weight_names, a dataset\'s scale) are compared', async () => {
    const report = await judge('h5-attrs');
    expect(report.verdict).toBe('different');
    expect(output(report, 'model.h5').metrics?.map((m) => m.key)).toEqual(['model_weights/dense/kernel@scale', 'model_weights/dense@weight_names']);
  });
});

describe('errors that are now verdicts', () => {
  it('float16 HDF5 datasets are read', async () => {
    expect((await judge('h5-f16-same')).verdict).toBe('identical');
    const diff = await judge('h5-f16-diff');
    expect(diff.verdict).toBe('different');
    expect(output(diff, 'w.h5').tensors?.[0]).toMatchObject({ name: 'half', dtype: { baseline: '<f2', candidate: '<f2' }, elements: 20 });
  });

  it('HDF5 null dataspaces (h5py.Empty) compare, as datasets and as attributes', async () => {
    expect((await judge('h5-empty')).verdict).toBe('identical');
    const report = await judge('h5-empty-vs-data');
    expect(report.verdict).toBe('different');
    expect(output(report, 'e.h5').tensors?.[0]?.message).toMatch(/shape differs: no dataspace \(empty\) vs \(0,\)/);
  });

  it('C against Fortran order above 64 MiB is reordered tile by tile', async () => {
    const same = await judge('large-order-same');
    expect(same.verdict).toBe('identical');
    expect(output(same, 'p.npy').tensors?.[0]).toMatchObject({ elements: 4200 * 4200, message: 'memory order differs (storage only)' });
    const diff = await judge('large-order-diff');
    expect(diff.verdict).toBe('different');
    expect(output(diff, 'p.npy').tensors?.[0]).toMatchObject({ mismatched: 1, first_mismatch: [3000, 17] });
  }, 300_000);

  it('reorders small tiles of odd shapes right (every element, its first-mismatch index)', async () => {
    const dir = join(work, 'tiles');
    mkdirSync(dir, { recursive: true });
    execFileSync(tfPython, ['-c', `
import numpy as np
v = np.arange(7 * 5 * 3, dtype='<i4').reshape(7, 5, 3)
np.save('${dir}/c.npy', v)
w = np.asfortranarray(v.copy()); w[6, 1, 2] = -1; w[2, 4, 0] = -2
np.save('${dir}/f.npy', w)
`]);
    // Tiles of 8 elements: many tiles, runs that do not line up with them.
    const tiled = await compareNpyFiles(join(dir, 'c.npy'), join(dir, 'f.npy'), BITWISE, { reorderInMemoryBytes: 16, tileBytes: 32 });
    const whole = await compareNpyFiles(join(dir, 'c.npy'), join(dir, 'f.npy'), BITWISE);
    expect(tiled.tensors[0]).toMatchObject({ status: 'different', mismatched: 2, first_mismatch: [2, 4, 0], elements: 105 });
    expect(tiled.tensors).toEqual(whole.tensors);
  });

  it('reorders an array inside a compressed .npz through a temporary file it then removes', async () => {
    const dir = join(work, 'npz-tiles');
    mkdirSync(dir, { recursive: true });
    execFileSync(tfPython, ['-c', `
import numpy as np
v = np.arange(6 * 4 * 5, dtype='<f8').reshape(6, 4, 5)
w = np.asfortranarray(v.copy()); w[5, 3, 1] = 0.5
np.savez_compressed('${dir}/a.npz', v=v)
np.savez_compressed('${dir}/b.npz', v=w)
`]);
    const spools = () => readdirSync(tmpdir()).filter((n) => n.startsWith('snapshot-spool-')).length;
    const before = spools();
    const tiled = await compareNpzFiles(join(dir, 'a.npz'), join(dir, 'b.npz'), () => BITWISE, { reorderInMemoryBytes: 16, tileBytes: 64 });
    const whole = await compareNpzFiles(join(dir, 'a.npz'), join(dir, 'b.npz'), () => BITWISE);
    expect(tiled.tensors[0]).toMatchObject({ name: 'v', status: 'different', mismatched: 1, first_mismatch: [5, 3, 1] });
    expect(tiled.tensors).toEqual(whole.tensors);
    expect(spools()).toBe(before);
  });

  it('a JSON file with a UTF-8 byte order mark is read', async () => {
    expect((await judge('json-bom')).verdict).toBe('identical');
  });

  it('an HDF5 external link is refused, not followed out of the folder', async () => {
    const report = await judge('h5-external');
    const h5 = output(report, 'w.h5');
    expect(h5.status).toBe('error');
    expect(h5.tensors?.find((t) => t.name === 'linked')?.message).toMatch(/an HDF5 external link to ".*outside\.h5":\/secret, which is outside this file; not followed/);
    expect(h5.tensors?.find((t) => t.name === 'own')?.status).toBe('identical');
  });

  it('a symlink to an in-folder sibling named "..data" (Kubernetes volumes) is followed', async () => {
    for (const side of ['a', 'b']) {
      const dir = join(work, 'k8s', side);
      mkdirSync(join(dir, '..data'), { recursive: true });
      writeFileSync(join(dir, '..data', 'm.json'), '{"loss": 0.5}');
      symlinkSync('..data/m.json', join(dir, 'm.json'));
    }
    const report = await judge('k8s');
    expect(output(report, 'm.json').status).toBe('identical');
  });

  it('an unreadable subfolder is one output\'s error; the others are still judged (as an unprivileged user)', async () => {
    const base = mkdtempSync(join(tmpdir(), 'snapshot-unreadable-'));
    chmodSync(base, 0o755);
    for (const side of ['a', 'b']) {
      mkdirSync(join(base, side, 'secret'), { recursive: true });
      writeFileSync(join(base, side, 'm.json'), '{"loss": 0.5}');
      writeFileSync(join(base, side, 'secret', 'x.json'), '{}');
      chmodSync(join(base, side), 0o755);
      chmodSync(join(base, side, 'm.json'), 0o644);
    }
    chmodSync(join(base, 'b', 'secret'), 0o700);
    // Tests run as root, who reads everything: the CLI runs as nobody instead.
    const nobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--', process.execPath, join(repoRoot, 'bin', 'run.js'), 'compare', join(base, 'a'), join(base, 'b'), '--json'];
    for (const dir of [repoRoot]) expect(statSync(dir).mode & 0o005).toBe(0o005);
    let stdout = '';
    try {
      stdout = execFileSync(nobody[0] as string, nobody.slice(1), { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: '/tmp' }, cwd: '/tmp' });
    } catch (error) {
      stdout = (error as { stdout: string }).stdout;
    }
    const envelope = JSON.parse(stdout);
    const outputs = envelope.result.outputs as OutputReport[];
    expect(outputs.find((o) => o.path === 'm.json')?.status).toBe('identical');
    const secret = outputs.find((o) => o.path === 'secret');
    expect(secret).toMatchObject({ status: 'error' });
    expect(secret?.message).toMatch(/candidate secret is a folder that cannot be read \(permission denied\); not compared/);
    rmSync(base, { recursive: true, force: true });
  });
});

describe('policies for real cross-hardware comparisons', () => {
  it('judges a history by its last value with at: last, and says so', async () => {
    const all = await judge('history', policyFile('all-values', 'version: 1\nmetrics:\n  val_accuracy: { atol: 0.01 }\n'));
    expect(all.verdict).toBe('different');
    const last = await judge('history', policyFile('last-value', 'version: 1\nmetrics:\n  val_accuracy: { atol: 0.01, at: last }\n'));
    expect(last.verdict).toBe('equivalent');
    expect(output(last, 'history.json').metrics?.[0]?.message).toMatch(/judged the last of 3 values/);
  });

  it('treats optimizer state apart in the shipped cross-GPU policy, and groups it apart in the report', async () => {
    expect((await judge('optimizer')).verdict).toBe('different');
    const report = await judge('optimizer', shipped('cross-gpu.yaml'));
    expect(report.verdict).toBe('equivalent');
    const r = await runCli(['compare', join(work, 'optimizer', 'a'), join(work, 'optimizer', 'b')], { cwd: work });
    expect(r.stdout).toMatch(/weights: 1 tensors, 1 identical/);
    expect(r.stdout).toMatch(/optimizer state: 1 tensors, 0 identical\n\s+different tensor optimizer\/vars\/1/);
  });

  it('warns about a rule that matches nothing, naming it', async () => {
    const { warnings } = await compareOutputs({ baseline: join(work, 'history', 'a'), candidate: join(work, 'history', 'b'), cwd: work, policyPath: policyFile('typo', 'version: 1\nmetrics:\n  val_acc: { atol: 0.01 }\nrules:\n  - match: "evals/**"\n    mode: ignore\n') });
    expect(warnings.join('\n')).toMatch(/rules\[0\] \(match "evals\/\*\*"\) matched no output/);
    expect(warnings.join('\n')).toMatch(/metrics\.val_acc matched nothing/);
  });
});

describe('reports', () => {
  it('give non-numeric arrays no distance', async () => {
    const report = await judge('structured');
    expect(output(report, 's.npy').tensors?.[0]).toMatchObject({ status: 'different', max_abs_diff: null, max_rel_diff: null });
  });

  it('print names from the outputs terminal-safe', async () => {
    const dir = join(work, 'escape');
    for (const side of ['a', 'b']) {
      mkdirSync(join(dir, side), { recursive: true });
      writeFileSync(join(dir, side, 'x\u001b[2Jy.txt'), side);
    }
    const r = await runCli(['compare', join(dir, 'a'), join(dir, 'b')], { cwd: work });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).not.toContain('\u001b');
    expect(r.stdout).toContain('x\\u001b[2Jy.txt');
  });

  it('keep NaN, infinities and -0 in --json, and print -0 as -0', async () => {
    const dir = join(work, 'signs');
    for (const [side, value] of [['a', '0.0'], ['b', '-0.0']]) {
      mkdirSync(join(dir, side as string), { recursive: true });
      writeFileSync(join(dir, side as string, 'm.json'), `{"z": ${value}, "n": NaN, "i": Infinity}`);
    }
    const r = await runCli(['compare', join(dir, 'a'), join(dir, 'b'), '--json'], { cwd: work });
    const metrics = r.json.result.outputs[0].metrics;
    expect(metrics).toEqual([expect.objectContaining({ key: 'z', baseline: 0, candidate: '-0', message: 'sign of zero differs (bitwise)' })]);
    const human = await runCli(['compare', join(dir, 'a'), join(dir, 'b')], { cwd: work });
    expect(human.stdout).toMatch(/different z {2}baseline 0 {2}candidate -0/);
    const nan = join(work, 'nan-both');
    const strict = await runCli(['compare', join(nan, 'a'), join(nan, 'b'), '--policy', policyFile('nan-json', 'version: 1\ndefault: { nan_equal: false }\n'), '--json'], { cwd: work });
    const loss = strict.json.result.outputs.find((o: OutputReport) => o.path === 'm.json').metrics[0];
    expect(loss).toMatchObject({ baseline: 'NaN', candidate: 'NaN' });
  });

  it('say the real reason of an error in JUnit and Markdown', async () => {
    const junit = join(work, 'report.xml');
    const markdown = join(work, 'summary.md');
    await runCli(['compare', join(work, 'h5-external', 'a'), join(work, 'h5-external', 'b'), '--junit', junit, '--markdown', markdown], { cwd: work });
    expect(readFileSync(junit, 'utf8')).toMatch(/<error message="error: linked: baseline linked is an HDF5 external link/);
    expect(readFileSync(markdown, 'utf8')).toMatch(/linked: baseline linked is an HDF5 external link/);
  });

  it('check the --junit and --markdown targets before comparing', async () => {
    for (const flag of ['--junit', '--markdown']) {
      const r = await runCli(['compare', join(work, 'large-order-same', 'a'), join(work, 'large-order-same', 'b'), flag, join(work, 'no', 'such', 'folder', 'r.out'), '--json'], { cwd: work });
      expect(r.exitCode).toBe(4);
      expect(r.json.error.message).toMatch(new RegExp(`cannot write ${flag} .*r\\.out: folder .* does not exist`));
    }
    expect(readdirSync(work)).not.toContain('no');
  });
});

describe('JSON metrics as json.load reads them (review)', () => {
  it('A7. the last of a repeated key counts, on both sides', async () => {
    const extra = await judge('json-dup-extra');
    expect(output(extra, 'm.json')).toMatchObject({ status: 'different' });
    expect(output(extra, 'm.json').metrics).toEqual([expect.objectContaining({ key: 'a', status: 'different', baseline: 1, candidate: 7 })]);
    const same = await judge('json-dup-same');
    expect(same.verdict).toBe('identical');
    expect(output(same, 'm.json').message).toMatch(/the key "a" repeats in the object at the top level: read whole, the last of a repeated key counts \(as in json\.load\)/);
  });

  it('A8. at: last with nan_equal off: a list holding a NaN is equivalent at best', async () => {
    const report = await judge('json-at-last-nan', policyFile('last-nan', 'version: 1\nmetrics:\n  loss: { at: last, nan_equal: false }\n'));
    expect(report.verdict).toBe('equivalent');
    expect(output(report, 'history.json').metrics?.[0]?.message).toMatch(/judged the last of 2 values; the list holds a NaN, which never equals anything with nan_equal off/);
  });

  it('B1. at: on lists that are not lists of numbers judges every value instead of recursing forever', async () => {
    const report = await judge('json-at-lists', shipped('cross-gpu.yaml'));
    expect(output(report, 'history.json')).toMatchObject({ status: 'identical' });
  });

  it('B1. a two-output Keras model (its compile_config.loss a list of strings) is identical under the shipped cross-gpu.yaml', async () => {
    const report = await judge('keras-two-outputs', shipped('cross-gpu.yaml'));
    expect(output(report, 'model.keras')).toMatchObject({ status: 'identical', message: 'the archives differ in bytes only (zip timestamps and ignored keys)' });
    expect(report.verdict).toBe('identical');
  });

  it('C5. an integer -0 is 0 (one int in Python); 1 and 1.0 are an int and a float, a type change', async () => {
    expect((await judge('json-int-zero')).verdict).toBe('identical');
    const typed = await judge('json-int-float', policyFile('int-float', 'version: 1\ndefault: { atol: 1 }\n'));
    expect(typed.verdict).toBe('different');
    expect(output(typed, 'm.json').metrics?.[0]).toMatchObject({ key: 'n', message: 'type changed: an integer in the baseline, a float in the candidate' });
  });
});

describe('text that is not UTF-8 (review)', () => {
  it('A6. JSON and CSV with bytes that are not UTF-8 are an error naming the file and the side, small or large', async () => {
    const report = await judge('utf8-bad');
    const dir = join(work, 'utf8-bad');
    for (const [name, pattern] of [
      ['m.json', /baseline .*utf8-bad\/a\/m\.json is not valid UTF-8: a string starting at byte 6 \(line 1\) holds bytes that are not UTF-8/],
      ['big.json', /baseline .*utf8-bad\/a\/big\.json is not valid UTF-8/],
      ['t.csv', /baseline .*utf8-bad\/a\/t\.csv is not valid UTF-8 text; candidate .*utf8-bad\/b\/t\.csv is not valid UTF-8 text/],
      ['big.csv', /baseline .*utf8-bad\/a\/big\.csv is not valid UTF-8 text/],
    ] as const) {
      expect([name, output(report, name).status]).toEqual([name, 'error']);
      expect(output(report, name).message).toMatch(pattern);
    }
    const cli = await runCli(['compare', join(dir, 'a'), join(dir, 'b')], { cwd: work });
    expect(cli.exitCode).toBe(7);
    expect(cli.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('metric rule keys (review)', () => {
  it('C4. a rule ending in ** applies to the scalar list element it names, in JSON and in CSV rows', async () => {
    const report = await judge('rule-index-globstar', policyFile('index-globstar', 'version: 1\nmetrics:\n  "x.1.**": { atol: 0.01 }\n'));
    expect(report.verdict).toBe('equivalent');
    for (const name of ['m.json', 't.csv']) expect(output(report, name).metrics).toEqual([expect.objectContaining({ key: 'x.1', status: 'equivalent', message: 'within tolerance' })]);
  });

  it('C5. [ ] and the other glob characters but * and ? are literal in a metric key', async () => {
    const { report, warnings } = await compareOutputs({ baseline: join(work, 'rule-literal-brackets', 'a'), candidate: join(work, 'rule-literal-brackets', 'b'), cwd: work, policyPath: policyFile('brackets', 'version: 1\nmetrics:\n  "loss[1]": { atol: 0.2 }\n') });
    expect(output(report, 'm.json').metrics?.map((m) => [m.key, m.status])).toEqual([
      ['loss[1]', 'equivalent'],
      ['loss1', 'different'],
    ]);
    expect(warnings).toEqual([]);
  });
});

describe('.npy and .npz as np.load reads them (review)', () => {
  it('A4. a structured field named w1l is not w1; a Python 2 shape (3L,) is (3,)', async () => {
    const named = await judge('npy-field-l');
    expect(named.verdict).toBe('different');
    expect(output(named, 's.npy').message).toBe("dtype differs: [('w1l', '<f4')] vs [('w1', '<f4')]");
    expect((await judge('npy-py2-shape')).verdict).toBe('identical');
  });
});

describe('.npz entries as np.load lists them (review)', () => {
  it('A5. entries x.npy and x are two arrays, each compared (np.load: keys "x.npy" and "x")', async () => {
    const report = await judge('npz-x-and-xnpy');
    expect(report.verdict).toBe('different');
    expect(output(report, 'arrays.npz').tensors?.map((t) => [t.name, t.status])).toEqual([
      ['x', 'identical'],
      ['x.npy', 'different'],
    ]);
  });

  it('C5. a folder entry np.load lists is an entry too', async () => {
    const report = await judge('npz-folder-entry');
    expect(report.verdict).toBe('equivalent');
    expect(output(report, 'arrays.npz').metrics).toEqual([expect.objectContaining({ key: 'extra/', status: 'extra' })]);
  });
});

describe('non-numeric arrays (review)', () => {
  it('C1. byte order of strings, datetimes and records is storage; their values are still content', async () => {
    const report = await judge('npy-byteorder-other');
    expect(report.verdict).toBe('identical');
    for (const name of ['u.npy', 't.npy', 'r.npy']) expect(output(report, name).tensors?.[0]).toMatchObject({ status: 'identical', message: expect.stringMatching(/^byte order differs \(storage only\)/) });
    const diff = await judge('npy-byteorder-other-diff');
    expect(diff.verdict).toBe('different');
    expect(output(diff, 'r.npy').tensors?.[0]).toMatchObject({ status: 'different', mismatched: 1, first_mismatch: [0] });
    // With nan_equal off a NaN in a record's float field fails, as a NaN anywhere else does.
    const strict = await judge('npy-byteorder-other', policyFile('records-nan', 'version: 1\ndefault: { nan_equal: false }\n'));
    expect(output(strict, 'r.npy').tensors?.[0]).toMatchObject({ status: 'different', mismatched: 1, first_mismatch: [1] });
    expect(output(strict, 'u.npy').status).toBe('identical');
  });

  it('B3. a zero-itemsize dtype compares identical', async () => {
    const report = await judge('npy-zero-itemsize');
    expect(report.verdict).toBe('identical');
    expect(output(report, 'z.npy').tensors?.[0]).toMatchObject({ status: 'identical', elements: 3 });
  });

  it('C2. after a pickled object array the rest is compared as bytes, and the report says so', async () => {
    const report = await judge('npy-pickle-then-array');
    const npy = output(report, 'p.npy');
    expect(npy.status).toBe('different');
    expect(npy.tensors?.[0]?.message).toMatch(/object array \(\|O\) is stored pickled: it and the rest of the data after it are compared as bytes \(a pickle has no length of its own, so an array after it cannot be read without unpickling\), and they differ: whether the objects or what follows them differ is unknown/);
    const same = await judge('npy-pickle-same');
    expect(same.verdict).toBe('identical');
    expect(output(same, 'p.npy').tensors?.[0]?.message).toMatch(/it and the rest of the data after it are compared as bytes, and are the same/);
  });
});

describe('HDF5 bit for bit, with the full type (review)', () => {
  it('A1. attributes: int64 beyond 2^53, NaN and infinities in arrays, -0 in arrays are compared bit for bit', async () => {
    const report = await judge('h5-attr-values');
    expect(report.verdict).toBe('different');
    expect(output(report, 'w.h5').metrics?.map((m) => [m.key, m.status, m.baseline, m.candidate])).toEqual([
      ['@big', 'different', '9007199254740993', '9007199254740992'],
      ['@nonfinite', 'different', ['NaN', 1], ['Infinity', 1]],
      ['@zero', 'different', ['-0', 1], [0, 1]],
    ]);
  });

  it('A1. attributes: the dtype is content (int32 3 vs int64 3, int64 3 vs float64 3.0)', async () => {
    const report = await judge('h5-attr-dtype');
    expect(output(report, 'w.h5').metrics?.map((m) => [m.key, m.status, m.message])).toEqual([
      ['@f', 'different', 'dtype differs: <i8 vs <f8'],
      ['@i', 'different', 'dtype differs: <i4 vs <i8'],
    ]);
  });

  it('A1. attributes: a NaN never equals anything with nan_equal off; it equals itself by default', async () => {
    expect((await judge('h5-attr-nan')).verdict).toBe('identical');
    const strict = await judge('h5-attr-nan', policyFile('h5-nan-strict', 'version: 1\ndefault: { nan_equal: false }\n'));
    expect(output(strict, 'w.h5').metrics).toEqual([expect.objectContaining({ key: '@loss', status: 'different', message: 'differs (bitwise; a NaN never equals anything with nan_equal off)' })]);
    expect(strict.verdict).toBe('different');
  });

  it('A2. compound datasets: field names and types, and every bit of each field', async () => {
    const fields = await judge('h5-compound-fields');
    expect(fields.verdict).toBe('different');
    expect(output(fields, 'w.h5').tensors?.[0]?.message).toBe("dtype differs: [('a', '<i4'), ('b', '<f4')] vs [('x', '<f4'), ('y', '<i4')]");
    const nanInf = await judge('h5-compound-nan-inf');
    expect(output(nanInf, 'w.h5').tensors?.[0]).toMatchObject({ status: 'different', mismatched: 1 });
  });

  it('A2. complex numbers: 1+nanj is not 1+infj', async () => {
    const report = await judge('h5-complex-nan-inf');
    expect(output(report, 'w.h5').tensors?.[0]).toMatchObject({ name: 'z', status: 'different', dtype: { baseline: '<c16', candidate: '<c16' }, mismatched: 1 });
  });

  it('A2. enums: the members are content', async () => {
    const report = await judge('h5-enum-members');
    expect(output(report, 'w.h5').tensors?.[0]?.message).toBe('dtype differs: enum(|i1){RED: 0, GREEN: 1} vs enum(|i1){CAT: 0, DOG: 1}');
  });

  it('A2/C1. compounds stored in either byte order, or in mixed order, are identical when their values are', async () => {
    const report = await judge('h5-compound-byteorder');
    expect(report.verdict).toBe('identical');
    expect(output(report, 'w.h5').tensors?.map((t) => [t.name, t.status])).toEqual([
      ['m', 'identical'],
      ['r', 'identical'],
    ]);
  });

  it('A3. fixed-length strings that differ after an embedded NUL differ, as datasets and as attributes', async () => {
    const report = await judge('h5-string-nul');
    const h5 = output(report, 'w.h5');
    expect(h5.status).toBe('different');
    expect(h5.tensors?.[0]).toMatchObject({ name: 's', status: 'different', dtype: { baseline: '|S4', candidate: '|S4' }, mismatched: 1 });
    expect(h5.metrics).toEqual([expect.objectContaining({ key: '@s', status: 'different', baseline: ['ab\u0000c'], candidate: ['ab\u0000d'] })]);
  });

  it('variable-length strings and sequences compare by value, byte order aside', async () => {
    expect((await judge('h5-vlen-byteorder')).verdict).toBe('identical');
    const diff = await judge('h5-vlen-diff');
    const h5 = output(diff, 'w.h5');
    expect(h5.tensors?.map((t) => [t.name, t.status, t.first_mismatch])).toEqual([
      ['seq', 'different', [1]],
      ['vs', 'different', [1]],
    ]);
    expect(h5.metrics).toEqual([expect.objectContaining({ key: '@note', status: 'different', baseline: '3', candidate: '4' })]);
    // With nan_equal off a NaN inside a sequence never equals anything either.
    expect((await judge('h5-vlen-nan')).verdict).toBe('identical');
    const strict = await judge('h5-vlen-nan', policyFile('vlen-nan', 'version: 1\ndefault: { nan_equal: false }\n'));
    expect(output(strict, 'w.h5').tensors?.[0]).toMatchObject({ name: 'seq', status: 'different', mismatched: 1, first_mismatch: [0] });
  });
});

describe('HDF5 links and groups (review)', () => {
  it('B2. a hard-link cycle and a soft link to an ancestor: each object visited once, identical, quickly', async () => {
    const started = Date.now();
    const report = await judge('h5-links');
    expect(report.verdict).toBe('identical');
    expect(Date.now() - started).toBeLessThan(20_000);
    const { compareH5Files } = await import('../../src/adapters/readers/hdf5-file.js');
    const result = await compareH5Files(join(work, 'h5-links', 'a', 'w.h5'), join(work, 'h5-links', 'b', 'w.h5'), BITWISE);
    expect(result.error).toBeUndefined();
    expect(result.tensors.map((t) => t.name)).toEqual(['g/x', 'g2/y']);
    expect(result.structure.map((m) => [m.key, m.status, m.baseline])).toEqual([
      ['alias', 'identical', 'soft link to "/g/x"'],
      ['g/self', 'identical', 'hard link to the group "/g", not entered again'],
      ['g2/up', 'identical', 'soft link to "/g2"'],
    ]);
  });

  it('B2. a soft link is compared by its target', async () => {
    const report = await judge('h5-soft-target');
    expect(report.verdict).toBe('different');
    expect(output(report, 'w.h5').metrics).toEqual([expect.objectContaining({ key: 'alias', status: 'different', baseline: 'soft link to "/g/x"', candidate: 'soft link to "/g/y"' })]);
  });

  it('C5. an empty group on one side only is missing from the other', async () => {
    const report = await judge('h5-empty-group');
    expect(report.verdict).toBe('different');
    expect(output(report, 'w.h5').metrics).toEqual([expect.objectContaining({ key: 'empty', status: 'missing', message: 'group missing from the candidate' })]);
  });
});

describe('policy warnings (review)', () => {
  it('C3. a rule that matches a byte-identical output is not reported as matching nothing', async () => {
    const policy = policyFile('identical-rules', 'version: 1\nmetrics:\n  loss: { atol: 0.1 }\n  acc: { atol: 0.1 }\n  typo_key: { atol: 0.1 }\n');
    const { report, warnings } = await compareOutputs({ baseline: join(work, 'identical-rules', 'a'), candidate: join(work, 'identical-rules', 'b'), cwd: work, policyPath: policy });
    expect(report.verdict).toBe('identical');
    expect(warnings).toEqual([`policy ${policy}: metrics.typo_key matched nothing`]);
  });

  it('C3. a byte-identical .keras archive still uses the tensor and metric rules that match it', async () => {
    const { report, warnings } = await compareOutputs({ baseline: join(work, 'keras-same-bytes', 'a'), candidate: join(work, 'keras-same-bytes', 'b'), cwd: work, policyPath: shipped('cross-gpu.yaml') });
    expect(output(report, 'model.keras')).toMatchObject({ status: 'identical', message: 'the archives are byte-identical' });
    const joined = warnings.join('\n');
    // Its weights hold optimizer/ state and its config a loss: those rules match.
    expect(joined).not.toMatch(/tensors\.optimizer\/\*\* matched nothing/);
    expect(joined).not.toMatch(/metrics\.loss matched nothing/);
    expect(joined).toMatch(/metrics\.val_loss matched nothing/);
  });
});
