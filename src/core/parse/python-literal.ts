// A reader for the Python literals found in generated modules (TensorFlow's build_info.py,
// torch/version.py). It never executes anything: it understands strings, numbers,
// True/False/None, lists, tuples, dicts, bare names and calls such as
// collections.OrderedDict([...]), and gives up (undefined) on anything else.

export type PyValue =
  | string
  | number
  | boolean
  | null
  | PyValue[]
  | { kind: 'dict'; entries: Array<[PyValue, PyValue]> }
  | { kind: 'call'; callee: string; args: PyValue[] }
  | { kind: 'name'; name: string };

class PyParseError extends Error {}

const ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '0': '\0',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
  '\\': '\\',
  "'": "'",
  '"': '"',
};

class Reader {
  pos: number;

  constructor(
    private readonly src: string,
    start: number,
  ) {
    this.pos = start;
  }

  /** Skips spaces, newlines, backslash continuations and comments (we are inside an expression). */
  private skip(): void {
    for (;;) {
      const c = this.src[this.pos];
      if (c === undefined) return;
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') {
        this.pos++;
      } else if (c === '\\' && (this.src[this.pos + 1] === '\n' || this.src[this.pos + 1] === '\r')) {
        this.pos += 2;
      } else if (c === '#') {
        while (this.pos < this.src.length && this.src[this.pos] !== '\n') this.pos++;
      } else {
        return;
      }
    }
  }

  private peek(): string | undefined {
    this.skip();
    return this.src[this.pos];
  }

  private expect(ch: string): void {
    if (this.peek() !== ch) throw new PyParseError(`expected ${ch} at ${this.pos}`);
    this.pos++;
  }

  value(): PyValue {
    const c = this.peek();
    if (c === undefined) throw new PyParseError('unexpected end');
    if (c === '[') return this.sequence('[', ']');
    if (c === '(') return this.paren();
    if (c === '{') return this.dict();
    if (c === "'" || c === '"') return this.strings();
    if (/[-+.\d]/.test(c)) return this.number();
    if (/[A-Za-z_]/.test(c)) {
      const prefixed = /^([rRuUbBfF]{1,2})['"]/.exec(this.src.slice(this.pos, this.pos + 3));
      if (prefixed) return this.strings();
      return this.nameOrCall();
    }
    throw new PyParseError(`unexpected ${c} at ${this.pos}`);
  }

  private sequence(open: string, close: string): PyValue[] {
    this.expect(open);
    const items: PyValue[] = [];
    for (;;) {
      if (this.peek() === close) {
        this.pos++;
        return items;
      }
      items.push(this.value());
      const next = this.peek();
      if (next === ',') this.pos++;
      else if (next !== close) throw new PyParseError(`expected , or ${close} at ${this.pos}`);
    }
  }

  /** (x) is x; (x,) and (a, b) are tuples, read as arrays. */
  private paren(): PyValue {
    this.expect('(');
    const items: PyValue[] = [];
    let sawComma = false;
    for (;;) {
      if (this.peek() === ')') {
        this.pos++;
        break;
      }
      items.push(this.value());
      const next = this.peek();
      if (next === ',') {
        sawComma = true;
        this.pos++;
      } else if (next !== ')') {
        throw new PyParseError(`expected , or ) at ${this.pos}`);
      }
    }
    if (items.length === 1 && !sawComma) return items[0] as PyValue;
    return items;
  }

  private dict(): PyValue {
    this.expect('{');
    const entries: Array<[PyValue, PyValue]> = [];
    for (;;) {
      if (this.peek() === '}') {
        this.pos++;
        return { kind: 'dict', entries };
      }
      const key = this.value();
      this.expect(':');
      entries.push([key, this.value()]);
      const next = this.peek();
      if (next === ',') this.pos++;
      else if (next !== '}') throw new PyParseError(`expected , or } at ${this.pos}`);
    }
  }

  private number(): number {
    this.skip();
    const m = /^[-+]?(?:\d[\d_]*)?(?:\.\d*)?(?:[eE][-+]?\d+)?/.exec(this.src.slice(this.pos));
    const text = m?.[0] ?? '';
    const n = Number(text.replace(/_/g, ''));
    if (text === '' || Number.isNaN(n)) throw new PyParseError(`bad number at ${this.pos}`);
    this.pos += text.length;
    return n;
  }

  /** Adjacent string literals concatenate, as in Python. */
  private strings(): string {
    let out = this.string();
    for (;;) {
      const c = this.peek();
      const prefixed = c !== undefined && /^[rRuUbBfF]{1,2}['"]/.test(this.src.slice(this.pos, this.pos + 3));
      if (c === "'" || c === '"' || prefixed) out += this.string();
      else return out;
    }
  }

  private string(): string {
    this.skip();
    let raw = false;
    while (/[rRuUbBfF]/.test(this.src[this.pos] ?? '')) {
      if (/[rR]/.test(this.src[this.pos] ?? '')) raw = true;
      this.pos++;
    }
    const q = this.src[this.pos];
    if (q !== "'" && q !== '"') throw new PyParseError(`expected quote at ${this.pos}`);
    const triple = this.src.startsWith(q.repeat(3), this.pos);
    const delim = triple ? q.repeat(3) : q;
    this.pos += delim.length;
    let out = '';
    for (;;) {
      const c = this.src[this.pos];
      if (c === undefined) throw new PyParseError('unterminated string');
      if (this.src.startsWith(delim, this.pos)) {
        this.pos += delim.length;
        return out;
      }
      if (!triple && (c === '\n' || c === '\r')) throw new PyParseError('newline in string');
      if (c === '\\' && !raw) {
        const e = this.src[this.pos + 1] ?? '';
        if (e === 'x' || e === 'u') {
          const len = e === 'x' ? 2 : 4;
          const hex = this.src.slice(this.pos + 2, this.pos + 2 + len);
          if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) throw new PyParseError('bad escape');
          out += String.fromCharCode(parseInt(hex, 16));
          this.pos += 2 + len;
        } else if (e === '\n') {
          this.pos += 2;
        } else {
          out += ESCAPES[e] ?? `\\${e}`;
          this.pos += 2;
        }
        continue;
      }
      out += c;
      this.pos++;
    }
  }

  private nameOrCall(): PyValue {
    this.skip();
    const m = /^[A-Za-z_][\w]*(?:\s*\.\s*[A-Za-z_]\w*)*/.exec(this.src.slice(this.pos));
    if (!m) throw new PyParseError(`bad name at ${this.pos}`);
    this.pos += m[0].length;
    const name = m[0].replace(/\s+/g, '');
    if (name === 'True') return true;
    if (name === 'False') return false;
    if (name === 'None') return null;
    // Look for a call on the same logical line.
    const save = this.pos;
    while (this.src[this.pos] === ' ' || this.src[this.pos] === '\t') this.pos++;
    if (this.src[this.pos] === '(') {
      const args = this.sequence('(', ')');
      return { kind: 'call', callee: name, args };
    }
    this.pos = save;
    return { kind: 'name', name };
  }
}

