// Reading JSON as Python's json module writes it, value by value, without holding the document:
// a cursor over bytes pulled from a feed, so two metrics files of any size are compared in
// lockstep with flat memory. Why not JSON.parse: it holds the whole document (twice the file for
// 20M numbers), loses integers above 2^53 (9007199254740993 reads as ...992) and refuses the NaN,
// Infinity and -Infinity that json.dump writes for a diverged loss. The grammar is JSON's
// (RFC 8259), plus those three literals; a UTF-8 byte order mark is skipped, and bytes that are not
// UTF-8 are refused, as json.load refuses them.
//
// The same JsonCursor interface walks an already-read value (valueCursor), so the comparator has
// one code path whether it streams or works on a part it had to read whole (keys in another order).

/**
 * A JSON number as Python's json module reads it: an integer literal (no fraction, no exponent) is
 * an int, a bigint here, exact at any size, and -0 is 0; anything else is a float, a double here
 * (NaN, Infinity and -0.0 included). 1 and 1.0 are two types, as in Python.
 */
export type JsonNumber = number | bigint;

/** A value read whole: objects keep their key order (and, as in Python, the last of a repeated key). */
export type JsonValue = null | boolean | JsonNumber | string | JsonValue[] | Map<string, JsonValue>;

export type JsonKind = 'object' | 'array' | 'string' | 'number' | 'boolean' | 'null';

/** A walk over one JSON document: at each value position, say what it is, then read, enter or skip it. */
export interface JsonCursor {
  /** The kind of the value at the cursor. */
  kind(): JsonKind;
  readString(): string;
  readNumber(): JsonNumber;
  readBoolean(): boolean;
  readNull(): void;
  /** Enters the object at the cursor. */
  enterObject(): void;
  /** The next key of the object entered (the cursor is then at its value), or null after its last entry. */
  nextKey(): string | null;
  /** Enters the array at the cursor. */
  enterArray(): void;
  /** True when the array entered has another element (the cursor is then at it); false after its last. */
  nextElement(): boolean;
  /** Skips the value at the cursor, calling onLeaf for each scalar (and empty container) in it, with its path below the value. */
  skipValue(onLeaf?: (path: readonly (string | number)[], value: JsonValue) => void): void;
  /** Reads the value at the cursor whole. */
  readValue(): JsonValue;
  /** After the top-level value: nothing but whitespace may follow. */
  finish(): void;
}

export class JsonSyntaxError extends Error {}

/** Pulls the document's bytes: the next chunk, or null at the end. */
export interface ByteFeed {
  next(): Uint8Array | null;
}

const MAX_DEPTH = 1000; // Python's own recursion limit: what json.load cannot read, we do not either.

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

type Frame = { kind: 'object' | 'array'; first: boolean };

/**
 * Parses a number token for a reader without integer types (a CSV cell): a double, or a bigint
 * for an integer beyond 2^53; an integer -0 is 0.
 */
export function numberFromToken(token: string): JsonNumber {
  const integer = !/[.eE]/.test(token);
  if (integer && token.replace('-', '').length >= 16) {
    const big = BigInt(token);
    if (big > MAX_SAFE || big < -MAX_SAFE) return big;
  }
  const value = Number(token);
  return integer && value === 0 ? 0 : value;
}

/** A cursor over a byte feed. Syntax errors throw JsonSyntaxError with the byte offset and line. */
export class StreamCursor implements JsonCursor {
  /** Always a Buffer, so a token decodes with toString(encoding, start, end): no view object per token. */
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  /** Bytes consumed before buf[0], for messages. */
  private base = 0;
  private line = 1;
  private ended = false;
  private readonly stack: Frame[] = [];
  private started = false;
  /** Two buffers for joining a token split across chunks; buf may live in one while the other is filled. */
  private readonly joins: Buffer[] = [Buffer.alloc(0), Buffer.alloc(0)];
  private spare = 0;

  /** `what` names the document in syntax errors ("baseline out/metrics.json"). */
  constructor(
    private readonly feed: ByteFeed,
    private readonly what = 'the document',
  ) {}

  // ---------------------------------------------------------------- bytes

