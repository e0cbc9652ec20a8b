/**
 * A small MessagePack codec for WAMP messages (the subset WAMP uses: nil, booleans, integers, floats,
 * strings, binary, arrays, maps with string keys). Why not autobahn's msgpack5: it costs more than
 * the router saves; this one runs at about JSON.parse speed for authorize invocations.
 *
 * The decoder reads router frames that carry attacker-chosen values, so it fails with MsgpackError
 * (never anything worse) on truncated data, unknown or ext type bytes, invalid UTF-8, nesting deeper
 * than MAX_MSGPACK_DEPTH and lengths the frame cannot hold. Integers beyond 2^53 decode to the
 * nearest double: never a safe integer, so every check for an id or a count rejects them.
 */
import { isUtf8 } from "node:buffer";

export class MsgpackError extends Error {
  override name = "MsgpackError";
}

/** WAMP messages Crossbar sends us are a handful of levels deep; Python's msgpack packs up to 511. */
export const MAX_MSGPACK_DEPTH = 128;

// ---- decoding ---------------------------------------------------------------------------------

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
}

export function decode(buf: Buffer): unknown {
  const r = new Reader(buf);
  const value = read(r, 0);
  if (r.pos !== buf.length) throw new MsgpackError(`${buf.length - r.pos} trailing bytes`);
  return value;
}

function need(r: Reader, n: number): void {
  if (r.pos + n > r.buf.length) throw new MsgpackError("truncated message");
}

function read(r: Reader, depth: number): unknown {
  need(r, 1);
  const b = r.buf[r.pos++] as number;
  if (b <= 0x7f) return b;
  if (b >= 0xe0) return b - 0x100;
  if ((b & 0xe0) === 0xa0) return str(r, b & 0x1f);
  if ((b & 0xf0) === 0x90) return array(r, b & 0x0f, depth);
  if ((b & 0xf0) === 0x80) return map(r, b & 0x0f, depth);
  const buf = r.buf;
  switch (b) {
    case 0xc0:
      return null;
    case 0xc2:
      return false;
    case 0xc3:
      return true;
    case 0xc4:
      need(r, 1);
      return bin(r, buf.readUInt8((r.pos += 1) - 1));
    case 0xc5:
      need(r, 2);
      return bin(r, buf.readUInt16BE((r.pos += 2) - 2));
    case 0xc6:
      need(r, 4);
      return bin(r, buf.readUInt32BE((r.pos += 4) - 4));
    case 0xca:
      need(r, 4);
      return buf.readFloatBE((r.pos += 4) - 4);
    case 0xcb:
      need(r, 8);
      return buf.readDoubleBE((r.pos += 8) - 8);
    case 0xcc:
      need(r, 1);
      return buf.readUInt8((r.pos += 1) - 1);
    case 0xcd:
      need(r, 2);
      return buf.readUInt16BE((r.pos += 2) - 2);
    case 0xce:
      need(r, 4);
      return buf.readUInt32BE((r.pos += 4) - 4);
    case 0xcf:
      need(r, 8);
      return Number(buf.readBigUInt64BE((r.pos += 8) - 8));
    case 0xd0:
      need(r, 1);
      return buf.readInt8((r.pos += 1) - 1);
    case 0xd1:
      need(r, 2);
      return buf.readInt16BE((r.pos += 2) - 2);
    case 0xd2:
      need(r, 4);
      return buf.readInt32BE((r.pos += 4) - 4);
    case 0xd3:
      need(r, 8);
      return Number(buf.readBigInt64BE((r.pos += 8) - 8));
    case 0xd9:
      need(r, 1);
      return str(r, buf.readUInt8((r.pos += 1) - 1));
    case 0xda:
      need(r, 2);
      return str(r, buf.readUInt16BE((r.pos += 2) - 2));
    case 0xdb:
      need(r, 4);
      return str(r, buf.readUInt32BE((r.pos += 4) - 4));
    case 0xdc:
      need(r, 2);
      return array(r, buf.readUInt16BE((r.pos += 2) - 2), depth);
    case 0xdd:
      need(r, 4);
      return array(r, buf.readUInt32BE((r.pos += 4) - 4), depth);
    case 0xde:
      need(r, 2);
      return map(r, buf.readUInt16BE((r.pos += 2) - 2), depth);
    case 0xdf:
      need(r, 4);
      return map(r, buf.readUInt32BE((r.pos += 4) - 4), depth);
    default:
      // 0xc1 (never used), ext types (0xc7-0xc9, 0xd4-0xd8): not WAMP.
      throw new MsgpackError(`unsupported type byte 0x${b.toString(16)}`);
  }
}

