/**
 * Permission requests held open for a person: `/hooks/:app/decide` holds a `PermissionRequest`
 * until a person allows or denies its inbox item (on any replica: the change reaches every
 * replica through {@linkcode Agents.onChange}), or answers nothing when its wait runs out, the
 * item is dismissed or resolved, the client goes away or hookwatch shuts down. The item's
 * `decision` column moves `waiting` → `allow` / `deny` / `expired` once, so a decision is
 * either made before the wait ended (and answered) or refused.
 *
 * @module
 */
import type { InboxItem, PermissionDecision } from "../../common/agents.ts";
import type { NewEvent } from "../../common/events.ts";
import type { DecisionRefusal } from "./inbox_actions.ts";
import type { Agents } from "./agents.ts";
import { log } from "../base/log.ts";
import { adapterOf } from "../../common/adapters/mod.ts";
import { DECISION_TYPE } from "../../common/hook_types.ts";

/** The `hook_event_type` of the event recording each decision. */
export const DECISION_EVENT = DECISION_TYPE;

/**
 * The answer that settles a held permission request, in its agent's own format (Claude Code's
 * and Codex's `hookSpecificOutput`, Copilot's `{behavior, message}`); null for an agent that
 * takes none.
 */
export function decisionOutput(
  decision: PermissionDecision,
  agent?: string | null,
): unknown {
  return adapterOf(agent).decisionOutput(decision);
}

function ends(item: InboxItem): boolean {
  return item.decision !== null || item.status === "resolved" ||
    item.status === "acked" || !item.awaiting_decision;
}

/** Held permission requests of this replica. */
export class Decisions {
  readonly #agents: Agents;
  readonly #ingest: (events: NewEvent[]) => Promise<unknown>;
  readonly #wake = new Map<number, (item: InboxItem | null) => void>();
  readonly #holding = new Set<Promise<unknown>>();
  #closed = false;

  constructor(
    agents: Agents,
    ingest: (events: NewEvent[]) => Promise<unknown>,
  ) {
    this.#agents = agents;
    this.#ingest = ingest;
    agents.onChange((items) => {
      for (const item of items) {
        if (ends(item)) this.#wake.get(item.id)?.(item);
      }
    });
  }

  /** How many requests this replica holds now. */
  get held(): number {
    return this.#wake.size;
  }

  /**
   * Holds the stored `PermissionRequest` `eventId` for at most `waitMs`: the decision a person
   * made, or null (no decision: Claude Code asks in its own dialog). Never rejects.
   */
  hold(
    eventId: number,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<PermissionDecision | null> {
    const holding = this.#hold(eventId, waitMs, signal).catch((error) => {
      log.warn("held permission request answered undecided", {
        event_id: eventId,
        error: String(error),
      });
      return null;
    });
    this.#holding.add(holding);
    holding.finally(() => this.#holding.delete(holding));
    return holding;
  }

  async #hold(
    eventId: number,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<PermissionDecision | null> {
    if (this.#closed) return null;
    // Finding the item (the fold, maybe on another replica) spends of the same wait.
    const started = Date.now();
    const items = await this.#agents.itemsOfEvent(eventId, waitMs);
    const item = items.find((i) => i.kind === "permission");
    if (!item || this.#closed) return null;
    const held = await this.#agents.decide(item.id, { to: "hold" });
    if (typeof held === "string") return null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort = () => {};
    const seen = await new Promise<InboxItem | null>((resolve) => {
      this.#wake.set(item.id, resolve);
      timer = setTimeout(
        () => resolve(null),
        Math.max(0, waitMs - (Date.now() - started)),
      );
      onAbort = () => resolve(null);
      signal?.addEventListener("abort", onAbort);
      // A change between the hold and the listener: read once.
      this.#agents.item(item.id).then((now) => {
        if (now && ends(now)) resolve(now);
      }, () => {});
    });
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
    this.#wake.delete(item.id);
    if (seen?.decision) return seen.decision;
    const expired = await this.#agents.decide(item.id, { to: "expire" });
    if (typeof expired !== "string") return null;
    // Lost the race to a person: their decision stands.
    return (await this.#agents.item(item.id))?.decision ?? null;
  }

  /**
   * A person's decision on a held item, stored as a {@linkcode DECISION_EVENT} event: the
   * item after it, or why not (409 material).
   */
  async decide(
    id: number,
    behavior: "allow" | "deny",
    message: string | null,
    by: string,
  ): Promise<InboxItem | DecisionRefusal> {
    const result = await this.#agents.decide(id, {
      to: behavior,
      message,
      by,
    });
    if (typeof result === "string" || result.decision === null) return result;
    const agent = (await this.#agents.activity(result.session_id))?.agent;
    await this.#ingest([{
      agent,
      source_app: result.source_app ?? "hookwatch",
      session_id: result.session_id,
      hook_event_type: DECISION_EVENT,
      timestamp: result.decision.at,
      payload: {
        hook_event_name: DECISION_EVENT,
        session_id: result.session_id,
        inbox_id: result.id,
        permission_event_id: result.event_id,
        tool_use_id: result.tool_use_id,
        decision_agent: result.agent_id,
        reason: result.reason,
        behavior,
        message,
        decided_by: by,
        decided_at: result.decision.at,
        latency_ms: result.decision.at - result.since,
      },
    }]);
    return result;
  }

  /** Answers every held request undecided and waits until they have; call before closing the store. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const wake of this.#wake.values()) wake(null);
    await Promise.allSettled([...this.#holding]);
  }
}
