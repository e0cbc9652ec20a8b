/**
 * A small MessagePack codec for WAMP messages (the subset WAMP uses: nil, booleans, integers, floats,
 * strings, binary, arrays, maps with string keys). Why not autobahn's msgpack5: it costs more than
 * the router saves; this one runs at about JSON.parse speed for authorize invocations.
 */

export class MsgpackError extends Error {}

// ---- decoding ---------------------------------------------------------------------------------

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
}

export function decode(buf: Buffer): unknown {
  const r = new Reader(buf);
  const value = read(r);
  if (r.pos !== buf.length) throw new MsgpackError(`${buf.length - r.pos} trailing bytes`);
  return value;
}

function need(r: Reader, n: number): void {
  if (r.pos + n > r.buf.length) throw new MsgpackError("truncated message");
}

function read(r: Reader): unknown {
  need(r, 1);
  const b = r.buf[r.pos++] as number;
  if (b <= 0x7f) return b;
  if (b >= 0xe0) return b - 0x100;
  if ((b & 0xe0) === 0xa0) return str(r, b & 0x1f);
  if ((b & 0xf0) === 0x90) return array(r, b & 0x0f);
  if ((b & 0xf0) === 0x80) return map(r, b & 0x0f);
  const buf = r.buf;
  let v: number;
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
      v = Number(buf.readBigUInt64BE((r.pos += 8) - 8));
      return v;
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
      return array(r, buf.readUInt16BE((r.pos += 2) - 2));
    case 0xdd:
      need(r, 4);
      return array(r, buf.readUInt32BE((r.pos += 4) - 4));
    case 0xde:
      need(r, 2);
      return map(r, buf.readUInt16BE((r.pos += 2) - 2));
    case 0xdf:
      need(r, 4);
      return map(r, buf.readUInt32BE((r.pos += 4) - 4));
    default:
      throw new MsgpackError(`unsupported type byte 0x${b.toString(16)}`);
  }
}

function str(r: Reader, n: number): string {
  need(r, n);
  const start = r.pos;
  r.pos += n;
  return r.buf.toString("utf8", start, start + n);
}

function bin(r: Reader, n: number): Buffer {
  need(r, n);
  const start = r.pos;
  r.pos += n;
  return Buffer.from(r.buf.subarray(start, start + n));
}

function array(r: Reader, n: number): unknown[] {
  const out = new Array<unknown>(n);
  for (let i = 0; i < n; i++) out[i] = read(r);
  return out;
}

function map(r: Reader, n: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    const key = read(r);
    if (typeof key !== "string" && typeof key !== "number") throw new MsgpackError("map key is not a string");
    // defineProperty-free assignment, but never let a key named __proto__ reach the prototype
    if (key === "__proto__") Object.defineProperty(out, key, { value: read(r), enumerable: true, writable: true, configurable: true });
    else out[key] = read(r);
  }
  return out;
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