  /** Makes at least n bytes available from pos, unless the document ends first; returns how many there are. */
  private fill(n: number): number {
    while (this.buf.length - this.pos < n && !this.ended) {
      const chunk = this.feed.next();
      if (chunk === null) {
        this.ended = true;
        break;
      }
      if (chunk.length === 0) continue;
      const rest = this.buf.length - this.pos;
      if (rest === 0) {
        this.base += this.buf.length;
        this.buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      } else {
        // A token across the boundary: the rest and the new chunk, joined in one of two buffers
        // kept for it (not one fresh megabyte per chunk, which only the garbage collector frees).
        this.spare = this.spare === 0 ? 1 : 0;
        let target = this.joins[this.spare] as Buffer;
        if (target.length < rest + chunk.length) {
          target = Buffer.allocUnsafe(Math.max(rest + chunk.length, target.length * 2));
          this.joins[this.spare] = target;
        }
        target.set(this.buf.subarray(this.pos));
        target.set(chunk, rest);
        this.base += this.pos;
        this.buf = target.subarray(0, rest + chunk.length);
      }
      this.pos = 0;
    }
    return this.buf.length - this.pos;
  }

  private fail(what: string): never {
    throw new JsonSyntaxError(`${this.what} is not valid JSON: ${what} at byte ${this.base + this.pos} (line ${this.line})`);
  }

  /** Skips whitespace (and, first of all, a byte order mark); returns the next byte or -1 at the end. */
  private peekByte(): number {
    if (!this.started) {
      this.started = true;
      if (this.fill(3) >= 3 && this.buf[this.pos] === 0xef && this.buf[this.pos + 1] === 0xbb && this.buf[this.pos + 2] === 0xbf) this.pos += 3;
    }
    for (;;) {
      if (this.pos >= this.buf.length && this.fill(1) === 0) return -1;
      const c = this.buf[this.pos] as number;
      if (c === SPACE || c === TAB || c === CR) this.pos++;
      else if (c === LF) {
        this.pos++;
        this.line++;
      } else return c;
    }
  }

  private expectByte(byte: number, what: string): void {
    if (this.peekByte() !== byte) this.fail(`expected ${what}`);
    this.pos++;
  }

  // ---------------------------------------------------------------- values

  kind(): JsonKind {
    const c = this.peekByte();
    if (c === LBRACE) return 'object';
    if (c === LBRACKET) return 'array';
    if (c === QUOTE) return 'string';
    if (c === 0x74 || c === 0x66) return 'boolean'; // t f
    if (c === 0x6e) return 'null'; // n (null; NaN starts with N)
    if (c === MINUS || (c >= ZERO && c <= NINE) || c === 0x4e || c === 0x49) return 'number'; // N(aN) I(nfinity)
    if (c === -1) this.fail('unexpected end of the document');
    return this.fail(`unexpected character ${JSON.stringify(String.fromCharCode(c))}`);
  }

  private literal(word: string): void {
    const n = word.length;
    if (this.fill(n) < n) this.fail(`expected ${word}`);
    for (let i = 0; i < n; i++) if (this.buf[this.pos + i] !== word.charCodeAt(i)) this.fail(`expected ${word}`);
    this.pos += n;
  }

  readNull(): void {
    this.peekByte();
    this.literal('null');
  }

  readBoolean(): boolean {
    if (this.peekByte() === 0x74) {
      this.literal('true');
      return true;
    }
    this.literal('false');
    return false;
  }

  readNumber(): JsonNumber {
    const c = this.peekByte();
    if (c === 0x4e) {
      this.literal('NaN');
      return Number.NaN;
    }
    if (c === 0x49) {
      this.literal('Infinity');
      return Infinity;
    }
    if (c === MINUS && this.fill(2) >= 2 && this.buf[this.pos + 1] === 0x49) {
      this.pos++;
      this.literal('Infinity');
      return -Infinity;
    }
    // The whole token first (it may cross a chunk), then its grammar, checked in one pass:
    // -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?
    let end = this.pos;
    for (;;) {
      if (end >= this.buf.length) {
        const had = end - this.pos;
        if (this.fill(had + 1) <= had) break;
        end = this.pos + had;
      }
      const b = this.buf[end] as number;
      if ((b >= ZERO && b <= NINE) || b === MINUS || b === PLUS || b === DOT || b === LOWER_E || b === UPPER_E) end++;
      else break;
    }
    const buf = this.buf;
    const digit = (i: number) => i < end && (buf[i] as number) >= ZERO && (buf[i] as number) <= NINE;
    let i = this.pos;
    if (buf[i] === MINUS) i++;
    const intStart = i;
    if (buf[i] === ZERO) i++;
    else if (digit(i)) while (digit(i)) i++;
    const intDigits = i - intStart;
    let integer = true;
    if (intDigits > 0 && i < end && buf[i] === DOT) {
      integer = false;
      i++;
      const fracStart = i;
      while (digit(i)) i++;
      if (i === fracStart) i = -1;
    }
    if (intDigits > 0 && i > 0 && i < end && (buf[i] === LOWER_E || buf[i] === UPPER_E)) {
      integer = false;
      i++;
      if (i < end && (buf[i] === PLUS || buf[i] === MINUS)) i++;
      const expStart = i;
      while (digit(i)) i++;
      if (i === expStart) i = -1;
    }
    const text = buf.toString('latin1', this.pos, end);
    if (intDigits === 0 || i !== end) this.fail(`bad number ${JSON.stringify(text.slice(0, 40))}`);
    this.pos = end;
    // An integer literal is Python's int: exact at any size, and -0 is 0.
    return integer ? BigInt(text) : Number(text);
  }

