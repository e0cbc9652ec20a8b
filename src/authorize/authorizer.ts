import type { Logger } from "../log/logger.js";
import { NO_MATCH } from "./matcher.js";
import type { PermissionIndex } from "./permissionIndex.js";
import { type Decision, isAction } from "./rules.js";
import { MAX_URI_LENGTH } from "./uri.js";

export interface AuthorizeOutcome {
  realm: string;
  role: string | null;
  action: string | null;
  allow: boolean;
  ms: number;
}

/**
 * Answers Crossbar's `authorize(session, uri, action, options)` for one realm from the in-memory
 * index. Synchronous: no I/O on this path. Anything malformed is a denial.
 */
export class Authorizer {
  constructor(
    private readonly index: () => PermissionIndex,
    private readonly log: Logger,
    private readonly onOutcome?: (o: AuthorizeOutcome) => void,
  ) {}

  authorize(realm: string, args: unknown): Decision {
    const started = performance.now();
    let role: string | null = null;
    let action: string | null = null;
    let decision: Decision = NO_MATCH;
    if (Array.isArray(args) && args.length >= 3) {
      const [session, uri, act] = args as [unknown, unknown, unknown];
      role = typeof session === "object" && session !== null ? readRole(session) : null;
      action = isAction(act) ? act : null;
      if (role && role !== "trusted" && typeof uri === "string" && uri.length <= MAX_URI_LENGTH && isAction(act)) {
        const index = this.index();
        // A shared frozen answer holding exactly allow/disclose/cache: nothing allocated per call.
        decision = index.answer(realm, role, uri, act);
        if (this.log.isLevelEnabled("debug")) {
          this.log.debug(
            { realm, role, uri, action: act, allow: decision.allow, rule: index.decide(realm, role, uri, act).rule?.id ?? null },
            "authorize",
          );
        }
      }
    }
    this.onOutcome?.({ realm, role, action, allow: decision.allow, ms: performance.now() - started });
    return decision;
  }
}

function readRole(session: object): string | null {
  if (!Object.hasOwn(session, "authrole")) return null;
  const role = (session as { authrole?: unknown }).authrole;
  return typeof role === "string" && role.length <= 255 ? role : null;
}
