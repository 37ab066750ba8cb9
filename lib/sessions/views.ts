/**
 * Sessions as served (`GET /sessions`, `GET /sessions/:id`, `session` stream frames, the first
 * paint): the session aggregates ({@linkcode SessionTracker}) with each session's one state,
 * which the agent sessions ({@linkcode Agents}) keep in the store, the same on every replica.
 *
 * @module
 */
import type { AgentState, SessionActivity } from "../../common/agents.ts";
import type { AgentName } from "../../common/adapters/names.ts";
import type {
  SessionAggregates,
  SessionDetail,
  SessionSummary,
} from "../../common/sessions.ts";
import type { Agents } from "../agents/agents.ts";
import type { SessionQuery, SessionTracker } from "./sessions.ts";

/** Where sessions are read from. */
export interface SessionSources {
  sessions: SessionTracker;
  agents: Agents;
}

/** {@linkcode SessionQuery} plus filters on the session's state and agent. */
export interface SessionListQuery extends Omit<SessionQuery, "session_ids"> {
  state?: AgentState;
  agent?: AgentName;
}

function withState<T extends SessionAggregates>(
  aggregates: T,
  activity: SessionActivity | undefined,
): T & Pick<SessionSummary, "agent" | "state" | "state_at" | "last_event_at"> {
  return {
    ...aggregates,
    agent: activity?.agent ?? null,
    state: activity?.state ?? null,
    state_at: activity?.state_at ?? null,
    last_event_at: activity?.last_event_at ?? null,
  };
}

/** Sessions, filtered (by state too) and sorted, each with its state. */
export async function listSessions(
  from: SessionSources,
  query: SessionListQuery,
): Promise<SessionSummary[]> {
  const { state, agent, ...rest } = query;
  // Folding what is pending tallies it too: the list includes what was just committed.
  await from.agents.flush();
  const ids = state === undefined && agent === undefined
    ? undefined
    : await from.agents.sessionIdsIn({ state, agent });
  if (ids?.length === 0) return [];
  const list = await from.sessions.list({ ...rest, session_ids: ids });
  const activities = await from.agents.activitiesOf(
    list.map((s) => s.session_id),
  );
  return list.map((s) => withState(s, activities.get(s.session_id)));
}

/** One session's summary with its state; null when unknown. */
export async function sessionSummary(
  from: SessionSources,
  sessionId: string,
): Promise<SessionSummary | null> {
  await from.agents.flush();
  const summary = await from.sessions.summary(sessionId);
  if (!summary) return null;
  return withState(summary, await from.agents.activity(sessionId) ?? undefined);
}

/** One session with its prompts, usage by model and state; null when unknown. */
export async function sessionDetail(
  from: SessionSources,
  sessionId: string,
): Promise<SessionDetail | null> {
  await from.agents.flush();
  const detail = await from.sessions.detail(sessionId);
  if (!detail) return null;
  return withState(detail, await from.agents.activity(sessionId) ?? undefined);
}
