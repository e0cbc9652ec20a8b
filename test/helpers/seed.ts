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