function str(r: Reader, n: number): string {
  need(r, n);
  const start = r.pos;
  r.pos += n;
  const s = r.buf.toString("utf8", start, start + n);
  // toString replaces invalid UTF-8 (e.g. an encoded lone surrogate) with U+FFFD; refuse it instead,
  // so no two different byte strings decode alike. Checked only when a U+FFFD shows up: cheap.
  if (s.includes("\uFFFD") && !isUtf8(r.buf.subarray(start, start + n))) throw new MsgpackError("string is not valid UTF-8");
  return s;
}

function bin(r: Reader, n: number): Buffer {
  need(r, n);
  const start = r.pos;
  r.pos += n;
  return Buffer.from(r.buf.subarray(start, start + n));
}

function array(r: Reader, n: number, depth: number): unknown[] {
  if (depth >= MAX_MSGPACK_DEPTH) throw new MsgpackError(`nested deeper than ${MAX_MSGPACK_DEPTH}`);
  // Every element takes at least one byte: a length the rest of the frame cannot hold is a lie.
  need(r, n);
  const out = new Array<unknown>(n);
  for (let i = 0; i < n; i++) out[i] = read(r, depth + 1);
  return out;
}

function map(r: Reader, n: number, depth: number): Record<string, unknown> {
  if (depth >= MAX_MSGPACK_DEPTH) throw new MsgpackError(`nested deeper than ${MAX_MSGPACK_DEPTH}`);
  need(r, 2 * n);
  const out: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    const key = read(r, depth + 1);
    if (typeof key !== "string" && typeof key !== "number") throw new MsgpackError("map key is not a string");
    // defineProperty-free assignment, but never let a key named __proto__ reach the prototype
    if (key === "__proto__")
      Object.defineProperty(out, key, { value: read(r, depth + 1), enumerable: true, writable: true, configurable: true });
    else out[key] = read(r, depth + 1);
  }
  return out;
}

/** Reads an unsigned integer at `p`; [value, next position] or null. */
function uintAt(buf: Buffer, p: number): [number, number] | null {
  const b = buf[p];
  if (b === undefined) return null;
  if (b <= 0x7f) return [b, p + 1];
  const width = b === 0xcc ? 1 : b === 0xcd ? 2 : b === 0xce ? 4 : b === 0xcf ? 8 : 0;
  if (width === 0 || p + 1 + width > buf.length) return null;
  return [width === 8 ? Number(buf.readBigUInt64BE(p + 1)) : buf.readUIntBE(p + 1, width), p + 1 + width];
}

/** The request id of a msgpack INVOCATION (`[68, id, ...`) whose body may be undecodable; null if the head is not one. */
export function msgpackInvocationId(buf: Buffer): number | null {
  const b = buf[0];
  if (b === undefined) return null;
  const p = (b & 0xf0) === 0x90 ? 1 : b === 0xdc ? 3 : b === 0xdd ? 5 : -1;
  if (p < 0) return null;
  const type = uintAt(buf, p);
  if (!type || type[0] !== 68) return null;
  const id = uintAt(buf, type[1]);
  return id && Number.isSafeInteger(id[0]) ? id[0] : null;
}

// ---- encoding ---------------------------------------------------------------------------------

class Writer {
  buf = Buffer.allocUnsafe(512);
  pos = 0;

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
}

export function encode(value: unknown): Buffer {
  const w = new Writer();
  write(w, value, 0);
  return w.buf.subarray(0, w.pos);
}

