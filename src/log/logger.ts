import pino, { type Logger } from "pino";

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

export function createLogger(level = "info", destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "wamp-authd" },
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
