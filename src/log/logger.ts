import pino, { type Logger } from "pino";
import { errorCode } from "../errors/base.js";

export type { Logger };

/** Paths pino censors wherever they appear; secrets never reach a log line. */
export const REDACT_PATHS = [
  "ticket",
  "password",
  "secret",
  "*.ticket",
  "*.password",
  "*.secret",
  "*.*.ticket",
  "*.*.secret",
  "details.ticket",
  "details.authextra.challenge",
  "*.stored_key",
  "*.server_key",
  "*['stored-key']",
  "*['server-key']",
  "*.privateKey",
  "*.private_key",
  "config.database.url",
  "config.router.ticket",
  "config.cra.key",
  "cra.key",
];

const MAX_CAUSE_DEPTH = 5;

/**
 * The `err` field of every log line: type, message, stable code, stack and the cause chain — and
 * nothing else. pino's standard serializer copies every property, and pg's errors carry `detail`,
 * which can quote row values (`Key (authid)=(alice) already exists`); those never reach the log.
 * autobahn's WAMP errors are plain objects `{error, args, kwargs}`: only the error URI is kept.
 */
export function serializeError(err: unknown, depth = 0): Record<string, unknown> {
  if (!(err instanceof Error)) {
    if (typeof err === "object" && err !== null && typeof (err as { error?: unknown }).error === "string") {
      return { type: "WampError", message: (err as { error: string }).error };
    }
    return { type: typeof err, message: String(err) };
  }
  const out: Record<string, unknown> = { type: err.name, message: err.message };
  const code = errorCode(err);
  if (code !== undefined) out.code = code;
  if (err.stack) out.stack = err.stack;
  if (err.cause !== undefined && depth < MAX_CAUSE_DEPTH) out.cause = serializeError(err.cause, depth + 1);
  return out;
}

export function createLogger(level = "info", destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "wamp-authd" },
      serializers: { err: (e: unknown) => serializeError(e) },
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
