/**
 * The agent-session fold, pure: given what is known of one session (its activity, its running
 * and mentioned tool calls, its unresolved inbox items) and its newly committed hook events in
 * id order, it moves the session's state and hands each event to its type's handler
 * (`hook_handlers.ts`), which pairs tool calls, runs the pattern checks and raises or resolves
 * inbox items. `writes.ts` loads the inputs and writes the outputs in one transaction.
 *
 * @module
 */
import type { StoredEvent } from "../../common/events.ts";
import { stateAfter } from "../../common/hook_types.ts";
import type { AgentConfig } from "../base/agent_config.ts";
import { errorFields, log } from "../base/log.ts";
import {
  resolveWhere,
  type SessionWork,
  setState,
  touchSession,
} from "./fold_work.ts";
import { HOOK_HANDLERS } from "./hook_handlers.ts";

export {
  callKey,
  type CallRec,
  type ItemRec,
  newWork,
  type PatternState,
  type Raised,
  type SessionRec,
  type SessionWork,
  toolUseIdOf,
} from "./fold_work.ts";

function foldEvent(
  work: SessionWork,
  e: StoredEvent,
  config: AgentConfig,
): void {
  const s = touchSession(work, e);
  if (s.state === "stale") resolveWhere(work, (i) => i.kind === "stale");
  setState(s, e);
  const type = e.hook_event_type;
  const handler = Object.hasOwn(HOOK_HANDLERS, type)
    ? HOOK_HANDLERS[type as keyof typeof HOOK_HANDLERS]
    : undefined;
  handler?.({ work, e, s, agent: e.agent_id ?? "", config });
  // A session that does anything after being idle is no longer idle.
  if (type !== "Notification" && stateAfter(type, null) === "working") {
    resolveWhere(work, (i) => i.kind === "idle", e.timestamp);
  }
}

/**
 * Folds one session's newly committed events (in id order) into `work`.
 *
 * @example
 * ```ts
 * const work = newWork(null, [], []);
 * foldSession(work, events, config);
 * work.dirtyCalls; // the tool calls to write
 * ```
 */
export function foldSession(
  work: SessionWork,
  events: readonly StoredEvent[],
  config: AgentConfig,
): void {
  for (const e of events) {
    try {
      foldEvent(work, e, config);
    } catch (error) {
      // One malformed event must not stop its session's others (nor be retried forever).
      log.error("event not folded into its session", {
        event_id: e.id,
        ...errorFields(error),
      });
    }
  }
}
