/** The serializers wamp-authd's router transports speak, as autobahn-js serializer objects. */
import { isUtf8 } from "node:buffer";
import { JsonDecodeError, jsonInvocationId, parseJson } from "./json.js";
import { decode, encode, MsgpackError, msgpackInvocationId } from "./msgpack.js";

export type Serializer = "json" | "msgpack";

export interface WireCodec {
  readonly SERIALIZER_ID: Serializer;
  /** rawsocket serializer id */
  readonly rawsocketId: number;
  readonly BINARY: boolean;
  /** JSON gives text (a WebSocket text frame), msgpack bytes. */
  serialize(msg: unknown): Buffer | string;
  /** Throws on anything it cannot decode. */
  unserialize(payload: Buffer | string): unknown;
  /** The request id of an INVOCATION frame that could not be decoded, when its head still says so. */
  invocationId(payload: Buffer | string): number | null;
}

const json: WireCodec = {
  SERIALIZER_ID: "json",
  rawsocketId: 1,
  BINARY: false,
  serialize: (msg) => JSON.stringify(msg),
  unserialize(payload) {
    if (typeof payload === "string") return parseJson(payload);
    const text = payload.toString("utf8");
    // toString replaces invalid UTF-8 with U+FFFD; refuse such a frame rather than read altered text.
    if (text.includes("\uFFFD") && !isUtf8(payload)) throw new JsonDecodeError("frame is not valid UTF-8");
    return parseJson(text);
  },
  invocationId: (payload) => jsonInvocationId(typeof payload === "string" ? payload : payload.toString("latin1", 0, 64)),
};

const msgpack: WireCodec = {
  SERIALIZER_ID: "msgpack",
  rawsocketId: 2,
  BINARY: true,
  serialize: encode,
  unserialize(payload) {
    if (typeof payload === "string") throw new MsgpackError("text frame on a msgpack link");
    return decode(payload);
  },
  invocationId: (payload) => (typeof payload === "string" ? null : msgpackInvocationId(payload)),
};

export const CODECS: Record<Serializer, WireCodec> = { json, msgpack };
