/**
 * The slice of autobahn-js the router link uses, typed here once. autobahn ships no types.
 */
import autobahnModule from "autobahn";

export interface WampSession {
  readonly id: number;
  readonly isOpen: boolean;
  register(
    uri: string,
    endpoint: (args: unknown[], kwargs: Record<string, unknown>, details: unknown) => unknown,
    options?: Record<string, unknown>,
  ): Promise<WampRegistration>;
  unregister(reg: WampRegistration): Promise<void>;
  call<T = unknown>(uri: string, args?: unknown[], kwargs?: Record<string, unknown>, options?: Record<string, unknown>): Promise<T>;
}

export interface WampRegistration {
  procedure: string;
  id: number;
}

export interface CloseDetails {
  reason?: string;
  message?: string;
  will_retry?: boolean;
  retry_delay?: number;
}

export interface WampConnection {
  onopen: ((session: WampSession, details: unknown) => void) | null;
  onclose: ((reason: string, details: CloseDetails) => boolean | void) | null;
  open(): void;
  close(reason?: string, message?: string): void;
  readonly isOpen: boolean;
}

interface AutobahnModule {
  Connection: new (options: Record<string, unknown>) => WampConnection;
  transports: { register(name: string, factory: unknown): void; isRegistered(name: string): boolean };
  Error: new (uri: string, args?: unknown[], kwargs?: Record<string, unknown>) => Error;
  auth_cryptosign: { sign_challenge(pair: unknown, extra: unknown): string };
  nacl: { sign: { keyPair: { fromSeed(seed: Uint8Array): { publicKey: Uint8Array; secretKey: Uint8Array } } } };
}

export const autobahn = autobahnModule as unknown as AutobahnModule;
