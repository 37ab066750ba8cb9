import { useEffect, useState } from "preact/hooks";
import type { SessionActivity, ToolCall } from "../common/agents.ts";
import { urgentSession } from "../common/board.ts";
import {
  axisTicks,
  type CallBar,
  callBar,
  lanesOf,
  type Span,
  TIMELINE_CALLS,
  timelineRange,
} from "../common/timeline.ts";
import { timelineSession } from "./inbox_state.ts";
import { board as liveBoard, clockNow } from "./live.ts";
import { age, clock, shortId } from "./format.ts";

/** What the timeline draws: one session's newest tool calls and state. */
export interface TimelineData {
  session_id: string;
  activity: SessionActivity | null;
  tools: ToolCall[];
}

/** How often an open timeline re-reads its session, ms. */
const REFRESH_MS = 2000;

function duration(ms: number | null): string {
  if (ms === null) return "?";
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

async function load(sessionId: string): Promise<TimelineData | null> {
  const id = encodeURIComponent(sessionId);
  const [tools, activity] = await Promise.all([
    fetch(`/sessions/${id}/tools?last=${TIMELINE_CALLS}`),
    fetch(`/sessions/${id}/activity`),
  ]);
  if (!tools.ok) return null;
  return {
    session_id: sessionId,
    tools: (await tools.json()).tools,
    activity: activity.ok ? await activity.json() : null,
  };
}

function label(t: ToolCall): string {
  return `${t.tool_name} · ${t.outcome} · tool ${duration(t.tool_ms)} · wait ${
    duration(t.wait_ms)
  }${t.input_summary ? ` · ${t.input_summary}` : ""}${
    t.error ? ` · ${t.error}` : ""
  }`;
}

/** Percent coordinates: the SVGs stretch to their lane without distorting anything. */
function scale(range: Span) {
  const span = range.to - range.from;
  const x = (ms: number) => `${((ms - range.from) / span * 100).toFixed(3)}%`;
  const w = (s: Span) =>
    `${Math.max(0.4, (s.to - s.from) / span * 100).toFixed(3)}%`;
  return { x, w };
}

function Lane(
  props: {
    agent: string;
    bars: CallBar[];
    range: Span;
    ticks: number[];
  },
) {
  const { x, w } = scale(props.range);
  const box = (s: Span, y: number, height: number) => ({
    x: x(s.from),
    width: w(s),
    y,
    height,
  });
  return (
    <div class="tl-lane" data-agent={props.agent}>
      <span class="tl-agent" title={props.agent}>
        {props.agent === "main" ? "main" : `↳ ${shortId(props.agent, 8)}`}
      </span>
      <svg
        class="tl-track"
        role="img"
        aria-label={`${props.agent} tool calls`}
      >
        {props.ticks.map((t) => (
          <line key={t} class="tl-grid" x1={x(t)} x2={x(t)} y1="0" y2="100%" />
        ))}
        {props.bars.map((b) => (
          <g
            key={b.call.tool_use_id}
            class={`tl-call outcome-${b.call.outcome}`}
            data-tool-use-id={b.call.tool_use_id}
          >
            <title>{label(b.call)}</title>
            <rect class="tl-span" {...box(b.span, 7, 2)} />
            {b.wait ? <rect class="tl-wait" {...box(b.wait, 2, 12)} /> : null}
            {b.tool ? <rect class="tl-work" {...box(b.tool, 3, 10)} /> : null}
          </g>
        ))}
      </svg>
    </div>
  );
}

function Axis(props: { range: Span; step: number; ticks: number[] }) {
  const { x } = scale(props.range);
  const span = props.range.to - props.range.from;
  const text = (t: number) => {
    const full = clock(t);
    if (props.step >= 60_000) return full.slice(0, 5);
    if (props.step < 1000) {
      return `${full}.${String(t % 1000).padStart(3, "0")}`;
    }
    return full;
  };
  return (
    <div class="tl-lane tl-axis-row" aria-hidden="true">
      <span class="tl-agent" />
      <svg class="tl-axis">
        {props.ticks.map((t) => {
          const at = (t - props.range.from) / span;
          return (
            <g key={t} class="tl-tick">
              <line x1={x(t)} x2={x(t)} y1="0" y2="5" />
              <text
                x={x(t)}
                y="16"
                text-anchor={at < 0.06 ? "start" : at > 0.94 ? "end" : "middle"}
              >
                {text(t)}
              </text>
            </g>
          );
        })}
      </svg>
    </div>
  );
}

/**
 * A session as a timeline: one lane per agent, each tool call a thin line from its start to
 * its end, the permission wait and the tool's own run drawn as separate segments on it, and a
 * time axis. Follows the session chosen (on the board or in the inbox), else the most urgent.
 */
export default function Timeline(
  props: {
    initial: TimelineData | null;
    now: number;
    /** The session the page was asked for (`?session=`), shown until another is chosen. */
    pinned: string | null;
  },
) {
  const browser = typeof document !== "undefined";
  const [pinned, setPinned] = useState(props.pinned);
  const chosen = (browser ? timelineSession.value : null) ?? pinned;
  const board = browser ? liveBoard.value : null;
  const [data, setData] = useState<TimelineData | null>(props.initial);
  const now = browser ? Math.max(clockNow.value, props.now) : props.now;
  const sessionId = chosen ?? (board ? urgentSession(board) : null) ??
    data?.session_id ?? null;

  useEffect(() => {
    if (sessionId === null) return;
    let stop = false;
    const tick = async () => {
      if (document.visibilityState === "hidden") return;
      const next = await load(sessionId).catch(() => null);
      if (!stop && next) setData(next);
    };
    void tick();
    const timer = setInterval(tick, REFRESH_MS);
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, [sessionId]);

  const follow = chosen === null
    ? <span class="tl-follow">following the most urgent session</span>
    : (
      <button
        type="button"
        class="tl-follow"
        onClick={() => {
          setPinned(null);
          timelineSession.value = null;
        }}
      >
        Follow the most urgent
      </button>
    );
  if (sessionId === null) {
    return (
      <section class="timeline" aria-label="Session timeline">
        <div class="panel-head">
          <h2>Timeline</h2>
        </div>
        <p class="empty">No tool calls yet.</p>
      </section>
    );
  }
  const shown = data && data.session_id === sessionId ? data : null;
  const tools = shown?.tools ?? [];
  const activity = shown?.activity ?? null;
  const live = activity !== null && activity.state !== "ended";
  const bars = tools.map((t) => callBar(t, now));
  const range = timelineRange(bars, now, live);
  const { step, at: ticks } = axisTicks(range);
  const byId = new Map(bars.map((b) => [b.call, b]));

  return (
    <section
      class="timeline"
      aria-label="Session timeline"
      data-session={sessionId}
    >
      <div class="panel-head">
        <h2>
          Timeline {activity?.source_app
            ? <span class="app">{activity.source_app}</span>
            : null}{" "}
          <span class="sess" title={sessionId}>{shortId(sessionId)}</span>
        </h2>
        {activity
          ? (
            <span class={`state-label state-${activity.state}`}>
              {activity.state}{" "}
              <span class="age">{age(now - activity.state_at)}</span>
            </span>
          )
          : null}
        {follow}
      </div>
      {!shown
        ? <p class="empty">Loading…</p>
        : tools.length === 0
        ? <p class="empty">No tool calls yet.</p>
        : (
          <div class="tl-lanes">
            {lanesOf(tools).map(([agent, calls]) => (
              <Lane
                key={agent}
                agent={agent}
                bars={calls.map((c) => byId.get(c)!)}
                range={range}
                ticks={ticks}
              />
            ))}
            <Axis range={range} step={step} ticks={ticks} />
          </div>
        )}
      <p class="tl-legend">
        <span class="tl-key work">tool run</span>
        <span class="tl-key wait">waiting for permission</span>
        <span class="tl-key failed">failed</span>
        <span class="tl-key orphaned">denied / no result</span>
        {tools.length >= TIMELINE_CALLS
          ? <span>the newest {TIMELINE_CALLS} calls</span>
          : null}
      </p>
    </section>
  );
}
