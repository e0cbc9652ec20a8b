/**
 * Drives test/python/client.py (autobahn-python) from the TS tests: one login, one JSON line back.
 * Uses the python of the Crossbar venv, which ships autobahn with argon2-cffi (needed for SCRAM).
 */
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { findCrossbar } from "../../devstack/crossbarProcess.js";

// compiled to dist/test/helpers/: the script stays in the source tree
const SCRIPT = fileURLToPath(new URL("../../../test/python/client.py", import.meta.url));

export interface PyWelcome {
  authid: string;
  authrole: string;
  authmethod: string;
  authprovider: string;
  authextra: Record<string, unknown>;
  realm: string;
}

/** What the router sent in CHALLENGE, or null when it answered the HELLO with WELCOME or ABORT. */
export type PyChallenge = { method: string; extra: Record<string, unknown> } | null;

export type PyResult = ({ welcome: PyWelcome } | { abort: string | null; message: string | null }) & { challenge?: PyChallenge };

export interface PyLogin {
  url: string;
  realm: string;
  authmethod: "ticket" | "scram" | "tls" | "anonymous" | "cryptosign";
  authid?: string;
  password?: string;
  ticket?: string;
  /** cryptosign: hex Ed25519 seed */
  seed?: string;
  channelBinding?: "tls-unique" | "tls-unique-zero";
  ca?: string;
  cert?: string;
  key?: string;
  /** Extra HTTP headers for the WebSocket handshake. */
  headers?: Record<string, string>;
  timeoutS?: number;
}

async function python(): Promise<string> {
  const crossbar = await findCrossbar();
  const py = join(dirname(crossbar), "python");
  if (!existsSync(py)) throw new Error(`no python next to ${crossbar}`);
  return py;
}

export async function pyLogin(o: PyLogin): Promise<PyResult> {
  const results = await run(o, o.password === undefined ? [] : [o.password]);
  const last = results[results.length - 1];
  if (!last) throw new Error("python client printed no JSON");
  return last;
}

/** SCRAM logins with each password in turn (one python process, fresh connections), in order. */
export async function pyLogins(o: Omit<PyLogin, "password">, passwords: string[]): Promise<PyResult[]> {
  const results = await run(o, passwords);
  if (results.length !== passwords.length)
    throw new Error(`python client printed ${results.length} results for ${passwords.length} logins`);
  return results;
}

async function run(o: PyLogin, passwords: string[]): Promise<PyResult[]> {
  const args = [SCRIPT, "--url", o.url, "--realm", o.realm, "--authmethod", o.authmethod, "--timeout", String(o.timeoutS ?? 15)];
  const opt = (flag: string, v: string | undefined) => {
    if (v !== undefined) args.push(flag, v);
  };
  opt("--authid", o.authid);
  for (const p of passwords) args.push("--password", p);
  opt("--ticket", o.ticket);
  opt("--seed", o.seed);
  opt("--channel-binding", o.channelBinding);
  opt("--ca", o.ca);
  opt("--cert", o.cert);
  opt("--key", o.key);
  for (const [name, value] of Object.entries(o.headers ?? {})) args.push("--header", `${name}=${value}`);
  const py = await python();
  const logins = Math.max(1, passwords.length);
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(py, args, { encoding: "utf8", timeout: ((o.timeoutS ?? 15) * logins + 15) * 1000 }, (err, out, stderr) => {
      if (err) reject(new Error(`python client failed: ${err.message}\n${stderr}`));
      else resolve(out);
    });
  });
  const lines = stdout
    .trim()
    .split("\n")
    .filter((l) => l.startsWith("{"));
  try {
    return lines.map((l) => JSON.parse(l) as PyResult);
  } catch {
    throw new Error(`python client printed no JSON: ${JSON.stringify(stdout)}`);
  }
}

export function welcomeOf(r: PyResult): PyWelcome {
  if ("welcome" in r) return r.welcome;
  throw new Error(`expected WELCOME, got ABORT ${r.abort} ${r.message}`);
}

export function abortOf(r: PyResult): { abort: string | null; message: string | null } {
  if ("welcome" in r) throw new Error(`expected ABORT, got WELCOME as ${r.welcome.authid}/${r.welcome.authrole}`);
  return r;
}

const SUBSCRIBER = fileURLToPath(new URL("../../../test/python/subscriber.py", import.meta.url));

export interface PySubscriber {
  /** Every JSON line the subscriber printed so far. */
  lines: Array<Record<string, unknown>>;
  /** Resolves with the first line (already printed or to come) that `pred` accepts; rejects after `timeoutMs`. */
  waitFor(pred: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(): void;
}

/** A long-lived autobahn-python subscriber (test/python/subscriber.py): ticket login, one subscription. */
export async function pySubscriber(o: {
  url: string;
  realm: string;
  authid: string;
  ticket: string;
  topic: string;
}): Promise<PySubscriber> {
  const py = await python();
  const child = spawn(
    py,
    [SUBSCRIBER, "--url", o.url, "--realm", o.realm, "--authid", o.authid, "--ticket", o.ticket, "--topic", o.topic],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  let buf = "";
  child.stdout.on("data", (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (!line.startsWith("{")) continue;
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        continue;
      }
      for (const w of waiters.splice(0)) w();
    }
  });
  child.stderr.resume();
  return {
    lines,
    waitFor(pred, timeoutMs = 15000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`python subscriber: no such line within ${timeoutMs} ms: ${JSON.stringify(lines)}`)),
          timeoutMs,
        );
        const look = () => {
          const hit = lines.find(pred);
          if (hit) {
            clearTimeout(timer);
            resolve(hit);
          } else waiters.push(look);
        };
        look();
      });
    },
    stop() {
      child.kill("SIGTERM");
    },
  };
}
