/**
 * The audit recorder writes one batch at a time: rows that arrive while a write is in flight go into
 * the next one. Against a real Postgres: every recorded row lands, in order; a row the store refuses
 * does not take the rest of its batch with it; a burst larger than one statement is split, not lost.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { AuditRecorder } from "../../src/audit/recorder.js";
import { freshStore, quietLog, type TestStore } from "../helpers/db.js";

describe("audit recorder (batched rows)", () => {
  let store: TestStore;
  const rows = async () =>
    (
      await store.pool.query<{ authid: string; outcome: string; session: string | null; detail: unknown }>(
        "SELECT authid, outcome, session::text AS session, detail FROM authd.audit WHERE kind = 'login' ORDER BY id",
      )
    ).rows;

  before(async () => {
    store = await freshStore();
  });
  beforeEach(async () => {
    await store.pool.query("DELETE FROM authd.audit");
  });
  after(async () => store?.close());

  it("writes every recorded row, in order, with its fields", async () => {
    const rec = new AuditRecorder(store.pool, quietLog);
    rec.record({ kind: "login", outcome: "allow", realm: "app", authid: "alice", method: "ticket", session: 7, detail: { role: "user" } });
    rec.record({ kind: "login", outcome: "deny", realm: "app", authid: "bob", reason: "bad ticket" });
    await rec.flush();
    assert.deepEqual(await rows(), [
      { authid: "alice", outcome: "allow", session: "7", detail: { role: "user" } },
      { authid: "bob", outcome: "deny", session: null, detail: {} },
    ]);
  });

  it("hostile: a row the store refuses is dropped alone; the rest of its batch lands", async () => {
    const rec = new AuditRecorder(store.pool, quietLog);
    rec.record({ kind: "login", outcome: "allow", authid: "first" }); // written alone; the next three wait
    rec.record({ kind: "login", outcome: "allow", authid: "before" });
    // jsonb refuses \u0000: the batch statement fails with a data error.
    rec.record({ kind: "login", outcome: "allow", authid: "poison", detail: { x: "a\u0000b" } });
    rec.record({ kind: "login", outcome: "allow", authid: "after" });
    await rec.flush();
    assert.deepEqual(
      (await rows()).map((r) => r.authid),
      ["first", "before", "after"],
    );
  });

  it("a burst larger than one statement is written in several, none lost", async () => {
    const rec = new AuditRecorder(store.pool, quietLog);
    for (let i = 0; i < 1234; i++) rec.record({ kind: "login", outcome: "allow", authid: `u${i}` });
    await rec.flush();
    const got = (await rows()).map((r) => r.authid);
    assert.equal(got.length, 1234);
    assert.equal(new Set(got).size, 1234);
  });
});
