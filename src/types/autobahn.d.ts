/**
 * Minimal typings for autobahn-js 26 (CommonJS, no bundled types), written from node_modules/autobahn/lib.
 * Use as `import autobahn from "autobahn"`.
 *
 * Notes on the runtime behaviour these types describe:
 * - Promises are when.js promises when the optional `when` package is installed (it is, as an optional
 *   dependency), native Promises with `use_es6_promises: true`, which every Connection here sets.
 * - `autobahn.Error` is NOT a subclass of the JS `Error`: WAMP errors reject with `{ error, args, kwargs }`.
 * - A call result with exactly one positional arg and no kwargs resolves to that arg; more args or any
 *   kwargs resolve to an `autobahn.Result`; no args resolve to `null`.
 * - An endpoint returning an `autobahn.Result` yields its args/kwargs; any other value `v` yields `[v]`.
 *   Throwing/rejecting with an `autobahn.Error` sends that WAMP error, anything else `wamp.error.runtime_error`.
 */
declare module "autobahn" {
  namespace autobahn {
    type Args = unknown[];
    type KwArgs = Record<string, unknown>;

    /**
     * Every Connection in this code base sets `use_es6_promises: true` (else autobahn hands out when.js
     * promises), so its promises are native ones.
     */
    type AutobahnPromise<T> = Promise<T>;

    /** returned by Session.call: CANCEL support (modes "skip" | "kill" | "killnowait") */
    interface CallPromise<T> extends Promise<T> {
      cancel(options?: { mode?: "skip" | "kill" | "killnowait" }): void;
    }

    class Error {
      constructor(error: string, args?: Args, kwargs?: KwArgs);
      /** the error URI, e.g. "wamp.error.not_authorized" */
      error: string;
      args: Args;
      kwargs: KwArgs;
    }

    class Result {
      constructor(args?: Args, kwargs?: KwArgs);
      args: Args;
      kwargs: KwArgs;
    }

    class Invocation {
      procedure: string;
      /** set when the caller asked for progressive results */
      progress: ((args?: Args, kwargs?: KwArgs) => void) | null;
      caller?: number;
      caller_authid?: string;
      caller_authrole?: string;
    }

    class Event {
      publication: number;
      topic: string;
      publisher?: number;
      publisher_authid?: string;
      publisher_authrole?: string;
      retained: boolean;
      forward_for?: unknown;
    }

    class Subscription {
      topic: string;
      handler: SubscribeHandler;
      options: KwArgs;
      session: Session;
      id: number;
      active: boolean;
      /** resolves (with the reason, if revoked by the router) when unsubscribed */
      on_unsubscribe: AutobahnPromise<string | undefined>;
      unsubscribe(): AutobahnPromise<boolean>;
    }

    class Registration {
      procedure: string;
      endpoint: RegisterEndpoint;
      options: KwArgs;
      session: Session;
      id: number;
      active: boolean;
      /** resolves (with the reason, if revoked by the router) when unregistered */
      on_unregister: AutobahnPromise<string | undefined>;
      unregister(): AutobahnPromise<void>;
    }

    class Publication {
      id: number;
    }

    type SubscribeHandler = (args: Args, kwargs: KwArgs, details: Event, subscription: Subscription) => void;
    type RegisterEndpoint = (args: Args, kwargs: KwArgs, details: Invocation) => unknown;

    interface CallOptions {
      timeout?: number;
      receive_progress?: boolean;
      disclose_me?: boolean;
      [key: string]: unknown;
    }
    interface PublishOptions {
      acknowledge?: boolean;
      exclude_me?: boolean;
      exclude?: number[];
      exclude_authid?: string[];
      exclude_authrole?: string[];
      eligible?: number[];
      eligible_authid?: string[];
      eligible_authrole?: string[];
      retain?: boolean;
      disclose_me?: boolean;
      [key: string]: unknown;
    }
    interface SubscribeOptions {
      match?: "exact" | "prefix" | "wildcard";
      get_retained?: boolean;
      [key: string]: unknown;
    }
    interface RegisterOptions {
      match?: "exact" | "prefix" | "wildcard";
      invoke?: "single" | "roundrobin" | "random" | "first" | "last";
      concurrency?: number;
      force_reregister?: boolean;
      disclose_caller?: boolean;
      [key: string]: unknown;
    }

    /** WELCOME.Details as received (plus `transport`, added by Connection before onopen) */
    interface WelcomeDetails {
      authid?: string;
      authrole?: string;
      authmethod?: string;
      authprovider?: string;
      authextra?: Record<string, unknown>;
      realm?: string;
      roles: Record<string, unknown>;
      transport?: { type: string; url: string | null; protocol: string | null };
      [key: string]: unknown;
    }

    class Session {
      readonly id: number | null;
      readonly realm: string | null;
      readonly isOpen: boolean;
      readonly features: Record<string, Record<string, boolean>> | null;
      readonly subscriptions: Subscription[][];
      readonly registrations: Registration[];
      caller_disclose_me: boolean;
      publisher_disclose_me: boolean;
      onjoin: ((details: WelcomeDetails) => void) | null;
      onleave: ((reason: string, details: { message?: string; [key: string]: unknown }) => void) | null;

