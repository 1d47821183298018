import { describe, expect, it } from '@jest/globals';
import { h5Dtype, h5IsVariable, h5Order, type H5TypeInfo } from '../../../src/core/compare/h5-dtype.js';
import { sameValueType } from '../../../src/core/compare/tensor-pair.js';

// Shapes of h5wasm's datatype metadata, as it reports them for files h5py writes.
const int = (size: number, littleEndian = true, signed = true): H5TypeInfo => ({ type: 0, size, signed, littleEndian });
const float = (size: number, littleEndian = true): H5TypeInfo => ({ type: 1, size, littleEndian });
const fixedString = (size: number): H5TypeInfo => ({ type: 3, size, cset: 0, strpad: 1, vlen: false, littleEndian: false });
const vlenString: H5TypeInfo = { type: 3, size: 4, cset: 1, strpad: 0, vlen: true, littleEndian: true };
const compound = (size: number, ...members: Array<[string, number, H5TypeInfo]>): H5TypeInfo => ({
  type: 6,
  size,
  littleEndian: false,
  compound_type: { members: members.map(([name, offset, t]) => ({ ...t, name, offset })) },
});

describe('HDF5 datatypes for the pairing', () => {
  it('orders a compound as HDF5 does: its ordered members, strings ignored, mixed when they disagree', () => {
    expect(h5Order(compound(8, ['a', 0, int(4, false)], ['b', 4, float(4, false)]))).toBe('be');
    expect(h5Order(compound(8, ['a', 0, int(4, false)], ['b', 4, float(4, true)]))).toBe('mixed');
    expect(h5Order(compound(6, ['s', 0, fixedString(2)], ['v', 2, int(4, false)]))).toBe('be');
    expect(h5Order(compound(8, ['a', 0, int(4, false)], ['s', 4, vlenString]))).toBe('mixed');
  });

  it('gives each scalar its byte order in memory: a big-endian compound arrives converted, a mixed one as stored', () => {
    expect(h5Dtype(compound(8, ['a', 0, int(4, false)], ['b', 4, float(4, false)])).units).toEqual([
      { offset: 0, width: 4, littleEndian: true },
      { offset: 4, width: 4, littleEndian: true, float: true },
    ]);
    expect(h5Dtype(compound(8, ['a', 0, int(4, false)], ['b', 4, float(4, true)])).units).toEqual([
      { offset: 0, width: 4, littleEndian: false },
      { offset: 4, width: 4, littleEndian: true, float: true },
    ]);
  });

  it('knows h5py complex numbers and bools; compares everything else with its full type, byte order aside', () => {
    expect(h5Dtype(compound(16, ['r', 0, float(8, false)], ['i', 8, float(8, false)]))).toMatchObject({ kind: 'c', itemsize: 16, descr: '>c16' });
    expect(h5Dtype({ type: 8, size: 1, signed: true, littleEndian: true, enum_type: { type: 0, members: { FALSE: 0, TRUE: 1 } } })).toMatchObject({ kind: 'b', descr: '|b1' });
    const red = h5Dtype({ type: 8, size: 1, signed: true, littleEndian: true, enum_type: { type: 0, members: { RED: 0, GREEN: 1 } } });
    const cat = h5Dtype({ type: 8, size: 1, signed: true, littleEndian: true, enum_type: { type: 0, members: { CAT: 0, DOG: 1 } } });
    expect(sameValueType(red, cat)).toBe(false);
    expect(sameValueType(h5Dtype(compound(8, ['a', 0, int(4)], ['b', 4, float(4)])), h5Dtype(compound(8, ['x', 0, float(4)], ['y', 4, int(4)])))).toBe(false);
    expect(sameValueType(h5Dtype(compound(8, ['a', 0, int(4, false)], ['b', 4, float(4)])), h5Dtype(compound(8, ['a', 0, int(4)], ['b', 4, float(4)])))).toBe(true);
    expect(sameValueType(h5Dtype(fixedString(4)), h5Dtype({ ...fixedString(4), cset: 1 }))).toBe(false);
    expect(h5Dtype(fixedString(4)).descr).toBe('|S4');
    expect(h5Dtype({ ...fixedString(4), cset: 1, strpad: 0 }).descr).toBe('|S4 (utf-8, nullterm)');
  });

  it('tells variable-length types, which are compared by value', () => {
    expect(h5IsVariable(vlenString)).toBe(true);
    expect(h5IsVariable(compound(8, ['a', 0, int(4)], ['s', 4, vlenString]))).toBe(true);
    expect(h5IsVariable(fixedString(4))).toBe(false);
  });
});
