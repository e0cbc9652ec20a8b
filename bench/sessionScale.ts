/**
 * The store-scale session-rules data (row 5s) and the requests the service answers against it:
 * shared by the seeding (bench/scaleBench.ts) and the service child (bench/serviceProcess.ts).
 *
 * Users `user1..userN` of role scale0. Users 1..userRules/2 have two rules of their own (an exact
 * and a prefix rule); users 1..members are each in the innermost group of one chain of four nested
 * groups (`grp{4k+1}` inside `grp{4k+2}` inside `grp{4k+3}` inside `grp{4k+4}`); every group has
 * `groupRules` prefix rules, one of them denying; role scale0 has three templates.
 */
export interface SessionScale {
  users: number;
  userRules: number;
  groups: number;
  groupRules: number;
  members: number;
}

export const SCALE_ROLE = "scale0";

export const ROLE_TEMPLATES: Array<{ uri: string; match: "exact" | "prefix" | "wildcard" }> = [
  { uri: "com.bench.home.{authid}.", match: "prefix" },
  { uri: "com.bench.inbox.{authid}", match: "exact" },
  { uri: "com.bench.{authid}..feed", match: "wildcard" },
];

/** The innermost group of the chain user `u` is in (1-based group number), or null. */
export function groupOf(u: number, s: SessionScale): number | null {
  if (u > s.members) return null;
  const chains = Math.floor(s.groups / 4);
  return (u % chains) * 4 + 1;
}

/** The authids a measurement uses: `count` users spread over those with rules and groups and those without. */
export function sampleAuthids(count: number, s: SessionScale): string[] {
  const out: string[] = [];
  let k = 12345;
  for (let i = 0; i < count; i++) {
    k = (k * 48271) % 2147483647;
    // Half from users with rules of their own, half from anywhere.
    const u = i % 2 === 0 ? 1 + (k % Math.max(1, s.userRules / 2)) : 1 + (k % s.users);
    out.push(`user${u}`);
  }
  return out;
}

/**
 * `n` (authid, uri) requests: a fifth each decided by a role rule (`roleUris`), the user's own
 * rules, a group rule of its chain, a template, or nothing (a miss).
 */
export function sessionRequests(
  n: number,
  authids: readonly string[],
  roleUris: readonly string[],
  s: SessionScale,
): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < n; i++) {
    const authid = authids[i % authids.length] as string;
    const u = Number(authid.slice(4));
    const g = groupOf(u, s);
    switch (i % 5) {
      case 0:
        out.push([authid, roleUris[i % roleUris.length] as string]);
        break;
      case 1:
        out.push([authid, u <= s.userRules / 2 ? `com.bench.user.${authid}.items.get` : `com.bench.user.${authid}.get`]);
        break;
      case 2:
        out.push([authid, g === null ? `com.bench.grp.none.x` : `com.bench.grp${g + (i % 4)}.r${i % s.groupRules}.op`]);
        break;
      case 3:
        out.push([authid, i % 2 === 0 ? `com.bench.home.${authid}.x` : `com.bench.${authid}.eu.feed`]);
        break;
      default:
        out.push([authid, `com.other.x${i % 97}.get`]);
    }
  }
  return out;
}