/** Parses one Python literal expression starting at `start`; undefined when it is not one. */
export function parsePythonExpression(source: string, start = 0): { value: PyValue; end: number } | undefined {
  try {
    const reader = new Reader(source, start);
    const value = reader.value();
    return { value, end: reader.pos };
  } catch (err) {
    if (err instanceof PyParseError) return undefined;
    throw err;
  }
}

/** Parses a whole string as one literal (trailing whitespace allowed); undefined otherwise. */
export function parsePythonLiteral(text: string): PyValue | undefined {
  const parsed = parsePythonExpression(text);
  if (!parsed || text.slice(parsed.end).trim() !== '') return undefined;
  return parsed.value;
}

/**
 * Module-level assignments `name = <literal>` and annotated `name: T = <literal>`, in source
 * order, last one winning. Indented lines (inside functions, classes, ifs) are ignored, and so
 * are right-hand sides that are not literals.
 */
export function pythonModuleAssignments(source: string): Map<string, PyValue> {
  const out = new Map<string, PyValue>();
  const re = /^([A-Za-z_]\w*)[ \t]*(?::[^=\n]*)?=(?!=)[ \t]*/gm;
  for (let m = re.exec(source); m !== null; m = re.exec(source)) {
    const name = m[1] as string;
    const parsed = parsePythonExpression(source, m.index + m[0].length);
    if (parsed) {
      out.set(name, parsed.value);
      re.lastIndex = Math.max(re.lastIndex, parsed.end);
    }
  }
  return out;
}

/** Key/value pairs of a dict literal, dict(...)/OrderedDict([...]) call, or list of pairs. */
export function pythonMappingEntries(value: PyValue | undefined): Array<[PyValue, PyValue]> | null {
  if (value === undefined || value === null || typeof value !== 'object') return null;
  if (Array.isArray(value)) {
    const pairs: Array<[PyValue, PyValue]> = [];
    for (const item of value) {
      if (Array.isArray(item) && item.length === 2) pairs.push([item[0] as PyValue, item[1] as PyValue]);
      else return null;
    }
    return pairs;
  }
  if (value.kind === 'dict') return value.entries;
  if (value.kind === 'call' && /(^|\.)(OrderedDict|dict)$/.test(value.callee)) {
    if (value.args.length === 0) return [];
    return pythonMappingEntries(value.args[0]);
  }
  return null;
}
