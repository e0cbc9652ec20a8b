/**
 * Where an issuer's verification keys come from: a JWKS fetched over HTTP(S), a JWKS file, or an HMAC
 * secret file. Each source caches its keys in memory and refreshes them in the background; a refresh
 * that fails keeps the last good keys (and says so in its status, shown in /readyz and metrics). A
 * token whose `kid` is not among the cached keys triggers at most one reload per cooldown, so a flood
 * of made-up kids cannot turn into a flood of requests to the identity provider.
 */
import { readFile, stat } from "node:fs/promises";
import {
  createLocalJWKSet,
  type CompactJWSHeaderParameters,
  type CryptoKey,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWK,
} from "jose";
import { AuthdError } from "../../errors/base.js";

export class KeySourceError extends AuthdError {
  readonly code = "KEY_SOURCE";
}

export type VerificationKey = CryptoKey | Uint8Array;

export interface KeySourceStatus {
  source: "jwks-url" | "jwks-file" | "secret-file";
  /** The last load succeeded. */
  ok: boolean;
  /** Keys held now (the last good set). */
  keys: number;
  lastSuccess: string | null;
  lastError: string | null;
}

export interface KeySource {
  key(header: CompactJWSHeaderParameters, token: FlattenedJWSInput): Promise<VerificationKey>;
  status(): KeySourceStatus;
  /** Loads now (for the first time, or again); never rejects. */
  refresh(): Promise<void>;
  start(): void;
  stop(): void;
}

export interface KeySourceOptions {
  refreshMs: number;
  cooldownMs: number;
  timeoutMs: number;
  /** Called after every load attempt. */
  onLoad?: (ok: boolean) => void;
  now?: () => number;
}

const MAX_JWKS_BYTES = 1024 * 1024;
const MAX_KEYS = 100;
const ASYMMETRIC = new Set(["RSA", "EC", "OKP"]);
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "k"];
export const MIN_SECRET_BYTES = 32;

/**
 * The public signing keys of a JWKS document. Symmetric (`oct`) keys and anything holding private
 * material are dropped: a published JWKS must never make an HMAC key out of public data. Pure.
 */
export function parseJwks(text: string): JSONWebKeySet {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new KeySourceError("the JWKS is not JSON");
  }
  const keys = typeof doc === "object" && doc !== null ? (doc as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(keys)) throw new KeySourceError('the JWKS has no "keys" array');
  const usable = (keys as unknown[]).filter(
    (k): k is JWK =>
      typeof k === "object" &&
      k !== null &&
      typeof (k as JWK).kty === "string" &&
      ASYMMETRIC.has((k as JWK).kty!) &&
      !PRIVATE_MEMBERS.some((m) => Object.hasOwn(k, m)),
  );
  if (usable.length === 0) throw new KeySourceError("the JWKS holds no public signing key");
  return { keys: usable.slice(0, MAX_KEYS) };
}

/** An HMAC secret file's bytes (one trailing newline dropped), at least 32 bytes. Pure. */
export function parseSecret(bytes: Buffer): Uint8Array {
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === 0x0a) end--;
  if (end > 0 && bytes[end - 1] === 0x0d) end--;
  if (end < MIN_SECRET_BYTES) throw new KeySourceError(`the HMAC secret is shorter than ${MIN_SECRET_BYTES} bytes`);
  return new Uint8Array(bytes.subarray(0, end));
}

async function fetchText(url: string, timeoutMs: number): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: "application/json" } });
  if (!res.ok) throw new KeySourceError(`HTTP ${res.status}`);
  if (!res.body) throw new KeySourceError("empty response");
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > MAX_JWKS_BYTES) throw new KeySourceError(`response larger than ${MAX_JWKS_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

abstract class CachedSource<K> implements KeySource {
  protected current: K | null = null;
  private count = 0;
  private lastAttempt = -Infinity;
  private lastSuccess: number | null = null;
  private lastError: string | null = null;
  private ok = false;
  private loading: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    protected readonly o: KeySourceOptions,
    private readonly kind: KeySourceStatus["source"],
  ) {}

  protected abstract load(): Promise<{ value: K; count: number }>;
  abstract key(header: CompactJWSHeaderParameters, token: FlattenedJWSInput): Promise<VerificationKey>;

  protected now(): number {
    return this.o.now?.() ?? Date.now();
  }

  refresh(): Promise<void> {
    this.loading ??= (async () => {
      this.lastAttempt = this.now();
      try {
        const { value, count } = await this.load();
        this.current = value;
        this.count = count;
        this.ok = true;
        this.lastSuccess = this.now();
        this.lastError = null;
        this.o.onLoad?.(true);
      } catch (err) {
        // The last good keys stay in use.
        this.ok = false;
        this.lastError = err instanceof Error ? err.message : String(err);
        this.o.onLoad?.(false);
      }
    })().finally(() => (this.loading = null));
    return this.loading;
  }

  /** Reloads unless the last attempt is younger than the cooldown; true when it did. */
  protected async reloadIfCool(): Promise<boolean> {
    if (this.loading) {
      await this.loading;
      return true;
    }
    if (this.now() - this.lastAttempt < this.o.cooldownMs) return false;
    await this.refresh();
    return true;
  }

  /** The cached keys, loading them first when there are none yet (within the cooldown). */
  protected async keys(): Promise<K> {
    if (this.current === null) await this.reloadIfCool();
    if (this.current === null) throw new KeySourceError(`no keys: ${this.lastError ?? "not loaded"}`);
    return this.current;
  }

  status(): KeySourceStatus {
    const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
    return { source: this.kind, ok: this.ok, keys: this.count, lastSuccess: iso(this.lastSuccess), lastError: this.lastError };
  }

  start(): void {
    if (this.timer) return;
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.o.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

type LocalSet = ReturnType<typeof createLocalJWKSet>;

/** A JWKS from a URL or a file. */
export class JwksSource extends CachedSource<LocalSet> {
  private fileMtime = -1;

  constructor(
    private readonly where: { url: string } | { file: string },
    o: KeySourceOptions,
  ) {
    super(o, "url" in where ? "jwks-url" : "jwks-file");
  }

  protected async load(): Promise<{ value: LocalSet; count: number }> {
    let text: string;
    if ("url" in this.where) {
      text = await fetchText(this.where.url, this.o.timeoutMs);
    } else {
      const file = this.where.file;
      const st = await stat(file);
      if (this.current && st.mtimeMs === this.fileMtime) return { value: this.current, count: this.status().keys };
      text = await readFile(file, "utf8");
      this.fileMtime = st.mtimeMs;
    }
    const jwks = parseJwks(text);
    return { value: createLocalJWKSet(jwks), count: jwks.keys.length };
  }

  async key(header: CompactJWSHeaderParameters, token: FlattenedJWSInput): Promise<VerificationKey> {
    const set = await this.keys();
    try {
      return await set(header, token);
    } catch (err) {
      // An unknown kid may be a rotated key: look again, at most once per cooldown.
      if ((err as { code?: string }).code !== "ERR_JWKS_NO_MATCHING_KEY" || !(await this.reloadIfCool())) throw err;
      return (await this.keys())(header, token);
    }
  }
}

/** An HMAC secret read from a file (never stored in the database). */
export class SecretSource extends CachedSource<Uint8Array> {
  constructor(
    private readonly file: string,
    o: KeySourceOptions,
  ) {
    super(o, "secret-file");
  }

  protected async load(): Promise<{ value: Uint8Array; count: number }> {
    return { value: parseSecret(await readFile(this.file)), count: 1 };
  }

  async key(): Promise<VerificationKey> {
    return this.keys();
  }
}
