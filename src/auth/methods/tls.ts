import { deny } from "../../errors/authErrors.js";
import { findLoginsByLookup, type CredentialRow, type LoginRecord } from "../../store/queries.js";
import type { AuthMethod } from "../method.js";
import { principalOf } from "../principal.js";

/**
 * WAMP-TLS: the client is identified by the certificate it presented in the TLS handshake.
 *
 * Crossbar has already verified the certificate chain against the transport's `ca_certificates`
 * (Twisted requires a client certificate then) before the authenticator is called at HELLO; it passes
 * the parsed certificate in details.transport.peer_cert (legacy: client_cert), fingerprints as
 * uppercase hex with colons. wamp-authd maps the SHA-256 fingerprint to a user through a `tls`
 * credential whose `lookup` is that fingerprint (normalised, see normalizeFingerprint). Optional
 * `data.issuer_cn` / `data.subject_cn` additionally pin the certificate's issuer and subject CN,
 * e.g. to keep a binding valid only for certificates of one CA.
 *
 * The client's authid may be null (the certificate is the identity). If the client sent one, it must
 * name the bound user (login authid or its override). A certificate bound to several users in scope is
 * ambiguous unless the authid picks one; ambiguity is denied rather than guessed.
 */

const FINGERPRINT = /^[0-9A-F]{64}$/;

/** "ab:CD…" / "abcd…" / "AB CD …" → "AB:CD:…" (Crossbar's format); null when it is not a SHA-256 digest. */
export function normalizeFingerprint(text: string): string | null {
  const hex = text.replace(/[:\s]/g, "").toUpperCase();
  if (!FINGERPRINT.test(hex)) return null;
  return hex.match(/../g)!.join(":");
}

function nameField(cert: Record<string, unknown>, entity: "subject" | "issuer"): string | null {
  const name = cert[entity];
  if (typeof name !== "object" || name === null) return null;
  const cn = (name as Record<string, unknown>).cn;
  return typeof cn === "string" ? cn : null;
}

function expired(cred: CredentialRow, now: number): boolean {
  if (cred.expires_at === null) return false;
  // Rows come through json_build_object: the timestamp is an ISO string at runtime.
  const t = new Date(cred.expires_at).getTime();
  return !Number.isFinite(t) || t <= now;
}

/** A pinned CN (string in data) must equal the certificate's; a malformed pin never matches. */
function pinMatches(pin: unknown, actual: string | null): boolean {
  if (pin === undefined || pin === null) return true;
  return typeof pin === "string" && actual !== null && pin === actual;
}

const tls: AuthMethod = {
  name: "tls",
  provesCredential: true,
  async authenticate(req, ctx) {
    const cert = req.details.transport.peerCert;
    if (!cert) throw deny("no client certificate", "unknown");
    const fingerprint = typeof cert.sha256 === "string" ? normalizeFingerprint(cert.sha256) : null;
    if (!fingerprint) throw deny("client certificate without a sha256 fingerprint", "unknown");
    // The router checked the chain; this is belt and braces for routers configured without a CA.
    if (cert.expired === true) throw deny("client certificate expired", "unknown");

    // realm null: the binding itself says which realm (must then be unambiguous).
    let found: LoginRecord[] = await findLoginsByLookup(ctx.pool, req.realm, "tls", fingerprint);
    if (found.length === 0) throw deny("unknown certificate", "unknown");
    if (req.authid !== null) {
      found = found.filter((l) => l.user.authid === req.authid || l.user.authid_override === req.authid);
      if (found.length === 0) throw deny("certificate not bound to the requested authid", "account");
    }
    const now = Date.now();
    const issuer = nameField(cert, "issuer");
    const subject = nameField(cert, "subject");
    const live = found.filter(({ credentials: [c] }) => c && !c.revoked && !expired(c, now));
    if (live.length === 0) throw deny("certificate binding revoked or expired", "account");
    const pinned = live.filter(({ credentials: [c] }) => pinMatches(c!.data.issuer_cn, issuer) && pinMatches(c!.data.subject_cn, subject));
    if (pinned.length === 0) throw deny("certificate issuer/subject CN does not match the binding", "account");
    if (pinned.length > 1) throw deny("certificate bound to several users; authid required", "account");
    const login = pinned[0]!;
    if (login.user.disabled) throw deny("user disabled", "account");
    return principalOf(login.user);
  },
};

export default tls;
