/**
 * Typed errors that cross the router boundary as WAMP errors. `reason` is for logs and the
 * audit trail only; the client sees `uri` and `message`.
 */
export const DENY_URI = "wamp.error.not_authorized";
/** One message for unknown user, wrong credential, disabled user, missing credential and lockout. */
export const DENY_MESSAGE = "authentication failed";
export const UNAVAILABLE_URI = "wamp.error.authentication_failed";

export class AuthError extends Error {
  override name = "AuthError";
  constructor(
    readonly uri: string,
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

/** A denial that must look the same whatever its reason (enumeration safety). */
export function deny(reason: string): AuthError {
  return new AuthError(DENY_URI, DENY_MESSAGE, reason);
}

/** The request itself is malformed; safe to say so, it reveals nothing about accounts. */
export function badRequest(reason: string): AuthError {
  return new AuthError(DENY_URI, `invalid authentication request: ${reason}`, `bad request: ${reason}`);
}

/** wamp-authd could not decide (store down, deadline passed): fail closed. */
export function unavailable(reason: string): AuthError {
  return new AuthError(UNAVAILABLE_URI, "authentication service unavailable", reason);
}

export class DeadlineError extends Error {
  override name = "DeadlineError";
}
