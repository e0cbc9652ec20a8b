/**
 * autobahn-js over wss:// with a TLS client certificate, in Node.
 *
 * autobahn-js 26 opens WebSockets with the global `WebSocket` (Node's built-in, undici) as
 * `new WebSocket(url, protocols)` and has no TLS options. undici's WebSocket accepts
 * `new WebSocket(url, { protocols, dispatcher })`, and a dispatcher (an undici Agent) takes
 * `connect: { ca, cert, key }`. Node does not export undici's Agent, but its global dispatcher is one:
 * its constructor gives us the class without adding a dependency.
 *
 * So: the global WebSocket is wrapped once (per test process) by a subclass that adds the dispatcher
 * chosen for the connection being opened. autobahn's Connection.open() creates the WebSocket
 * synchronously, so setting the dispatcher just around connect() is exact. Without a pending
 * dispatcher the wrapper behaves like the native WebSocket.
 */
import { readFileSync } from "node:fs";
import { connect, type ClientOptions, type Joined } from "./client.js";

export interface ClientTls {
  /** CA file that signed the server certificate */
  ca: string;
  /** client certificate and key (PEM files); omit to connect without one */
  cert?: string;
  key?: string;
}

interface Dispatcher {
  close(): Promise<void>;
}
type AgentClass = new (o: { connect: Record<string, unknown> }) => Dispatcher;

let pending: Dispatcher | null = null;
let installed = false;

function agentClass(): AgentClass {
  void globalThis.WebSocket; // loading Node's undici creates the global dispatcher
  const d = (globalThis as Record<symbol, unknown>)[Symbol.for("undici.globalDispatcher.1")];
  if (!d || typeof d !== "object") throw new Error("tlsClient: Node's undici global dispatcher not found");
  return (d as { constructor: AgentClass }).constructor;
}

function install(): void {
  if (installed) return;
  const Native = globalThis.WebSocket;
  class CertWebSocket extends Native {
    constructor(url: string | URL, protocols?: string | string[]) {
      const dispatcher = pending;
      super(url, (dispatcher ? { protocols, dispatcher } : protocols) as string | string[]);
    }
  }
  globalThis.WebSocket = CertWebSocket as typeof WebSocket;
  installed = true;
}

/** connect() (test/helpers/client.ts) over wss:// presenting `tls.cert`. */
export function connectTls(tls: ClientTls, o: ClientOptions): Promise<Joined> {
  install();
  const Agent = agentClass();
  const agent = new Agent({
    connect: {
      ca: readFileSync(tls.ca),
      ...(tls.cert ? { cert: readFileSync(tls.cert) } : {}),
      ...(tls.key ? { key: readFileSync(tls.key) } : {}),
    },
  });
  pending = agent;
  let p: Promise<Joined>;
  try {
    p = connect(o);
  } finally {
    pending = null;
  }
  // The upgraded socket leaves the agent's pool; close the agent once the session is over.
  const release = () => void agent.close().catch(() => undefined);
  p.then((j) => j.closed.then(release), release);
  return p;
}
