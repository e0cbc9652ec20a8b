import type pg from "pg";
import { PasswordHasher } from "../../src/auth/passwords.js";
import * as admin from "../../src/store/adminQueries.js";

/** Cheap argon2 parameters for tests; the service under test uses the same, so no rehash happens. */
export const testHasher = new PasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });

export async function userWithTicket(pool: pg.Pool, u: admin.NewUser, ticket: string): Promise<string> {
  const id = await admin.addUser(pool, u);
  await admin.upsertSecretCredential(pool, id, "ticket", { phc: await testHasher.hash(ticket) });
  return id;
}

/** Realm app, role user (no rules), user alice with ticket alice-ticket. */
export async function seedAlice(pool: pg.Pool): Promise<void> {
  await admin.addRealm(pool, "app");
  await admin.addRole(pool, "app", "user");
  await userWithTicket(pool, { realm: "app", authid: "alice", role: "user" }, "alice-ticket");
}

/** seedAlice, with role user allowed to call and register under com.example. */
export async function seedAppWithAlice(pool: pg.Pool): Promise<void> {
  await seedAlice(pool);
  await admin.grant(pool, "app", "user", { uri: "com.example.", match: "prefix", allow: ["call", "register"] });
}
