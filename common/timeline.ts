/**
 * The session timeline's geometry, as plain values: each tool call's extent with its
 * permission wait and the tool's own run as separate segments, the time range drawn, and the
 * axis ticks. Shared by the server's first paint and the browser.
 *
 * @module
 */
import type { ToolCall } from "./agents.ts";

/** A span of time (ms). */
export interface Span {
  from: number;
  to: number;
}

/** One tool call as drawn. */
export interface CallBar {
  call: ToolCall;
  /** From `PreToolUse` (or the first thing seen) to its outcome, or now while running. */
  span: Span;
  /** Waiting for a person's permission; null without a permission dialog. */
  wait: Span | null;
  /** The tool's own run (Claude Code's `duration_ms`); null when it never ran or is unknown. */
  tool: Span | null;
}

/** Tool calls the timeline draws: the newest this many of a session. */
export const TIMELINE_CALLS = 60;

/**
 * A call's segments. The permission wait runs from the dialog for `wait_ms` (to now while the
 * call is still running undecided); the tool's run is the `tool_ms` before its outcome.
 */
export function callBar(t: ToolCall, now: number): CallBar {
  const running = t.outcome === "running";
  const from = t.started_at ?? t.permission_at ?? t.ended_at ?? now;
  const to = Math.max(from, t.ended_at ?? (running ? now : from));
  const clamp = (a: number, b: number): Span => ({
    from: Math.min(Math.max(a, from), to),
    to: Math.min(Math.max(b, from), to),
  });
  let wait: Span | null = null;
  if (t.permission_at !== null) {
    const end = t.wait_ms !== null && !running
      ? t.permission_at + t.wait_ms
      : to;
    wait = clamp(t.permission_at, end);
  }
  let tool: Span | null = null;
  if (t.outcome !== "denied") {
    if (t.ended_at !== null && t.tool_ms !== null) {
      tool = clamp(t.ended_at - t.tool_ms, t.ended_at);
    } else if (running && wait === null) {
      tool = { from, to };
    } else if (t.ended_at !== null) {
      tool = clamp(wait?.to ?? from, t.ended_at);
    }
  }
  return { call: t, span: { from, to }, wait, tool };
}

/** The range drawn: every bar, at least a second, and now while the session is live. */
export function timelineRange(
  bars: readonly CallBar[],
  now: number,
  live: boolean,
): Span {
  let from = Infinity;
  let to = -Infinity;
  for (const b of bars) {
    from = Math.min(from, b.span.from);
    to = Math.max(to, b.span.to);
  }
  if (!Number.isFinite(from)) from = to = now;
  if (live) to = Math.max(to, now);
  return { from, to: Math.max(to, from + 1000) };
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const STEPS = [
  100,
  200,
  500,
  SECOND,
  2 * SECOND,
  5 * SECOND,
  10 * SECOND,
  15 * SECOND,
  30 * SECOND,
  MINUTE,
  2 * MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  60 * MINUTE,
  2 * 60 * MINUTE,
  6 * 60 * MINUTE,
  12 * 60 * MINUTE,
  24 * 60 * MINUTE,
];

/** Axis ticks: round times inside the range, at most `max` of them, and their step (ms). */
export function axisTicks(
  range: Span,
  max = 6,
): { step: number; at: number[] } {
  const span = range.to - range.from;
  const step = STEPS.find((s) => span / s <= max) ?? STEPS[STEPS.length - 1];
  const at: number[] = [];
  for (let t = Math.ceil(range.from / step) * step; t <= range.to; t += step) {
    at.push(t);
  }
  return { step, at };
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