function write(w: Writer, v: unknown, depth: number): void {
  if (depth > 100) throw new MsgpackError("nested too deeply");
  if (v === null || v === undefined) {
    w.ensure(1);
    w.buf[w.pos++] = 0xc0;
  } else if (typeof v === "boolean") {
    w.ensure(1);
    w.buf[w.pos++] = v ? 0xc3 : 0xc2;
  } else if (typeof v === "number") {
    writeNumber(w, v);
  } else if (typeof v === "string") {
    writeString(w, v);
  } else if (Array.isArray(v)) {
    writeHeader(w, v.length, 0x90, 0xdc, 0xdd);
    for (const x of v) write(w, x, depth + 1);
  } else if (v instanceof Uint8Array) {
    const n = v.length;
    w.ensure(5 + n);
    if (n < 0x100) {
      w.buf[w.pos++] = 0xc4;
      w.buf[w.pos++] = n;
    } else if (n < 0x10000) {
      w.buf[w.pos++] = 0xc5;
      w.pos = w.buf.writeUInt16BE(n, w.pos);
    } else {
      w.buf[w.pos++] = 0xc6;
      w.pos = w.buf.writeUInt32BE(n, w.pos);
    }
    w.buf.set(v, w.pos);
    w.pos += n;
  } else if (typeof v === "object") {
    const keys = Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined);
    writeHeader(w, keys.length, 0x80, 0xde, 0xdf);
    for (const k of keys) {
      writeString(w, k);
      write(w, (v as Record<string, unknown>)[k], depth + 1);
    }
  } else {
    throw new MsgpackError(`cannot encode a ${typeof v}`);
  }
}

function writeHeader(w: Writer, n: number, fix: number, b16: number, b32: number): void {
  w.ensure(5);
  if (n < 16) w.buf[w.pos++] = fix | n;
  else if (n < 0x10000) {
    w.buf[w.pos++] = b16;
    w.pos = w.buf.writeUInt16BE(n, w.pos);
  } else {
    w.buf[w.pos++] = b32;
    w.pos = w.buf.writeUInt32BE(n, w.pos);
  }
}

function writeNumber(w: Writer, v: number): void {
  w.ensure(9);
  const b = w.buf;
  if (Number.isInteger(v) && Number.isSafeInteger(v)) {
    if (v >= 0) {
      if (v < 0x80) b[w.pos++] = v;
      else if (v < 0x100) {
        b[w.pos++] = 0xcc;
        b[w.pos++] = v;
      } else if (v < 0x10000) {
        b[w.pos++] = 0xcd;
        w.pos = b.writeUInt16BE(v, w.pos);
      } else if (v < 0x1_0000_0000) {
        b[w.pos++] = 0xce;
        w.pos = b.writeUInt32BE(v, w.pos);
      } else {
        b[w.pos++] = 0xcf;
        w.pos = b.writeBigUInt64BE(BigInt(v), w.pos);
      }
    } else if (v >= -32) b[w.pos++] = v & 0xff;
    else if (v >= -0x80) {
      b[w.pos++] = 0xd0;
      w.pos = b.writeInt8(v, w.pos);
    } else if (v >= -0x8000) {
      b[w.pos++] = 0xd1;
      w.pos = b.writeInt16BE(v, w.pos);
    } else if (v >= -0x8000_0000) {
      b[w.pos++] = 0xd2;
      w.pos = b.writeInt32BE(v, w.pos);
    } else {
      b[w.pos++] = 0xd3;
      w.pos = b.writeBigInt64BE(BigInt(v), w.pos);
    }
  } else {
    b[w.pos++] = 0xcb;
    w.pos = b.writeDoubleBE(v, w.pos);
  }
}

function writeString(w: Writer, s: string): void {
  // At most 3 bytes per UTF-16 unit; write the body first, then the header that fits its length.
  const max = s.length * 3;
  w.ensure(5 + max);
  const headerLen = max < 32 ? 1 : max < 0x100 ? 2 : max < 0x10000 ? 3 : 5;
  const n = w.buf.write(s, w.pos + headerLen, "utf8");
  const b = w.buf;
  if (headerLen === 1) b[w.pos] = 0xa0 | n;
  else if (headerLen === 2) {
    b[w.pos] = 0xd9;
    b[w.pos + 1] = n;
  } else if (headerLen === 3) {
    b[w.pos] = 0xda;
    b.writeUInt16BE(n, w.pos + 1);
  } else {
    b[w.pos] = 0xdb;
    b.writeUInt32BE(n, w.pos + 1);
  }
  w.pos += headerLen + n;
}
