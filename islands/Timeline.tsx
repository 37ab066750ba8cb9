import { useEffect, useState } from "preact/hooks";
import type { SessionActivity, ToolCall } from "../common/agents.ts";
import { timelineSession } from "./inbox_state.ts";
import { shortId } from "./format.ts";

/** What the timeline draws: one session's tool calls and state. */
export interface TimelineData {
  session_id: string;
  activity: SessionActivity | null;
  tools: ToolCall[];
}

/** How often an open timeline re-reads its session, ms. */
const REFRESH_MS = 2000;
const WIDTH = 1000;

function duration(ms: number | null): string {
  if (ms === null) return "?";
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** One lane per agent (main first, then subagents by first call). */
export function lanesOf(tools: readonly ToolCall[]): [string, ToolCall[]][] {
  const lanes = new Map<string, ToolCall[]>([["main", []]]);
  for (const t of tools) {
    const key = t.agent_id ?? "main";
    const lane = lanes.get(key);
    if (lane) lane.push(t);
    else lanes.set(key, [t]);
  }
  if (lanes.get("main")!.length === 0 && lanes.size > 1) lanes.delete("main");
  return [...lanes];
}

async function load(sessionId: string): Promise<TimelineData | null> {
  const id = encodeURIComponent(sessionId);
  const [tools, activity] = await Promise.all([
    fetch(`/sessions/${id}/tools`),
    fetch(`/sessions/${id}/activity`),
  ]);
  if (!tools.ok) return null;
  return {
    session_id: sessionId,
    tools: (await tools.json()).tools,
    activity: activity.ok ? await activity.json() : null,
  };
}

/**
 * A session as a timeline: one lane per agent, each tool call a bar from its start to its end
 * (running calls to now), the permission wait drawn as an outlined segment apart from the
 * filled tool time. Follows the session chosen in the inbox (or the latest active one).
 */
export default function Timeline(props: { initial: TimelineData | null }) {
  const browser = typeof document !== "undefined";
  const chosen = browser ? timelineSession.value : null;
  const [data, setData] = useState<TimelineData | null>(props.initial);
  const [now, setNow] = useState(() => Date.now());
  const sessionId = chosen ?? data?.session_id ?? null;

  useEffect(() => {
    if (sessionId === null) return;
    let stop = false;
    const tick = async () => {
      if (document.visibilityState === "hidden") return;
      const next = await load(sessionId).catch(() => null);
      if (!stop && next) setData(next);
      setNow(Date.now());
    };
    void tick();
    const timer = setInterval(tick, REFRESH_MS);
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, [sessionId]);

  if (sessionId === null) {
    return (
      <section class="timeline" aria-label="Session timeline">
        <h2>Timeline</h2>
        <p class="empty">No tool calls yet.</p>
      </section>
    );
  }
  const shown = data && data.session_id === sessionId ? data : null;
  const tools = shown?.tools ?? [];
  const start = Math.min(
    ...tools.map((t) => t.started_at ?? t.ended_at ?? now),
  );
  const end = Math.max(
    start + 1000,
    ...tools.map((t) =>
      t.ended_at ?? (t.outcome === "running" ? now : t.started_at ?? now)
    ),
  );
  const x = (ms: number) => ((ms - start) / (end - start)) * WIDTH;

  return (
    <section class="timeline" aria-label="Session timeline">
      <div class="panel-head">
        <h2>
          Timeline <span class="sess">{shortId(sessionId)}</span>
        </h2>
        {shown?.activity
          ? (
            <span class={`state state-${shown.activity.state}`}>
              {shown.activity.state}
            </span>
          )
          : null}
      </div>
      {tools.length === 0
        ? <p class="empty">No tool calls yet.</p>
        : (
          <div class="tl-lanes">
            {lanesOf(tools).map(([agent, calls]) => (
              <div class="tl-lane" key={agent} data-agent={agent}>
                <span class="tl-agent">
                  {agent === "main" ? "main" : shortId(agent, 8)}
                </span>
                <svg
                  viewBox={`0 0 ${WIDTH} 12`}
                  preserveAspectRatio="none"
                  role="img"
                  aria-label={`${agent} tool calls`}
                >
                  {calls.map((t) => {
                    const from = t.started_at ?? t.ended_at ?? now;
                    const to = t.ended_at ??
                      (t.outcome === "running" ? now : from);
                    const waitFrom = t.permission_at;
                    const waitTo = waitFrom === null
                      ? null
                      : t.wait_ms !== null && t.ended_at !== null
                      ? waitFrom + t.wait_ms
                      : to;
                    const label = `${t.tool_name} · ${t.outcome} · tool ${
                      duration(t.tool_ms)
                    } · wait ${duration(t.wait_ms)}${
                      t.input_summary ? ` · ${t.input_summary}` : ""
                    }`;
                    return (
                      <g
                        key={t.tool_use_id}
                        class={`tl-call outcome-${t.outcome}`}
                        data-tool-use-id={t.tool_use_id}
                      >
                        <title>{label}</title>
                        <rect
                          class="tl-work"
                          x={x(from)}
                          y={2}
                          width={Math.max(2, x(to) - x(from))}
                          height={8}
                        />
                        {waitFrom !== null && waitTo !== null
                          ? (
                            <rect
                              class="tl-wait"
                              x={x(waitFrom)}
                              y={1}
                              width={Math.max(2, x(waitTo) - x(waitFrom))}
                              height={10}
                            />
                          )
                          : null}
                      </g>
                    );
                  })}
                </svg>
              </div>
            ))}
          </div>
        )}
      <p class="tl-legend">
        <span class="tl-key work">tool</span>
        <span class="tl-key wait">waiting for permission</span>
        <span class="tl-key failed">failed</span>
        <span class="tl-key orphaned">no result</span>
      </p>
    </section>
  );
}
