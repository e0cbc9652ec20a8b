/**
 * Drives test/python/wampy_client.py (wampy from PyPI) from the TS tests: one login, one JSON line back.
 * wampy lives in its own cached virtualenv (scripts/ensure-wampy.sh creates it on first use;
 * AUTHD_WAMPY_PYTHON points at another python that has wampy).
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { PyResult } from "./pyClient.js";

// compiled to dist/test/helpers/: the scripts stay in the source tree
const CLIENT = fileURLToPath(new URL("../../../test/python/wampy_client.py", import.meta.url));
const ENSURE = fileURLToPath(new URL("../../../scripts/ensure-wampy.sh", import.meta.url));

let ensured: Promise<string> | undefined;

/** The python with wampy: $AUTHD_WAMPY_PYTHON, else what scripts/ensure-wampy.sh prints (it installs on first use). */
export function wampyPython(): Promise<string> {
  const fromEnv = process.env["AUTHD_WAMPY_PYTHON"];
  if (fromEnv) return Promise.resolve(fromEnv);
  ensured ??= new Promise<string>((resolve, reject) => {
    execFile("bash", [ENSURE], { encoding: "utf8", timeout: 15 * 60_000 }, (err, stdout, stderr) => {
      const path = stdout.trim().split("\n").pop()?.trim() ?? "";
      if (err || !path) {
        ensured = undefined; // a later call may retry
        const tail = stderr.trim().split("\n").slice(-20).join("\n");
        reject(new Error(`wampy is not available: scripts/ensure-wampy.sh failed (${err?.message ?? "no path printed"})\n${tail}`));
      } else resolve(path);
    });
  });
  return ensured;
}

export interface WampyLogin {
  url: string;
  realm: string;
  authmethod: "wampcra" | "ticket" | "anonymous";
  authid?: string;
  /** WAMPYSECRET: wampy reads the secret from the environment only */
  secret?: string;
  timeoutS?: number;
}

export async function wampyLogin(o: WampyLogin): Promise<PyResult> {
  const py = await wampyPython();
  const args = [CLIENT, "--url", o.url, "--realm", o.realm, "--authmethod", o.authmethod, "--timeout", String(o.timeoutS ?? 10)];
  if (o.authid !== undefined) args.push("--authid", o.authid);
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  if (o.secret !== undefined) env.WAMPYSECRET = o.secret;
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(py, args, { encoding: "utf8", env, timeout: ((o.timeoutS ?? 10) + 20) * 1000 }, (err, out, stderr) => {
      if (err) reject(new Error(`wampy client failed: ${err.message}\n${out}\n${stderr.split("\n").slice(-20).join("\n")}`));
      else resolve(out);
    });
  });
  const line = stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(line) as PyResult;
  } catch {
    throw new Error(`wampy client printed no JSON: ${JSON.stringify(stdout)}`);
  }
}
