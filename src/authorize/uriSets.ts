/**
 * Which URIs a rule or a pattern request can match, and whether two such sets meet. Pure string
 * geometry, used by the pattern decisions (decide.ts) and the reserved-URI guard (reserved.ts).
 *
 * - exact `e`: {e}
 * - prefix `p`: every URI that starts with `p` (a plain string prefix, `p` itself included)
 * - wildcard `w`, split on `.`: every URI with as many components, where an empty component of `w`
 *   stands for exactly one non-empty component and a non-empty one must be equal.
 *
 * "May intersect" answers err towards true: they decide which rules must also allow a pattern.
 */

/** The WAMP meta API namespace. */
export const META_PREFIX = "wamp.";

export function inMeta(uri: string): boolean {
  return uri.startsWith(META_PREFIX);
}

/** Whether the wildcard `parts` matches the concrete `uri`. An empty URI component matches only an empty one. */
export function wildcardMatches(parts: readonly string[], uri: string): boolean {
  const u = uri.split(".");
  if (u.length !== parts.length) return false;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as string;
    const c = u[i] as string;
    // An empty pattern component stands for one non-empty component.
    if (p === "" ? c === "" : p !== c) return false;
  }
  return true;
}

/** The longest string every URI of the wildcard `parts` starts with ("" when the first component is a wildcard). */
export function fixedLead(parts: readonly string[]): string {
  const first = parts.indexOf("");
  if (first === -1) return parts.join(".");
  return first === 0 ? "" : parts.slice(0, first).join(".") + ".";
}

/** Whether some URI of the wildcard `parts` starts with `prefix`. */
export function prefixMeetsWildcard(prefix: string, parts: readonly string[]): boolean {
  const q = prefix.split(".");
  const k = q.length - 1; // q[0..k-1] are whole components, q[k] the (possibly empty) start of the next one
  if (parts.length < q.length) return false;
  for (let i = 0; i < k; i++) {
    const w = parts[i] as string;
    const c = q[i] as string;
    if (w === "" ? c === "" : w !== c) return false;
  }
  const w = parts[k] as string;
  return w === "" || w.startsWith(q[k] as string);
}

/** Whether two prefix sets meet: one prefix starts with the other. */
export function prefixesMeet(a: string, b: string): boolean {
  return a.startsWith(b) || b.startsWith(a);
}

/**
 * Whether a pattern request can match URIs in the `wamp.` namespace without lying inside it: such a
 * pattern would reach meta URIs through rules that don't name `wamp.` (see decide.ts).
 */
export function patternLeaksIntoMeta(match: "prefix" | "wildcard", uri: string, parts: readonly string[] | null): boolean {
  if (match === "prefix") return !inMeta(uri) && META_PREFIX.startsWith(uri);
  const first = (parts ?? uri.split("."))[0] as string;
  return first === "";
}