      join(realm: string, authmethods?: string[], authid?: string, authextra?: Record<string, unknown>): void;
      leave(reason?: string, message?: string): void;
      call<T = unknown>(procedure: string, args?: Args, kwargs?: KwArgs, options?: CallOptions): CallPromise<T>;
      /** returns a promise only with `acknowledge: true` */
      publish(topic: string, args?: Args, kwargs?: KwArgs, options?: PublishOptions & { acknowledge: true }): AutobahnPromise<Publication>;
      publish(topic: string, args?: Args, kwargs?: KwArgs, options?: PublishOptions): AutobahnPromise<Publication> | undefined;
      subscribe(topic: string, handler: SubscribeHandler, options?: SubscribeOptions): AutobahnPromise<Subscription>;
      register(procedure: string, endpoint: RegisterEndpoint, options?: RegisterOptions): AutobahnPromise<Registration>;
      unsubscribe(subscription: Subscription): AutobahnPromise<boolean>;
      unregister(registration: Registration): AutobahnPromise<void>;
      prefix(prefix: string, uri?: string | null): void;
      resolve(curie: string): string;
      log(...items: unknown[]): void;
    }

    interface WebSocketTransportOptions {
      type: "websocket";
      url?: string;
      serializers?: unknown[];
      protocols?: string[];
    }
    interface RawSocketTransportOptions {
      /** "rawsocket" (autobahn's own, JSON only) or a type registered with `transports.register` */
      type: string;
      /** unix socket path (Node only); or host + port. Always JSON. */
      path?: string;
      host?: string;
      port?: number;
      protocols?: string[];
      rawsocket_max_len_exp?: number;
    }
    interface LongPollTransportOptions {
      type: "longpoll";
      url?: string;
      request_timeout?: number;
    }
    type TransportOptions = WebSocketTransportOptions | RawSocketTransportOptions | LongPollTransportOptions;

    type CloseReason = "closed" | "lost" | "unreachable" | "unsupported";
    interface CloseDetails {
      /** WAMP reason URI (ABORT/GOODBYE), e.g. "wamp.error.not_authorized" */
      reason: string | null;
      message: string | null;
      retry_delay: number | null;
      retry_count: number | null;
      will_retry: boolean;
    }

    interface ConnectionOptions {
      realm: string;
      /** shorthand for a single websocket transport */
      url?: string;
      transports?: TransportOptions[];
      serializers?: unknown[];
      protocols?: string[];
      authmethods?: string[];
      authid?: string;
      authextra?: Record<string, unknown>;
      /** return the signature (string) or [signature, authextra]; may return a promise */
      onchallenge?: (
        session: Session,
        method: string,
        extra: Record<string, unknown>,
      ) => string | [string, Record<string, unknown>] | PromiseLike<string | [string, Record<string, unknown>]>;
      /** default 15; -1 = forever */
      max_retries?: number;
      /** seconds, default 1.5 */
      initial_retry_delay?: number;
      max_retry_delay?: number;
      retry_delay_growth?: number;
      retry_delay_jitter?: number;
      /** default true */
      retry_if_unreachable?: boolean;
      /** required here: the promise types above assume native promises */
      use_es6_promises: true;
      use_deferred?: unknown;
      on_user_error?: (error: unknown, customErrorMessage?: string) => void;
      on_internal_error?: (error: unknown, customErrorMessage?: string) => void;
      tlsConfiguration?: unknown;
    }

    class Connection {
      constructor(options: ConnectionOptions);
      onopen: ((session: Session, details: WelcomeDetails) => void) | null;
      /** return true to stop retrying */
      onclose: ((reason: CloseReason, details: CloseDetails) => boolean | void) | null;
      readonly session: Session | null;
      readonly isOpen: boolean;
      readonly isConnected: boolean;
      readonly isRetrying: boolean;
      readonly transport: { info: { type: string; url: string | null; protocol: string | null } };
      open(): void;
      /** throws "connection already closed" if neither connected nor retrying */
      close(reason?: string, message?: string): void;
    }

    const version: string;
    const auth_cra: {
      derive_key(secret: string, salt: string, iterations?: number, keylen?: number): string;
      sign(key: string, challenge: string): string;
    };
    const auth_cryptosign: {
      sign_challenge(keyPair: { publicKey: Uint8Array; secretKey: Uint8Array }, extra: { challenge: string }): string;
      public_key(keyPair: { publicKey: Uint8Array; secretKey: Uint8Array }): string;
    };
    /** tweetnacl, bundled by autobahn: only what this code base uses */
    const nacl: {
      sign: { keyPair: { fromSeed(seed: Uint8Array): { publicKey: Uint8Array; secretKey: Uint8Array } } };
    };
    /** Registry of transport factories (`type` in a connection's `transports`). */
    const transports: {
      register(name: string, factory: unknown): void;
      isRegistered(name: string): boolean;
      get(name: string): unknown;
    };
    const log: { debug(...args: unknown[]): void; warn(...args: unknown[]): void };
  }
  export = autobahn;
}
