/** Terminal I/O for the CLI: tables, JSON, warnings and password input. */
import { createInterface } from "node:readline";
import { CliError } from "./context.js";

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

/** Control characters (client-chosen authids and realms reach the audit table) shown as \u escapes, never sent to the terminal. */
function printable(cell: string): string {
  // eslint-disable-next-line no-control-regex
  return cell.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** A plain aligned table; `rows` of already formatted cells. */
export function printTable(header: string[], cells: string[][]): void {
  if (cells.length === 0) return;
  const rows = cells.map((r) => r.map(printable));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  process.stdout.write([line(header), ...rows.map(line)].join("\n") + "\n");
}

export function warn(message: string): void {
  process.stderr.write(`wamp-authd: warning: ${message}\n`);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new CliError("password input is too long");
    chunks.push(chunk as Buffer);
  }
  // One trailing newline is the end of the line, not part of the password.
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

function prompt(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    // Echo nothing after the question: the password must not appear on screen.
    const out = rl as unknown as { _writeToOutput: (s: string) => void; output: NodeJS.WritableStream };
    let asked = false;
    out._writeToOutput = (s: string) => {
      if (!asked) process.stderr.write(s);
    };
    rl.question(question, (answer) => {
      process.stderr.write("\n");
      rl.close();
      resolve(answer);
    });
    asked = true;
    rl.on("SIGINT", () => {
      rl.close();
      reject(new CliError("cancelled"));
    });
  });
}

/** The password from stdin when it is not a terminal, else from a prompt asked twice. Never from argv. */
export async function readPassword(what = "password"): Promise<string> {
  if (!process.stdin.isTTY) {
    const p = await readStdin();
    if (p.length === 0) throw new CliError(`no ${what} on stdin`);
    return p;
  }
  const first = await prompt(`New ${what}: `);
  const second = await prompt(`Repeat ${what}: `);
  if (first !== second) throw new CliError(`the two ${what}s differ`);
  if (first.length === 0) throw new CliError(`empty ${what}`);
  return first;
}

export function yesNo(v: boolean): string {
  return v ? "yes" : "no";
}

export function isoOrDash(v: Date | string | null | undefined): string {
  if (v === null || v === undefined) return "-";
  return new Date(v).toISOString();
}
