/**
 * Typed errors that cross the router boundary as WAMP errors. `reason` is for logs and the
 * audit trail only; the client sees `uri` and `message`.
 */
import { AuthdError } from "./base.js";

export const DENY_URI = "wamp.error.not_authorized";
/** One message for unknown user, wrong credential, disabled user, missing credential and lockout. */
export const DENY_MESSAGE = "authentication failed";
export const UNAVAILABLE_URI = "wamp.error.authentication_failed";

export type AuthErrorCode = "AUTH_DENIED" | "AUTH_BAD_REQUEST" | "AUTH_UNAVAILABLE";

export class AuthError extends AuthdError {
  constructor(
    readonly uri: string,
    message: string,
    readonly reason: string,
    readonly code: AuthErrorCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A denial that must look the same whatever its reason (enumeration safety). */
export function deny(reason: string): AuthError {
  return new AuthError(DENY_URI, DENY_MESSAGE, reason, "AUTH_DENIED");
}

/** The request itself is malformed; safe to say so, it reveals nothing about accounts. */
export function badRequest(reason: string): AuthError {
  return new AuthError(DENY_URI, `invalid authentication request: ${reason}`, `bad request: ${reason}`, "AUTH_BAD_REQUEST");
}

/** wamp-authd could not decide (store down, deadline passed): fail closed. */
export function unavailable(reason: string, cause?: unknown): AuthError {
  return new AuthError(UNAVAILABLE_URI, "authentication service unavailable", reason, "AUTH_UNAVAILABLE", { cause });
}

export class DeadlineError extends AuthdError {
  readonly code = "DEADLINE_EXCEEDED";
}
