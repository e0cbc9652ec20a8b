import { createServer, type Server } from "node:http";
import type { Registry } from "prom-client";
import type { Logger } from "../log/logger.js";

export interface HealthSource {
  /** Router sessions registered in every realm and the store reachable. */
  ready(): Promise<{ ready: boolean; detail: Record<string, unknown> }>;
}

/** /healthz (process up), /readyz (router + store), /metrics (Prometheus). */
export function startHttp(host: string, port: number, health: HealthSource, registry: Registry, log: Logger): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const reply = (status: number, body: string, type = "application/json") => {
      res.writeHead(status, { "content-type": type });
      res.end(body);
    };
    (async () => {
      if (req.method !== "GET") return reply(405, JSON.stringify({ error: "method not allowed" }));
      if (path === "/healthz") return reply(200, JSON.stringify({ status: "ok" }));
      if (path === "/readyz") {
        const r = await health.ready();
        return reply(r.ready ? 200 : 503, JSON.stringify({ ready: r.ready, ...r.detail }));
      }
      if (path === "/metrics") return reply(200, await registry.metrics(), registry.contentType);
      return reply(404, JSON.stringify({ error: "not found" }));
    })().catch((err: Error) => {
      log.error({ err }, "http handler failed");
      reply(500, JSON.stringify({ error: "internal error" }));
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}
