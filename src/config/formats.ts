import convict from "convict";

/** Crossbar's strict rule for authenticator/authorizer URIs and realm names (autobahn `_URI_PAT_STRICT_NON_EMPTY`). */
const STRICT_URI = /^([0-9a-z_]+\.)*([0-9a-z_]+)$/;

/**
 * convict's own Boolean coerces every non-"false" string to true ("0", "no" → true).
 * This format accepts only unambiguous spellings and rejects the rest.
 */
const TRUE = new Set(["true", "1", "yes", "on"]);
const FALSE = new Set(["false", "0", "no", "off"]);

export function registerFormats(): void {
  convict.addFormat({
    name: "strict-boolean",
    validate(value: unknown) {
      if (typeof value !== "boolean") throw new Error("must be true or false");
    },
    coerce(value: unknown) {
      if (typeof value === "boolean") return value;
      const s = String(value).trim().toLowerCase();
      if (TRUE.has(s)) return true;
      if (FALSE.has(s)) return false;
      return value; // left as a string so validate() reports it
    },
  });
  convict.addFormat({
    name: "strict-uri",
    validate(value: unknown) {
      if (typeof value !== "string" || !STRICT_URI.test(value)) {
        throw new Error("must be a WAMP URI of lowercase letters, digits and '_' separated by '.'");
      }
    },
  });
  convict.addFormat({
    name: "uri-prefix",
    validate(value: unknown) {
      if (typeof value !== "string" || !STRICT_URI.test(value.slice(0, -1)) || !value.endsWith(".")) {
        throw new Error("must be a WAMP URI of lowercase letters, digits and '_' separated by '.', ending with '.'");
      }
    },
  });
  convict.addFormat({
    name: "uri-list",
    validate(value: unknown) {
      if (!Array.isArray(value)) throw new Error("must be a list");
      for (const v of value) {
        if (typeof v !== "string" || !STRICT_URI.test(v)) throw new Error(`"${String(v)}" is not a valid realm name`);
      }
    },
    coerce(value: unknown) {
      return typeof value === "string"
        ? value
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean)
        : value;
    },
  });
  convict.addFormat({
    name: "router-url",
    validate(value: unknown) {
      if (typeof value !== "string" || !/^(wss?:\/\/.+|tcp:\/\/[^/:]+:\d+\/?|rawsocket\+unix:\/\/\/.+|unix:\/\/\/.+)$/.test(value)) {
        throw new Error("must be ws://, wss://, tcp://host:port (rawsocket) or rawsocket+unix:///path");
      }
    },
  });
  convict.addFormat({
    name: "ipv6-prefix",
    validate(value: unknown) {
      if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 128) throw new Error("must be an integer from 1 to 128");
    },
    coerce: (v: unknown) => (typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v),
  });
  convict.addFormat({
    name: "positive-int",
    validate(value: unknown) {
      if (!Number.isInteger(value) || (value as number) <= 0) throw new Error("must be a positive integer");
    },
    coerce: (v: unknown) => (typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v),
  });
}
