/**
 * JSON as Crossbar writes it. Crossbar serialises with Python's json module, which emits the
 * non-standard tokens `NaN`, `Infinity` and `-Infinity` for floats a client sent (Python's decoder
 * accepts them from clients, and `1e999` becomes infinity). `JSON.parse` throws on those, so:
 * `JSON.parse` first (every normal frame), and only when it fails a tolerant parser that also
 * accepts the three tokens. The tolerant parser is iterative (deep nesting is attacker input and
 * must not exhaust the stack) and bounded in depth. Non-finite values are left to the consumers
 * to reject; decoding them keeps the link up.
 */

export class JsonDecodeError extends Error {
  override name = "JsonDecodeError";
}

/** Nesting limit of the tolerant parser; WAMP messages Crossbar sends us are a handful of levels deep. */
export const MAX_JSON_DEPTH = 128;

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return parseTolerant(text);
  }
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

const LITERALS: [string, unknown][] = [
  ["true", true],
  ["false", false],
  ["null", null],
  ["NaN", NaN],
  ["Infinity", Infinity],
  ["-Infinity", -Infinity],
];

type Container = unknown[] | Record<string, unknown>;

/** JSON with NaN / Infinity / -Infinity literals; throws JsonDecodeError on anything else that is not JSON. */
export function parseTolerant(s: string): unknown {
  let i = 0;
  const stack: Container[] = [];
  const keys: string[] = [];

  const fail = (what: string): never => {
    throw new JsonDecodeError(`${what} at offset ${i}`);
  };
  const skip = (): void => {
    while (i < s.length && WS.has(s.charCodeAt(i))) i++;
  };
  const readString = (): string => {
    if (s.charCodeAt(i) !== 0x22) fail("expected a string");
    const start = ++i;
    let out = "";
    let from = start;
    for (;;) {
      if (i >= s.length) fail("unterminated string");
      const c = s.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) fail("control character in string");
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += s.slice(from, i);
      const e = s[i + 1];
      if (e === "u") {
        const hex = s.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail("bad \\u escape");
        // Lone surrogates are kept, as JSON.parse keeps them; consumers validate text.
        out += String.fromCharCode(parseInt(hex, 16));
        i += 6;
      } else {
        const r = e === undefined ? undefined : ESCAPES[e];
        if (r === undefined) fail("bad escape");
        out += r;
        i += 2;
      }
      from = i;
    }
    out += s.slice(from, i);
    i++;
    return out;
  };
  const readScalar = (): unknown => {
    const c = s[i];
    if (c === '"') return readString();
    for (const [token, v] of LITERALS) {
      if (s.startsWith(token, i)) {
        i += token.length;
        return v;
      }
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(s);
    if (!m) return fail("unexpected character");
    i += m[0].length;
    return Number(m[0]);
  };
  const open = (c: Container): void => {
    if (stack.length >= MAX_JSON_DEPTH) fail(`nested deeper than ${MAX_JSON_DEPTH}`);
    stack.push(c);
  };
  const readKey = (): void => {
    skip();
    keys[stack.length - 1] = readString();
    skip();
    if (s[i] !== ":") fail("expected ':'");
    i++;
  };

  for (;;) {
    // Expecting a value.
    skip();
    let value: unknown;
    const c = s[i];
    if (c === "[") {
      i++;
      open([]);
      skip();
      if (s[i] !== "]") continue;
      i++;
      value = stack.pop();
    } else if (c === "{") {
      i++;
      open({});
      skip();
      if (s[i] !== "}") {
        readKey();
        continue;
      }
      i++;
      value = stack.pop();
    } else {
      value = readScalar();
    }
    // A complete value: attach it to its container, then close containers as far as the input says.
    for (;;) {
      const top = stack[stack.length - 1];
      if (top === undefined) {
        skip();
        if (i !== s.length) fail("trailing characters");
        return value;
      }
      if (Array.isArray(top)) top.push(value);
      // A key named __proto__ stays an own data property, as with JSON.parse.
      else Object.defineProperty(top, keys[stack.length - 1] as string, { value, enumerable: true, writable: true, configurable: true });
      skip();
      const sep = s[i++];
      if (sep === ",") {
        if (!Array.isArray(top)) readKey();
        break;
      }
      if (sep !== (Array.isArray(top) ? "]" : "}")) fail("expected ',' or a closing bracket");
      value = stack.pop();
    }
  }
}

const INVOCATION_HEAD = /^[ \t\r\n]*\[[ \t\r\n]*68[ \t\r\n]*,[ \t\r\n]*(\d{1,16})[ \t\r\n]*[,\]]/;

/** The request id of a JSON INVOCATION (`[68, id, ...`) whose body may be unreadable; null if the head is not one. */
export function jsonInvocationId(text: string): number | null {
  const m = INVOCATION_HEAD.exec(text.slice(0, 64));
  if (!m) return null;
  const id = Number(m[1]);
  return Number.isSafeInteger(id) ? id : null;
}
