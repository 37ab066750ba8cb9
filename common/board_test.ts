import assert from "node:assert/strict";
import {
  BOARD_LIMITS,
  type BoardSession,
  compareSessions,
  doingOf,
  SessionBoard,
} from "./board.ts";
import type { StreamEvent } from "./events.ts";
import type { SessionSummary } from "./sessions.ts";

const NOW = 1_700_000_000_000;
let nextId = 0;

function ev(
  session: string,
  type: string,
  at: number,
  payload: Record<string, unknown> = {},
  agent: string | null = null,
): StreamEvent {
  return {
    id: ++nextId,
    source_app: `app-${session}`,
    session_id: session,
    hook_event_type: type,
    payload,
    timestamp: at,
    received_at: at,
    priority: 0,
    model_name: null,
    summary: null,
    agent_id: agent,
  };
}

const order = (b: SessionBoard, now = NOW) =>
  b.view(now).sessions.map((s) => `${s.session_id}:${s.state}`);

Deno.test("board - who needs a person first: waiting (longest first), failed, working, then the rest by recency; ended folded", () => {
  const b = new SessionBoard();
  b.apply(ev("stopped-old", "Stop", NOW - 50_000));
  b.apply(ev("idle-new", "SessionStart", NOW - 1_000));
  b.apply(ev("working-a", "UserPromptSubmit", NOW - 40_000));
  b.apply(ev("working-b", "UserPromptSubmit", NOW - 20_000));
  // Later tool calls keep a working session where it is.
  b.apply(ev("working-a", "PreToolUse", NOW - 100, { tool_name: "Bash" }));
  b.apply(ev("waiting-new", "PermissionRequest", NOW - 5_000));
  b.apply(ev("waiting-old", "PermissionRequest", NOW - 90_000));
  b.apply(ev("failed", "StopFailure", NOW - 30_000, { error: "overloaded" }));
  b.apply(ev("gone", "SessionEnd", NOW - 10_000, { reason: "other" }));
  assert.deepEqual(order(b), [
    "waiting-old:waiting",
    "waiting-new:waiting",
    "failed:failed",
    "working-b:working",
    "working-a:working",
    "idle-new:idle",
    "stopped-old:stopped",
  ]);
  const view = b.view(NOW);
  assert.equal(view.endedCount, 1);
  assert.deepEqual(view.ended.map((s) => s.session_id), ["gone"]);
  assert.deepEqual(view.ended[0].doing, {
    type: "SessionEnd",
    what: "session ended",
    text: "",
    at: NOW - 10_000,
  });
  assert.equal(view.sessions[0].state_at, NOW - 90_000, "the label's age");
});

Deno.test("board - what a session is doing: its newest telling event; subagents in lanes of their own", () => {
  const b = new SessionBoard();
  b.apply(
    ev("s", "UserPromptSubmit", NOW - 3000, { prompt: "fix  the\ntests" }),
  );
  let [s] = b.view(NOW).sessions;
  assert.deepEqual([s.doing?.what, s.doing?.text], ["prompt", "fix the tests"]);
  b.apply(
    ev("s", "PreToolUse", NOW - 2000, {
      tool_name: "Bash",
      tool_input: { command: "deno task test" },
    }),
  );
  // Events that say nothing of the work leave it as it was.
  b.apply(ev("s", "FileChanged", NOW - 1500, { file_path: "/x" }));
  b.apply(ev("s", "claude_code.api_request", NOW - 1400, { cost_usd: 1 }));
  // An older event arriving late does not win.
  b.apply(ev("s", "PreToolUse", NOW - 2500, { tool_name: "Read" }));
  b.apply(
    ev("s", "SubagentStart", NOW - 1000, { agent_type: "Explore" }, "sub-1"),
  );
  b.apply(
    ev("s", "PreToolUse", NOW - 900, {
      tool_name: "Grep",
      tool_input: { pattern: "TODO" },
      agent_type: "Explore",
    }, "sub-1"),
  );
  b.apply(ev("s", "SubagentStart", NOW - 800, {}, "sub-2"));
  b.apply(ev("s", "SubagentStop", NOW - 700, {}, "sub-2"));
  [s] = b.view(NOW).sessions;
  assert.deepEqual([s.doing?.what, s.doing?.text], ["Bash", "deno task test"]);
  assert.equal(s.agentCount, 2);
  assert.deepEqual(
    s.agents.map((a) => [a.agent_id, a.agent_type, a.done, a.doing?.text]),
    [["sub-1", "Explore", false, "TODO"], ["sub-2", null, true, ""]],
    "running subagents first",
  );
  assert.equal(s.state, "working");
});

Deno.test("board - doing says what each event means", () => {
  const say = (type: string, payload: Record<string, unknown>) => {
    const d = doingOf(ev("s", type, NOW, payload));
    return d && `${d.what}: ${d.text}`;
  };
  const bash = { tool_name: "Bash", tool_input: { command: "rm -rf build" } };
  assert.equal(
    say("PermissionRequest", bash),
    "asks to use Bash: rm -rf build",
  );
  assert.equal(say("PostToolUse", bash), "ran Bash: rm -rf build");
  assert.equal(
    say("PostToolUseFailure", { ...bash, error: "exit 1" }),
    "Bash failed: exit 1",
  );
  assert.equal(
    say("Stop", { last_assistant_message: "Done." }),
    "finished: Done.",
  );
  assert.equal(
    say("Notification", { notification_type: "idle_prompt", message: "hi" }),
    "idle: hi",
  );
  assert.equal(
    say("SessionEnd", { reason: "logout" }),
    "session ended: logged out",
  );
  assert.equal(say("ConfigChange", {}), null);
});

