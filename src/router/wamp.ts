/**
 * The one entry point to autobahn-js in this code base. Its types live in src/types/autobahn.d.ts
 * (autobahn ships none); the names below are short aliases for the parts the router link uses.
 */
import autobahnModule from "autobahn";

export const autobahn = autobahnModule;
export type WampSession = autobahnModule.Session;
export type WampConnection = autobahnModule.Connection;
export type WampRegistration = autobahnModule.Registration;

/** The error URI of a rejected autobahn call (`{error, args, kwargs}`), or null for anything else. */
export function wampErrorUri(err: unknown): string | null {
  const e = typeof err === "object" && err !== null ? (err as { error?: unknown }).error : undefined;
  return typeof e === "string" ? e : null;
}

/** A one-line account of a rejected call for a log field: the error URI with its args, or the message. */
export function describeWampError(err: unknown): string {
  if (err instanceof Error) return err.message;
  const uri = wampErrorUri(err);
  return uri !== null ? `${uri} ${JSON.stringify((err as { args?: unknown }).args ?? [])}` : String(err);
}
