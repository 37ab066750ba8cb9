import { agentLabel } from "../common/adapters/names.ts";
import type { BoardSession, BoardView, Doing } from "../common/board.ts";
import { needsPerson, urgentSession } from "../common/board.ts";
import { board as liveBoard, clockNow } from "./live.ts";
import { timelineSession } from "./inbox_state.ts";
import { age, shortId } from "./format.ts";
import { LaneCost } from "./CostBadges.tsx";

function DoingText(props: { doing: Doing | null; empty?: string }) {
  const d = props.doing;
  if (!d) return <span class="doing muted">{props.empty ?? ""}</span>;
  return (
    <span class="doing" title={d.text ? `${d.what}: ${d.text}` : d.what}>
      <span class="what">{d.what}</span>
      {d.text ? <span class="text">{d.text}</span> : null}
    </span>
  );
}

function Row(
  props: { s: BoardSession; now: number; current: boolean },
) {
  const { s, now } = props;
  const select = (e: MouseEvent) => {
    if (e.ctrlKey || e.metaKey || e.shiftKey) return;
    e.preventDefault();
    timelineSession.value = s.session_id;
  };
  return (
    <li
      class={`board-row state-${s.state}`}
      data-session={s.session_id}
      data-state={s.state}
    >
      <a
        class="board-main"
        href={`/?session=${encodeURIComponent(s.session_id)}`}
        aria-current={props.current ? "true" : undefined}
        onClick={select}
      >
        <span class={`state-label state-${s.state}`}>
          {s.state} <span class="age">{age(now - s.state_at)}</span>
        </span>
        <span class="agent-kind" data-agent={s.agent}>
          {agentLabel(s.agent)}
        </span>
        <span class="app">{s.source_app ?? "?"}</span>
        <span class="sess" title={s.session_id}>{shortId(s.session_id)}</span>
        <LaneCost session={s.session_id} />
        <DoingText doing={s.doing} empty="no activity seen yet" />
        {s.behind_ms !== null
          ? (
            <span
              class="behind"
              title="its events reach hookwatch late: replayed from the hook's spool, or a slow sender (deno task hooks:status tells why)"
            >
              hooks behind: events arrive {age(s.behind_ms)} late
            </span>
          )
          : null}
      </a>
      {s.agents.length > 0
        ? (
          <ul class="agents" aria-label="subagents">
            {s.agents.map((a) => (
              <li
                key={a.agent_id}
                class={a.done ? "agent done" : "agent"}
                data-agent={a.agent_id}
              >
                <span class="agent-name" title={a.agent_id}>
                  ↳ {a.agent_type ?? "subagent"} {shortId(a.agent_id, 8)}
                </span>
                <DoingText doing={a.done ? null : a.doing} empty="done" />
              </li>
            ))}
            {s.agentCount > s.agents.length
              ? (
                <li class="agent more">
                  +{s.agentCount - s.agents.length} more subagents
                </li>
              )
              : null}
          </ul>
        )
        : null}
    </li>
  );
}

/**
 * The sessions board: each session's state with its age, what it is doing and its subagents,
 * the ones that need a person first; ended sessions folded away. A session's link shows it in
 * the timeline (without JavaScript: the page filtered to it).
 */
export default function Board(props: { initial: BoardView; now: number }) {
  const browser = typeof document !== "undefined";
  const view = (browser ? liveBoard.value : null) ?? props.initial;
  const now = browser ? Math.max(clockNow.value, props.now) : props.now;
  const shown = (browser ? timelineSession.value : null) ??
    urgentSession(view);
  const needs = view.sessions.filter((s) => needsPerson(s.state)).length;
  const working = view.sessions.filter((s) => s.state === "working").length;
  const empty = view.sessions.length === 0 && view.endedCount === 0;
  const list = (sessions: BoardSession[]) => (
    <ul class="board-list">
      {sessions.map((s) => (
        <Row
          key={s.session_id}
          s={s}
          now={now}
          current={s.session_id === shown}
        />
      ))}
    </ul>
  );
  return (
    <section class="board" aria-label="Sessions">
      <div class="panel-head">
        <h2>Sessions</h2>
        {empty ? null : (
          <span class="board-sum">
            {needs > 0 ? <span class="needs-sum">{needs} need you</span> : null}
            <span>{working} working</span>
          </span>
        )}
      </div>
      {empty ? <p class="empty">No sessions yet.</p> : list(view.sessions)}
      {view.more > 0
        ? <p class="more">+{view.more} more sessions, less recent</p>
        : null}
      {view.endedCount > 0
        ? (
          <details class="ended-fold">
            <summary>{view.endedCount} ended</summary>
            {list(view.ended)}
          </details>
        )
        : null}
    </section>
  );
}
