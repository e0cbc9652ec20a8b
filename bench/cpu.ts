/** CPU time per process group during a window (Linux /proc), to show where a saturated machine's cores went. */
import { readdirSync, readFileSync } from "node:fs";
import { processGroupMembers } from "../devstack/crossbarProcess.js";

const TICK = 100; // USER_HZ on Linux

function procCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / TICK; // utime + stime
  } catch {
    return 0;
  }
}

function commOf(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}

function machineCpuSeconds(): number {
  const first = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy = all but idle and iowait
  const busy = first.reduce((a, b) => a + b, 0) - (first[3] ?? 0) - (first[4] ?? 0);
  return busy / TICK;
}

export interface CpuGroups {
  crossbarPgid: number;
  servicePid: number;
  calleePid: number;
  /** the python authorizers (counted together) */
  pyPids: number[];
  /** the msgpack-linked service, if running */
  serviceMpPid?: number;
}

export interface CpuSnapshot {
  groups: Record<string, number>;
  /** per postgres backend pid: backends come and go, so only those alive at both ends count */
  postgres: Map<number, number>;
}

/** Cumulative CPU seconds per group; `cpuDiff` of two snapshots gives the window's use. */
export function cpuSnapshot(g: CpuGroups): CpuSnapshot {
  const postgres = new Map<number, number>();
  for (const e of readdirSync("/proc")) if (/^\d+$/.test(e) && commOf(e) === "postgres") postgres.set(Number(e), procCpuSeconds(Number(e)));
  const u = process.cpuUsage();
  return {
    groups: {
      crossbar: processGroupMembers(g.crossbarPgid).reduce((a, p) => a + procCpuSeconds(p), 0),
      service: procCpuSeconds(g.servicePid),
      callee: procCpuSeconds(g.calleePid),
      python: g.pyPids.reduce((a, p) => a + procCpuSeconds(p), 0),
      serviceMp: g.serviceMpPid ? procCpuSeconds(g.serviceMpPid) : 0,
      clients: (u.user + u.system) / 1e6,
      machine: machineCpuSeconds(),
    },
    postgres,
  };
}

/** Cores used per group over the window (CPU seconds / wall seconds); `other` = rest of the machine. */
export function cpuDiff(sa: CpuSnapshot, sb: CpuSnapshot, seconds: number): Record<string, number> {
  const a: Record<string, number> = { ...sa.groups, postgres: 0 };
  const b: Record<string, number> = { ...sb.groups, postgres: 0 };
  for (const [pid, t] of sb.postgres) {
    const before = sa.postgres.get(pid);
    if (before !== undefined) b.postgres = (b.postgres ?? 0) + t - before;
  }
  const out: Record<string, number> = {};
  let known = 0;
  for (const k of Object.keys(a)) {
    if (k === "machine") continue;
    out[k] = Math.round((((b[k] ?? 0) - (a[k] ?? 0)) / seconds) * 100) / 100;
    known += out[k];
  }
  out.machine = Math.round((((b.machine ?? 0) - (a.machine ?? 0)) / seconds) * 100) / 100;
  out.other = Math.round((out.machine - known) * 100) / 100;
  return out;
}
