import assert from "node:assert/strict";
import { describe, it } from "node:test";
import pg from "pg";
import { AuthdError } from "../../src/errors/base.js";
import { unavailable } from "../../src/errors/authErrors.js";
import { createLogger, serializeError } from "../../src/log/logger.js";

class Boom extends AuthdError {
  readonly code = "BOOM";
}

describe("error serializer", () => {
  it("keeps type, message, code, stack and the cause chain", () => {
    const root = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
    const wrapped = unavailable("store unavailable: connect ECONNREFUSED", "unavailable", new Boom("lookup failed", { cause: root }));
    const out = serializeError(wrapped);
    assert.equal(out.type, "AuthError");
    assert.equal(out.code, "unavailable");
    assert.match(String(out.stack), /AuthError/);
    const cause = out.cause as Record<string, unknown>;
    assert.deepEqual([cause.type, cause.code, cause.message], ["Boom", "BOOM", "lookup failed"]);
    assert.deepEqual(
      [(cause.cause as Record<string, unknown>).code, (cause.cause as Record<string, unknown>).message],
      ["ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:5432"],
    );
  });

  it("never writes pg's detail (it can quote row values) or any other extra property", () => {
    const err = new pg.DatabaseError('duplicate key value violates unique constraint "users_realm_id_authid_key"', 100, "error");
    err.code = "23505";
    err.detail = "Key (realm_id, authid)=(1, alice-secret-name) already exists.";
    err.constraint = "users_realm_id_authid_key";
    const lines: string[] = [];
    const log = createLogger("info", { write: (l: string) => void lines.push(l) });
    log.error({ err }, "insert failed");
    assert.equal(lines.length, 1);
    assert.doesNotMatch(lines[0]!, /alice-secret-name/);
    const logged = (JSON.parse(lines[0]!) as { err: Record<string, unknown> }).err;
    assert.deepEqual(Object.keys(logged).sort(), ["code", "message", "stack", "type"]);
    assert.equal(logged.code, "23505");
  });

  it("describes autobahn's WAMP errors (plain objects) by their URI, and anything else as text", () => {
    assert.deepEqual(serializeError({ error: "wamp.error.no_such_procedure", args: ["secret?"] }), {
      type: "WampError",
      message: "wamp.error.no_such_procedure",
    });
    assert.deepEqual(serializeError("plain"), { type: "string", message: "plain" });
  });

  it("stops a cyclic cause chain", () => {
    const a = new Error("a");
    const b = new Error("b", { cause: a });
    (a as { cause?: unknown }).cause = b;
    let depth = 0;
    for (let c: unknown = serializeError(a); c; c = (c as { cause?: unknown }).cause) depth++;
    assert.ok(depth <= 6, `depth ${depth}`);
  });
});