  readString(): string {
    this.expectByte(QUOTE, 'a string');
    let end = this.pos;
    let escaped = false;
    let ascii = true;
    for (;;) {
      if (end >= this.buf.length) {
        const had = end - this.pos;
        if (this.fill(had + 1) <= had) this.fail('unterminated string');
        end = this.pos + had;
      }
      const b = this.buf[end] as number;
      if (b === QUOTE) break;
      if (b < 0x20) this.fail('control character in a string');
      if (b >= 0x80) ascii = false;
      if (b === BACKSLASH) {
        escaped = true;
        end++;
        if (end >= this.buf.length) {
          const had = end - this.pos;
          if (this.fill(had + 1) <= had) this.fail('unterminated string');
          end = this.pos + had;
        }
      }
      end++;
    }
    const start = this.pos;
    if (ascii && !escaped) {
      this.pos = end + 1;
      return this.buf.toString('latin1', start, end);
    }
    let text: string;
    try {
      // Strictly: bytes that are not UTF-8 are refused (json.load refuses them too), never replaced
      // by U+FFFD, which would make two different strings equal.
      text = ascii ? this.buf.toString('latin1', start, end) : UTF8.decode(this.buf.subarray(start, end));
    } catch {
      throw new JsonSyntaxError(`${this.what} is not valid UTF-8: a string starting at byte ${this.base + start - 1} (line ${this.line}) holds bytes that are not UTF-8`);
    }
    this.pos = end + 1;
    if (!escaped) return text;
    try {
      // Escapes (\n, \uD83D\uDE00 pairs...) decoded by the platform's own JSON string grammar.
      return JSON.parse(`"${text}"`) as string;
    } catch {
      return this.fail('bad escape in a string');
    }
  }

  // ---------------------------------------------------------------- containers

  private push(kind: 'object' | 'array'): void {
    if (this.stack.length >= MAX_DEPTH) this.fail(`nested deeper than ${MAX_DEPTH} levels`);
    this.stack.push({ kind, first: true });
  }

  enterObject(): void {
    this.expectByte(LBRACE, 'an object');
    this.push('object');
  }

  nextKey(): string | null {
    const frame = this.stack[this.stack.length - 1];
    if (frame === undefined || frame.kind !== 'object') return this.fail('not in an object');
    const c = this.peekByte();
    if (c === RBRACE) {
      this.pos++;
      this.stack.pop();
      return null;
    }
    if (!frame.first) {
      if (c !== COMMA) this.fail("expected ',' or '}'");
      this.pos++;
    }
    frame.first = false;
    if (this.peekByte() !== QUOTE) this.fail('expected a key');
    const key = this.readString();
    this.expectByte(COLON, "':'");
    return key;
  }

  enterArray(): void {
    this.expectByte(LBRACKET, 'an array');
    this.push('array');
  }

  nextElement(): boolean {
    const frame = this.stack[this.stack.length - 1];
    if (frame === undefined || frame.kind !== 'array') return this.fail('not in an array');
    const c = this.peekByte();
    if (c === RBRACKET) {
      this.pos++;
      this.stack.pop();
      return false;
    }
    if (!frame.first) {
      if (c !== COMMA) this.fail("expected ',' or ']'");
      this.pos++;
    }
    frame.first = false;
    return true;
  }

  skipValue(onLeaf?: (path: readonly (string | number)[], value: JsonValue) => void): void {
    walkValue(this, [], onLeaf);
  }

  readValue(): JsonValue {
    return readWhole(this);
  }

  finish(): void {
    if (this.peekByte() !== -1) this.fail('extra data after the document');
  }
}

