/**
 * What each hook event type does to its session's tool calls, patterns and inbox — one small
 * handler per type, keyed by the names of `common/hook_types.ts` (which says what each does to
 * the session's state). A type without a handler changes neither. Pure.
 *
 * @module
 */
import type { StoredEvent } from "../../common/events.ts";
import {
  API_REQUEST_TYPE,
  DECISION_TYPE,
  type HookTypeName,
  notificationMeaning,
} from "../../common/hook_types.ts";
import type { AgentConfig } from "../base/agent_config.ts";
import {
  callFor,
  callKey,
  checkLoop,
  fieldsOf,
  finish,
  newCall,
  oldestRunning,
  pairPermission,
  raise,
  RESOLVED_BY_END,
  RESOLVED_BY_PROMPT,
  resolveWhere,
  type SessionRec,
  type SessionWork,
  str,
  syntheticId,
  toolUseIdOf,
} from "./fold_work.ts";
import { dangerOf, inputSummary, rulesOf } from "./patterns.ts";

/** One event in its session, as a handler sees it. */
export interface HookContext {
  work: SessionWork;
  e: StoredEvent;
  /** The session, touched and with its state moved already. */
  s: SessionRec;
  /** `agent_id`, `""` for the main agent. */
  agent: string;
  config: AgentConfig;
}

type Handler = (c: HookContext) => void;

function preToolUse({ work, e, s, agent, config }: HookContext): void {
  // An agent that passes no call id (Gemini, Copilot): numbered in the order calls start.
  const id = toolUseIdOf(e) ?? syntheticId(e);
  const key = callKey(agent, id);
  let c = work.calls.get(key);
  if (!c) {
    c = newCall(e, agent, id, true);
    work.calls.set(key, c);
  } else if (c.sig === "") {
    // Its outcome came first: the input is the PreToolUse's to say.
    const fresh = newCall(e, agent, id, true);
    c.tool_name = fresh.tool_name;
    c.input_summary = fresh.input_summary || c.input_summary;
    c.sig = fresh.sig;
  }
  c.started_at = e.timestamp;
  work.dirtyCalls.add(c);
  pairPermission(work, c);
  checkLoop(work, s, e, c, config);
  const rule = dangerOf(
    c.tool_name,
    fieldsOf(e).tool_input ?? {},
    rulesOf(config),
    config.protectedBranches,
  );
  if (rule) {
    raise(
      work,
      e,
      "dangerous",
      `dangerous\n${agent}\n${id}`,
      `${rule.description}: ${c.input_summary}`,
      id,
      rule.name,
    );
  }
}

function permissionRequest({ work, e, agent }: HookContext): void {
  const c = callFor(work, e, agent);
  if (c) {
    c.permission_at = e.timestamp;
    work.dirtyCalls.add(c);
  }
  const id = c?.tool_use_id ?? toolUseIdOf(e);
  const f = fieldsOf(e);
  const tool = f.tool_name ?? c?.tool_name ?? "a tool";
  const what = inputSummary(f.tool_input) || c?.input_summary || "";
  raise(
    work,
    e,
    "permission",
    `permission\n${agent}\n${id ?? e.id}`,
    what ? `${tool}: ${what}` : `permission to use ${tool}`,
    id,
  );
}

function permissionDenied({ work, e, agent }: HookContext): void {
  const c = callFor(work, e, agent);
  if (c) finish(work, c, e, "denied");
  else resolveWhere(work, (i) => i.kind === "permission" && i.agent === agent);
}

function toolOutcome(failed: boolean): Handler {
  return ({ work, e, s, agent, config }) => {
    const id = toolUseIdOf(e);
    // Without a call id: the oldest running call (calls end in the order they started).
    let c = id === null ? oldestRunning(work, e, agent) : null;
    if (!c) {
      const key = callKey(agent, id ?? syntheticId(e));
      c = work.calls.get(key) ?? newCall(e, agent, id ?? syntheticId(e));
      work.calls.set(key, c);
    }
    finish(work, c, e, failed ? "failed" : "ok");
    if (!failed) {
      s.patterns.streak = 0;
      resolveWhere(work, (i) => i.kind === "failure_streak");
      return;
    }
    work.failures++;
    s.patterns.streak++;
    if (
      config.failureStreak > 0 && s.patterns.streak === config.failureStreak
    ) {
      raise(
        work,
        e,
        "failure_streak",
        "failure_streak",
        `${s.patterns.streak} tool calls failed in a row, last ${
          fieldsOf(e).tool_name ?? "?"
        }: ${fieldsOf(e).error ?? ""}`,
        c.tool_use_id,
      );
    }
  };
}

