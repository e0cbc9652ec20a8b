/** URI checks shared by the matcher and rule management. */

/** Rule URIs: loose components, empty components allowed (wildcards), no whitespace or '#'. */
export const RULE_URI = /^([^\s.#]*\.)*([^\s.#]*)$/;

export const MAX_URI_LENGTH = 512;

/**
 * Crossbar's starred-URI convention for rules given without `match`:
 * no star → exact; one trailing star → prefix; other stars → wildcard with the stars removed.
 */
export function fromStarred(uri: string): { uri: string; match: "exact" | "prefix" | "wildcard" } {
  const stars = uri.split("*").length - 1;
  if (stars === 0) return { uri, match: "exact" };
  if (stars === 1 && uri.endsWith("*")) return { uri: uri.slice(0, -1), match: "prefix" };
  return { uri: uri.replaceAll("*", ""), match: "wildcard" };
}
