/**
 * Keeps the group graph (groups, nesting, group rules) in step with the store, apart from the
 * permission index: a change to one group's rules reloads that group's rules only; a change to
 * groups or their nesting reloads the graph (groups and edges are small next to the rules of roles).
 * Changes arriving during a load are coalesced into one more load after it.
 */
import { GroupGraph } from "../authorize/groups.js";
import type { Logger } from "../log/logger.js";

export interface GroupKeeperOptions {
  loadAll: () => Promise<GroupGraph>;
  loadRules: (graph: GroupGraph, groupId: number) => Promise<GroupGraph>;
  log: Logger;
  /** After a new graph is in place: the groups whose rules or nesting changed ("all" after a full load). */
  onChanged?: (before: GroupGraph, after: GroupGraph, changed: ReadonlySet<number> | "all") => void;
}

export class GroupKeeper {
  private current: GroupGraph = GroupGraph.empty();
  private full = false;
  private readonly ruleChanges = new Set<number>();
  private running: Promise<void> | null = null;
  private retry: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly o: GroupKeeperOptions) {}

  get graph(): GroupGraph {
    return this.current;
  }

  /** The first load (start-up): fails when the store does. */
  async start(): Promise<void> {
    this.current = await this.o.loadAll();
  }

  /** A group, a membership between groups, or a group's existence changed (or anything may have: resync). */
  structureChanged(): void {
    this.full = true;
    void this.kick();
  }

  /** One group's rules changed. */
  rulesChanged(groupId: number): void {
    this.ruleChanges.add(groupId);
    void this.kick();
  }

  stop(): void {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
  }

  private kick(): Promise<void> {
    if (this.running) return this.running;
    this.running = (async () => {
      try {
        while (!this.stopped && (this.full || this.ruleChanges.size > 0)) await this.step();
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  private async step(): Promise<void> {
    const before = this.current;
    if (this.full) {
      this.full = false;
      this.ruleChanges.clear();
      try {
        this.current = await this.o.loadAll();
      } catch (err) {
        this.failed(err, () => (this.full = true));
        return;
      }
      this.changed(before, this.current, "all");
      return;
    }
    const ids = [...this.ruleChanges];
    this.ruleChanges.clear();
    let graph = before;
    try {
      for (const id of ids) graph = await this.o.loadRules(graph, id);
    } catch (err) {
      this.failed(err, () => ids.forEach((id) => this.ruleChanges.add(id)));
      return;
    }
    this.current = graph;
    this.changed(before, graph, new Set(ids));
  }

  private changed(before: GroupGraph, after: GroupGraph, ids: ReadonlySet<number> | "all"): void {
    try {
      this.o.onChanged?.(before, after, ids);
    } catch (err) {
      this.o.log.error({ err }, "handling a group change failed");
    }
  }

  private failed(err: unknown, again: () => void): void {
    this.o.log.error({ err }, "loading groups failed; retrying");
    if (this.stopped || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      again();
      void this.kick();
    }, 1000);
  }
}
