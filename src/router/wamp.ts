/**
 * The slice of autobahn-js the router link uses, typed here once. autobahn ships no types.
 */
import autobahnModule from "autobahn";
import net from "node:net";

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
  Error: new (uri: string, args?: unknown[], kwargs?: Record<string, unknown>) => Error;
  auth_cryptosign: { sign_challenge(pair: unknown, extra: unknown): string };
  nacl: { sign: { keyPair: { fromSeed(seed: Uint8Array): { publicKey: Uint8Array; secretKey: Uint8Array } } } };
}

export const autobahn = autobahnModule as unknown as AutobahnModule;

/**
 * autobahn-js opens rawsocket connections with allowHalfOpen and only listens for 'close', so when
 * the router dies the socket just sees 'end' and the session is never reported lost: no reconnect,
 * /readyz stays green. Wrap the rawsocket factory so that 'end' destroys the socket, which emits
 * 'close' and lets autobahn's normal reconnect logic run. The socket is caught by wrapping
 * net.connect for the duration of the (synchronous) create() call only.
 */
function closeRawsocketOnEnd(): void {
  const registry = (autobahnModule as unknown as { transports: { get(name: string): { prototype: { create(): unknown } } } }).transports;
  const proto = registry.get("rawsocket").prototype as { create(): unknown; __authdPatched?: boolean };
  if (proto.__authdPatched) return;
  const create = proto.create;
  proto.create = function (this: unknown) {
    const connect = net.connect;
    let socket: net.Socket | null = null;
    (net as { connect: unknown }).connect = (...args: unknown[]) => (socket = (connect as (...a: unknown[]) => net.Socket)(...args));
    try {
      return create.call(this);
    } finally {
      (net as { connect: unknown }).connect = connect;
      const s = socket as net.Socket | null;
      s?.on("end", () => s.destroy());
    }
  };
  proto.__authdPatched = true;
}
closeRawsocketOnEnd();
