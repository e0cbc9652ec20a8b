import type { Queryable } from "../store/queries.js";
import { throttleSecret } from "../store/throttleQueries.js";

/**
 * The key every instance shares (authd.service_secrets, created on first use): it picks the
 * throttle bucket of an unknown account and derives the decoy answers for unknown users. Each use
 * puts its own label into the HMAC input, so the outputs of one use tell nothing about another's.
 * Read once; a failed read is retried by the next login. Never logged.
 */
export class ServiceKey {
  private value: Promise<Buffer> | null = null;

  constructor(private readonly db: Queryable) {}

  get(): Promise<Buffer> {
    this.value ??= throttleSecret(this.db).catch((err: unknown) => {
      this.value = null;
      throw err;
    });
    return this.value;
  }
}