function userPromptSubmit({ work, e, s }: HookContext): void {
  s.patterns.streak = 0;
  s.patterns.loops = {};
  resolveWhere(work, (i) => RESOLVED_BY_PROMPT.has(i.kind), e.timestamp);
}

function notification({ work, e, agent }: HookContext): void {
  const f = fieldsOf(e);
  const message = f.message;
  switch (notificationMeaning(f).inbox) {
    case "idle":
      raise(work, e, "idle", "idle", message ?? "waiting for your input");
      break;
    case "elicitation":
      raise(
        work,
        e,
        "elicitation",
        `elicitation\n${agent}`,
        message ?? "asks for input",
      );
  }
}

function elicitation({ work, e, agent }: HookContext): void {
  raise(
    work,
    e,
    "elicitation",
    `elicitation\n${agent}`,
    fieldsOf(e).message ??
      `${str(e.payload.mcp_server_name) ?? "an MCP server"} asks for input`,
  );
}

function elicitationResult({ work, agent }: HookContext): void {
  resolveWhere(work, (i) => i.kind === "elicitation" && i.agent === agent);
}

function stopFailure({ work, e }: HookContext): void {
  const f = fieldsOf(e);
  raise(
    work,
    e,
    "failure",
    "failure",
    `the turn failed: ${
      f.error ?? str(e.payload.error_type) ?? f.reason ?? "StopFailure"
    }`,
  );
}

/** A person denied a held permission request: its call never ran (the agent sends no outcome). */
function permissionDecision({ work, e }: HookContext): void {
  const id = str(e.payload.tool_use_id);
  if (e.payload.behavior !== "deny" || id === null) return;
  const agent = str(e.payload.decision_agent) ?? "";
  const c = work.calls.get(callKey(agent, id));
  if (c && c.outcome === "running") finish(work, c, e, "denied");
}

function stop({ work, e }: HookContext): void {
  resolveWhere(
    work,
    (i) =>
      i.kind === "permission" || i.kind === "elicitation" || i.kind === "loop",
    e.timestamp,
  );
}

function sessionEnd({ work, e }: HookContext): void {
  for (const c of work.calls.values()) {
    if (c.outcome !== "running") continue;
    c.outcome = "orphaned";
    work.dirtyCalls.add(c);
  }
  resolveWhere(work, (i) => RESOLVED_BY_END.has(i.kind), e.timestamp);
}

function apiRequest({ work, e, s, config }: HookContext): void {
  const cost = Number(e.payload.cost_usd);
  if (Number.isFinite(cost) && cost > 0) s.patterns.cost += cost;
  if (
    config.sessionBudgetUsd > 0 && !s.patterns.budget &&
    s.patterns.cost >= config.sessionBudgetUsd
  ) {
    s.patterns.budget = true;
    raise(
      work,
      e,
      "budget",
      "budget",
      `spent ${
        s.patterns.cost.toFixed(2)
      } USD, over the ${config.sessionBudgetUsd} USD budget`,
    );
  }
}

/** Each hook event type's handler; types without one change no call, pattern or item. */
export const HOOK_HANDLERS: Readonly<
  Partial<
    Record<
      HookTypeName | typeof API_REQUEST_TYPE | typeof DECISION_TYPE,
      Handler
    >
  >
> = Object.freeze({
  PreToolUse: preToolUse,
  PermissionRequest: permissionRequest,
  PermissionDenied: permissionDenied,
  PostToolUse: toolOutcome(false),
  PostToolUseFailure: toolOutcome(true),
  UserPromptSubmit: userPromptSubmit,
  Notification: notification,
  Elicitation: elicitation,
  ElicitationResult: elicitationResult,
  StopFailure: stopFailure,
  Stop: stop,
  SessionEnd: sessionEnd,
  [API_REQUEST_TYPE]: apiRequest,
  [DECISION_TYPE]: permissionDecision,
});
