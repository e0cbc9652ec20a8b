/**
 * A session's overlay: the small compiled set of rules that only this session has — its user
 * rules, its groups' rules, and every template rule (the role's, its groups', its own)
 * substituted for it. The role's plain rules stay in the role's shared set (the `base`);
 * decide.ts looks up both and compares specificity.
 *
 * The provider that loads user/group rules from the store and caches overlays per session calls
 * this; it is pure. A template that cannot be substituted for the session (template.ts) never
 * matches; if it denies anything, the overlay denies everything instead (regardless of the rule's
 * window), so a hostile authid cannot lift a denial.
 */
import { type CompiledRules, compileRules } from "./matcher.js";
import { type Rule, deniesAny } from "./rules.js";
import { type TemplateOptions, type TemplateSession, isTemplate, substitute } from "./template.js";

export interface OverlayInput {
  session: TemplateSession;
  /** The session's own rules: its user rules and its groups' rules, templates included. */
  rules: readonly Rule[];
  /** The role's template rules (`CompiledRules.templates` of the role's set). */
  roleTemplates: readonly Rule[];
  options: TemplateOptions;
  /** Compiled rules this session shares with others (its groups' plain rules), looked up beside its own. */
  shared?: CompiledRules | null;
}

/** The session's overlay, or null when the session has no rules of its own. Never cacheable. */
export function buildOverlay(input: OverlayInput, now: number): CompiledRules | null {
  const rules: Rule[] = [];
  const failedDenials: Rule[] = [];
  for (const r of [...input.roleTemplates, ...input.rules]) {
    if (!isTemplate(r.uri)) {
      rules.push(r);
      continue;
    }
    const s = substitute(r, input.session, input.options);
    if (s.ok) {
      if (s.rule) rules.push(s.rule);
    } else if (deniesAny(r)) {
      failedDenials.push(r);
    }
  }
  const shared = input.shared ?? null;
  if (rules.length === 0 && failedDenials.length === 0 && shared === null) return null;
  return compileRules(rules, now, { cacheable: false, failedDenials, ...(shared ? { shared } : {}) });
}
