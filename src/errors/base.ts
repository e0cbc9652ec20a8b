/**
 * The root of every error wamp-authd raises on purpose. `code` is stable (logs, metrics, tests and
 * operators' alerting match on it, never on message text); `cause` keeps the error underneath, so a
 * wrapped failure still tells its whole story in the log (see serializeError in src/log/logger.ts).
 */
export abstract class AuthdError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The stable code of an error: ours, Node's (`ENOENT`), or a SQLSTATE from pg; undefined otherwise. */
export function errorCode(err: unknown): string | undefined {
  const code = typeof err === "object" && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === "string" ? code : undefined;
}