/** Skips (or visits) the value at the cursor, whatever kind of cursor. */
function walkValue(cursor: JsonCursor, path: (string | number)[], onLeaf?: (path: readonly (string | number)[], value: JsonValue) => void): void {
  const kind = cursor.kind();
  if (kind === 'object') {
    cursor.enterObject();
    let any = false;
    for (let key = cursor.nextKey(); key !== null; key = cursor.nextKey()) {
      any = true;
      path.push(key);
      walkValue(cursor, path, onLeaf);
      path.pop();
    }
    if (!any) onLeaf?.(path, new Map());
  } else if (kind === 'array') {
    cursor.enterArray();
    let i = 0;
    while (cursor.nextElement()) {
      path.push(i++);
      walkValue(cursor, path, onLeaf);
      path.pop();
    }
    if (i === 0) onLeaf?.(path, []);
  } else {
    // Read first: the value must be consumed whether or not anyone looks at it.
    const value: JsonValue = kind === 'string' ? cursor.readString() : kind === 'number' ? cursor.readNumber() : kind === 'boolean' ? cursor.readBoolean() : (cursor.readNull(), null);
    onLeaf?.(path, value);
  }
}

function readWhole(cursor: JsonCursor): JsonValue {
  const kind = cursor.kind();
  if (kind === 'object') {
    cursor.enterObject();
    const out = new Map<string, JsonValue>();
    for (let key = cursor.nextKey(); key !== null; key = cursor.nextKey()) {
      // Python keeps the last of a repeated key; so does a Map set again (at the first one's place, so delete first).
      const value = readWhole(cursor);
      out.delete(key);
      out.set(key, value);
    }
    return out;
  }
  if (kind === 'array') {
    cursor.enterArray();
    const out: JsonValue[] = [];
    while (cursor.nextElement()) out.push(readWhole(cursor));
    return out;
  }
  if (kind === 'string') return cursor.readString();
  if (kind === 'number') return cursor.readNumber();
  if (kind === 'boolean') return cursor.readBoolean();
  cursor.readNull();
  return null;
}

export function kindOf(value: JsonValue): JsonKind {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Map) return 'object';
  const t = typeof value;
  return t === 'bigint' ? 'number' : (t as JsonKind);
}

/** A cursor over a value already read whole. */
export function valueCursor(root: JsonValue): JsonCursor {
  type Level = { kind: 'object'; entries: Array<[string, JsonValue]>; next: number } | { kind: 'array'; items: JsonValue[]; next: number };
  const stack: Level[] = [];
  let current: JsonValue | undefined = root;
  const take = (expected: JsonKind): JsonValue => {
    if (current === undefined) throw new JsonSyntaxError('no value at the cursor');
    if (kindOf(current) !== expected) throw new JsonSyntaxError(`expected ${expected}, found ${kindOf(current)}`);
    const value = current;
    current = undefined;
    return value;
  };
  const cursor: JsonCursor = {
    kind() {
      if (current === undefined) throw new JsonSyntaxError('no value at the cursor');
      return kindOf(current);
    },
    readString: () => take('string') as string,
    readNumber: () => take('number') as JsonNumber,
    readBoolean: () => take('boolean') as boolean,
    readNull: () => void take('null'),
    enterObject() {
      stack.push({ kind: 'object', entries: [...(take('object') as Map<string, JsonValue>).entries()], next: 0 });
    },
    nextKey() {
      const level = stack[stack.length - 1];
      if (level === undefined || level.kind !== 'object') throw new JsonSyntaxError('not in an object');
      const entry = level.entries[level.next++];
      if (entry === undefined) {
        stack.pop();
        return null;
      }
      current = entry[1];
      return entry[0];
    },
    enterArray() {
      stack.push({ kind: 'array', items: take('array') as JsonValue[], next: 0 });
    },
    nextElement() {
      const level = stack[stack.length - 1];
      if (level === undefined || level.kind !== 'array') throw new JsonSyntaxError('not in an array');
      if (level.next >= level.items.length) {
        stack.pop();
        return false;
      }
      current = level.items[level.next++] as JsonValue;
      return true;
    },
    skipValue(onLeaf) {
      walkValue(cursor, [], onLeaf);
    },
    readValue() {
      return readWhole(cursor);
    },
    finish() {
      // A value read whole has nothing after it.
    },
  };
  return cursor;
}

/** A feed over bytes already in memory (tests, small documents). */
export function bytesFeed(bytes: Uint8Array, chunk = 1 << 20): ByteFeed {
  let offset = 0;
  return {
    next() {
      if (offset >= bytes.length) return null;
      const piece = bytes.subarray(offset, offset + chunk);
      offset += piece.length;
      return piece;
    },
  };
}