Deno.test("board - the store's state wins unless the board holds a newer event", () => {
  const b = new SessionBoard();
  // The board saw the Stop; the store folded the SessionEnd after it (evicted from the feed).
  b.apply(ev("a", "Stop", NOW - 5000));
  // The board saw a prompt newer than anything the store had folded.
  b.apply(ev("b", "UserPromptSubmit", NOW - 1000));
  const summary = (
    id: string,
    state: SessionSummary["state"],
    at: number,
  ) =>
    ({
      session_id: id,
      source_app: "from-store",
      state,
      state_at: at,
      last_event_at: at,
    }) as SessionSummary;
  b.seed([
    summary("a", "ended", NOW - 4000),
    summary("b", "stopped", NOW - 3000),
    summary("c", "stale", NOW - 60_000),
    summary("telemetry-only", null, NOW),
  ]);
  const view = b.view(NOW);
  assert.deepEqual(order(b), ["b:working", "c:stale"]);
  assert.deepEqual(view.ended.map((s) => s.session_id), ["a"]);
  assert.equal(view.sessions[1].source_app, "from-store");
  // A stale session wakes with its next event.
  b.apply(ev("c", "PreToolUse", NOW, { tool_name: "Bash" }));
  assert.deepEqual(order(b), ["c:working", "b:working"]);
});

Deno.test("board - a silent session turns stale by the sweep's rule, and wakes", () => {
  const b = new SessionBoard({ staleAfterMs: 60_000 });
  b.apply(ev("s", "PermissionRequest", NOW));
  b.apply(ev("done", "SessionEnd", NOW));
  assert.equal(b.changed(NOW), true);
  assert.deepEqual(order(b, NOW + 60_000), ["s:waiting"]);
  assert.equal(b.changed(NOW + 60_000), false);
  assert.equal(b.changed(NOW + 60_001), true, "due: it just went stale");
  const [s] = b.view(NOW + 61_000).sessions;
  assert.deepEqual([s.state, s.state_at], ["stale", NOW + 60_000]);
  assert.equal(b.view(NOW + 61_000).endedCount, 1, "ended never goes stale");
  // The next event finds it stale (as the sweep left it) and moves it on.
  b.apply(ev("s", "PostToolUse", NOW + 70_000, { tool_name: "Bash" }));
  const [woken] = b.view(NOW + 70_000).sessions;
  assert.deepEqual([woken.state, woken.state_at], ["working", NOW + 70_000]);
});

Deno.test("board - keeps a bounded number of sessions and subagents", () => {
  const b = new SessionBoard();
  for (let i = 0; i < BOARD_LIMITS.kept + 5; i++) {
    b.apply(ev(`s${i}`, "UserPromptSubmit", NOW + i));
  }
  const view = b.view(NOW + 1000);
  assert.equal(view.sessions.length, BOARD_LIMITS.shown);
  assert.equal(view.more, BOARD_LIMITS.kept - BOARD_LIMITS.shown);
  assert.equal(view.sessions[0].session_id, `s${BOARD_LIMITS.kept + 4}`);
  for (let i = 0; i < BOARD_LIMITS.agentsKept + 3; i++) {
    b.apply(ev("many", "SubagentStart", NOW + 2000 + i, {}, `a${i}`));
  }
  const [many] = b.view(NOW + 3000).sessions;
  assert.equal(many.agentCount, BOARD_LIMITS.agentsKept);
  assert.equal(many.agents.length, BOARD_LIMITS.agents);
});

Deno.test("board - the order is total", () => {
  const row = (id: string): BoardSession => ({
    session_id: id,
    source_app: null,
    agent: "claude-code",
    state: "idle",
    state_at: NOW,
    last_event_at: NOW,
    doing: null,
    agents: [],
    agentCount: 0,
    behind_ms: null,
  });
  assert.equal(compareSessions(row("a"), row("b")), -1);
  assert.equal(compareSessions(row("b"), row("a")), 1);
});

Deno.test("board - a session whose newest arrival came late reads as behind, until one arrives in time", () => {
  const b = new SessionBoard();
  b.apply(ev("s", "UserPromptSubmit", NOW - 300_000));
  assert.equal(b.view(NOW).sessions[0].behind_ms, null);
  // Replayed from the spool five minutes after it happened.
  const replayed = {
    ...ev("s", "PreToolUse", NOW - 299_000),
    received_at: NOW,
  };
  // Posted without a sender's event id (curl, an import): its time is the poster's.
  b.apply(replayed);
  assert.equal(b.view(NOW).sessions[0].behind_ms, null);
  b.apply({ ...replayed, id: ++nextId, event_id: "hw-1" });
  assert.equal(b.view(NOW).sessions[0].behind_ms, 299_000);
  // Telemetry says nothing of the hooks.
  b.apply({
    ...ev("s", "claude_code.api_request", NOW - 200_000),
    received_at: NOW + 1,
  });
  assert.equal(b.view(NOW).sessions[0].behind_ms, 299_000);
  b.apply({
    ...ev("s", "PostToolUse", NOW + 2000),
    received_at: NOW + 2010,
    event_id: "hw-2",
  });
  assert.equal(b.view(NOW + 3000).sessions[0].behind_ms, null);
});
