/**
 * Typed errors that cross the router boundary as WAMP errors. `reason` is for logs and the
 * audit trail only; the client sees `uri` and `message`. `code` classifies the failure for the
 * throttle and the audit trail (never string matching on `reason`).
 */
import { AuthdError } from "./base.js";

export const DENY_URI = "wamp.error.not_authorized";
/** One message for unknown user, wrong credential, disabled user, missing credential and lockout. */
export const DENY_MESSAGE = "authentication failed";
export const UNAVAILABLE_URI = "wamp.error.authentication_failed";

/**
 * Why a login was denied (`wamp.error.not_authorized`):
 * - `account`: a known account was refused (wrong or missing credential, disabled, no live key, role
 *   problem). Its own audit row; counted on the account's own failure counter.
 * - `unknown`: no such account, key or certificate, or no account named at all (no realm/authid).
 * - `policy`: refused without any account involved (anonymous not allowed or outside its CIDRs,
 *   authmethod not served).
 * - `locked_out`: refused by the throttle before any lookup or KDF work.
 * The last three are attacker-repeatable at will: the audit trail aggregates them (audit/rollup.ts).
 */
export type DenyCode = "account" | "unknown" | "policy" | "locked_out";

/**
 * Every AuthError's class: a DenyCode, or
 * - `bad_request`: malformed request (aggregated);
 * - `overloaded`: shed before any KDF work (hash queue full, cannot start before the deadline, too
 *   many logins in flight from one client address); aggregated, never counted as a failed password;
 * - `unavailable`: store down, deadline passed, internal error (own audit row).
 */
export type FailureCode = DenyCode | "bad_request" | "overloaded" | "unavailable";

export class AuthError extends AuthdError {
  constructor(
    readonly uri: string,
    message: string,
    readonly reason: string,
    readonly code: FailureCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A denial that must look the same whatever its reason (enumeration safety). */
export function deny(reason: string, code: DenyCode): AuthError {
  return new AuthError(DENY_URI, DENY_MESSAGE, reason, code);
}

/** The request itself is malformed; safe to say so, it reveals nothing about accounts. */
export function badRequest(reason: string): AuthError {
  return new AuthError(DENY_URI, `invalid authentication request: ${reason}`, `bad request: ${reason}`, "bad_request");
}

/** wamp-authd could not decide (store down, deadline passed) or shed the login (overloaded): fail closed. */
export function unavailable(reason: string, code: "unavailable" | "overloaded" = "unavailable", cause?: unknown): AuthError {
  return new AuthError(UNAVAILABLE_URI, "authentication service unavailable", reason, code, { cause });
}

export class DeadlineError extends AuthdError {
  readonly code = "DEADLINE_EXCEEDED";
}
