import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  eventFromHookInput,
  EventValidationError,
  validateEvent,
} from "../events.ts";
import { adapterOf, type AgentName, commonEvent, commonFields } from "./mod.ts";

const FIXTURES = fileURLToPath(
  new URL("../../tests/fixtures/agents/", import.meta.url),
);
const NOW = Date.parse("2026-12-07T16:00:00Z");

function fixture(path: string): Record<string, unknown> {
  return JSON.parse(Deno.readTextFileSync(`${FIXTURES}${path}`));
}

/** Each real hook input (FINDINGS.md), its agent, the event name a hook passes, what it is. */
const CASES: [AgentName, string, string | null, string, string | null][] = [
  ["codex", "codex/SessionStart.json", null, "SessionStart", null],
  ["codex", "codex/UserPromptSubmit.json", null, "UserPromptSubmit", null],
  ["codex", "codex/PreToolUse.json", null, "PreToolUse", null],
  ["codex", "codex/PermissionRequest.json", null, "PermissionRequest", null],
  ["codex", "codex/PostToolUse.json", null, "PostToolUse", null],
  ["codex", "codex/Stop.json", null, "Stop", null],
  ["codex", "codex/SessionEnd.json", null, "SessionEnd", null],
  ["gemini-cli", "gemini/SessionStart.json", null, "SessionStart", null],
  [
    "gemini-cli",
    "gemini/BeforeAgent.json",
    null,
    "UserPromptSubmit",
    "BeforeAgent",
  ],
  ["gemini-cli", "gemini/BeforeTool.json", null, "PreToolUse", "BeforeTool"],
  ["gemini-cli", "gemini/AfterTool.json", null, "PostToolUse", "AfterTool"],
  ["gemini-cli", "gemini/AfterAgent.json", null, "Stop", "AfterAgent"],
  ["gemini-cli", "gemini/PreCompress.json", null, "PreCompact", "PreCompress"],
  ["gemini-cli", "gemini/BeforeModel.json", null, "BeforeModel", null],
  ["gemini-cli", "gemini/SessionEnd.json", null, "SessionEnd", null],
  [
    "copilot-cli",
    "copilot/sessionStart.json",
    "sessionStart",
    "SessionStart",
    "sessionStart",
  ],
  [
    "copilot-cli",
    "copilot/userPromptSubmitted.json",
    "userPromptSubmitted",
    "UserPromptSubmit",
    "userPromptSubmitted",
  ],
  [
    "copilot-cli",
    "copilot/preToolUse.json",
    "preToolUse",
    "PreToolUse",
    "preToolUse",
  ],
  // permissionRequest names itself (hookName); notification too (hook_event_name).
  [
    "copilot-cli",
    "copilot/permissionRequest.json",
    null,
    "PermissionRequest",
    "permissionRequest",
  ],
  [
    "copilot-cli",
    "copilot/postToolUse.json",
    "postToolUse",
    "PostToolUse",
    "postToolUse",
  ],
  ["copilot-cli", "copilot/agentStop.json", "agentStop", "Stop", "agentStop"],
  [
    "copilot-cli",
    "copilot/sessionEnd.json",
    "sessionEnd",
    "SessionEnd",
    "sessionEnd",
  ],
  [
    "copilot-cli",
    "copilot/notification.json",
    "notification",
    "Notification",
    "notification",
  ],
  ["copilot-cli", "copilot/pascal/PreToolUse.json", null, "PreToolUse", null],
  ["copilot-cli", "copilot/pascal/PostToolUse.json", null, "PostToolUse", null],
  ["copilot-cli", "copilot/pascal/Stop.json", null, "Stop", null],
  [
    "copilot-cli",
    "copilot/pascal/PermissionRequest.json",
    null,
    "PermissionRequest",
    "permissionRequest",
  ],
];

Deno.test("adapters - every real hook input maps to its common type, session and time; the payload is kept as sent", () => {
  for (const [agent, path, event, type, native] of CASES) {
    const input = fixture(path);
    const e = eventFromHookInput("app", input, NOW, agent, event);
    assert.equal(e.hook_event_type, type, path);
    assert.equal(e.agent_event, native, path);
    assert.equal(e.agent, agent, path);
    assert.equal(e.payload, input, path);
    assert.equal(
      e.session_id,
      input.session_id ?? input.sessionId,
      `${path} session`,
    );
    const time = input.timestamp;
    assert.equal(
      e.timestamp,
      time === undefined ? NOW : new Date(time as string | number).getTime(),
      `${path} timestamp`,
    );
  }
});

Deno.test("adapters - the shell call reads the same in common whatever the agent", () => {
  const pre: [AgentName, string][] = [
    ["codex", "codex/PreToolUse.json"],
    ["gemini-cli", "gemini/BeforeTool.json"],
    ["copilot-cli", "copilot/preToolUse.json"],
    ["copilot-cli", "copilot/pascal/PreToolUse.json"],
    ["copilot-cli", "copilot/permissionRequest.json"],
  ];
  for (const [agent, path] of pre) {
    const e = eventFromHookInput(
      "app",
      fixture(path),
      NOW,
      agent,
      path.endsWith("preToolUse.json") ? "preToolUse" : null,
    );
    const f = commonFields(e);
    assert.equal(f.tool_name, "Bash", path);
    assert.equal(
      f.tool_input?.command,
      "echo hookwatch-probe | tee probe.txt",
      path,
    );
    assert.equal(f.cwd, "/tmp/hookwatch-agents/project", path);
  }
  const codex = fixture("codex/PostToolUse.json");
  assert.equal(
    commonFields({
      agent: "codex",
      hook_event_type: "PostToolUse",
      payload: codex,
    })
      .tool_use_id,
    "call_mxdg1uso0001",
  );
  const copilotPost = fixture("copilot/postToolUse.json");
  const f = commonFields({
    agent: "copilot-cli",
    hook_event_type: "PostToolUse",
    payload: copilotPost,
  });
  assert.equal(f.tool_use_id, null);
  assert.deepEqual(f.tool_response, copilotPost.toolResult);
  assert.equal(f.error, null);
  const pascal = fixture("copilot/pascal/PostToolUse.json");
  assert.deepEqual(
    commonFields({
      agent: "copilot-cli",
      hook_event_type: "PostToolUse",
      payload: pascal,
    }).tool_response,
    pascal.tool_result,
  );
  const stop = fixture("copilot/agentStop.json");
  assert.equal(
    commonFields({
      agent: "copilot-cli",
      hook_event_type: "Stop",
      payload: stop,
    })
      .transcript_path,
    stop.transcriptPath,
  );
});

Deno.test("adapters - a failed tool is a PostToolUseFailure with its error", () => {
  const copilot = {
    ...fixture("copilot/postToolUse.json"),
    toolResult: { resultType: "failure", textResultForLlm: "no such file" },
  };
  const e = eventFromHookInput(
    "app",
    copilot,
    NOW,
    "copilot-cli",
    "postToolUse",
  );
  assert.equal(e.hook_event_type, "PostToolUseFailure");
  assert.equal(e.agent_event, "postToolUse");
  assert.equal(commonFields(e).error, "no such file");
  const gemini = {
    ...fixture("gemini/AfterTool.json"),
    tool_response: { llmContent: "x", error: { message: "denied by policy" } },
  };
  const g = eventFromHookInput("app", gemini, NOW, "gemini-cli");
  assert.equal(g.hook_event_type, "PostToolUseFailure");
  assert.equal(commonFields(g).error, "denied by policy");
});

Deno.test("adapters - Gemini's AfterAgent prompt_response is not taken for the answer", () => {
  const e = eventFromHookInput(
    "app",
    fixture("gemini/AfterAgent.json"),
    NOW,
    "gemini-cli",
  );
  assert.equal(commonFields(e).last_assistant_message, null);
  assert.match(commonFields(e).prompt ?? "", /hookwatch-probe/);
});

Deno.test("adapters - a camelCase Copilot input without an event name is a 400 naming event", () => {
  assert.throws(
    () =>
      eventFromHookInput(
        "app",
        fixture("copilot/preToolUse.json"),
        NOW,
        "copilot-cli",
      ),
    (e: unknown) => e instanceof EventValidationError && e.field === "event",
  );
  assert.throws(
    () => eventFromHookInput("app", { timestamp: 1 }, NOW, "copilot-cli", "x"),
    (e: unknown) =>
      e instanceof EventValidationError && e.field === "session_id",
  );
});

Deno.test("adapters - a timestamp far in the future or unreadable is the server's clock", () => {
  const input = { ...fixture("gemini/BeforeTool.json") };
  for (const timestamp of ["soon", NOW + 3 * 86_400_000, -5, null]) {
    const e = eventFromHookInput(
      "app",
      { ...input, timestamp },
      NOW,
      "gemini-cli",
    );
    assert.equal(e.timestamp, NOW, String(timestamp));
  }
});

Deno.test("adapters - POST /events bodies: agent and agent_event, a native type mapped, an unknown agent named", () => {
  const body = {
    source_app: "a",
    session_id: "s",
    hook_event_type: "BeforeTool",
    payload: {},
  };
  const claude = validateEvent(body, NOW);
  assert.equal(claude.agent, "claude-code");
  assert.equal(claude.hook_event_type, "BeforeTool");
  assert.equal(claude.agent_event, null);
  const gemini = validateEvent({ ...body, agent: "gemini-cli" }, NOW);
  assert.equal(gemini.hook_event_type, "PreToolUse");
  assert.equal(gemini.agent_event, "BeforeTool");
  // Mapped already (the sender's): kept.
  const again = validateEvent({
    ...body,
    agent: "gemini-cli",
    hook_event_type: "PreToolUse",
    agent_event: "BeforeTool",
  }, NOW);
  assert.equal(again.hook_event_type, "PreToolUse");
  assert.equal(again.agent_event, "BeforeTool");
  for (
    const [bad, field] of [
      [{ agent: "cursor" }, "agent"],
      [{ agent: 3 }, "agent"],
      [{ agent: "codex", agent_event: "not an event" }, "agent_event"],
    ] as const
  ) {
    assert.throws(
      () => validateEvent({ ...body, ...bad }, NOW),
      (e: unknown) => e instanceof EventValidationError && e.field === field,
      field,
    );
  }
});

Deno.test("adapters - mapping is idempotent and a common name stays itself", () => {
  for (const agent of ["gemini-cli", "copilot-cli", "codex"] as const) {
    for (const native of ["PreToolUse", "Stop", "SessionStart", "Custom"]) {
      assert.deepEqual(commonEvent(agent, native, {}), {
        hook_event_type: native,
        agent_event: null,
      });
    }
  }
});

Deno.test("adapters - a decision in each agent's own answer format", () => {
  const deny = { behavior: "deny", message: "not now" } as const;
  const allow = { behavior: "allow", message: null } as const;
  const claude = {
    hookSpecificOutput: {
      hookEventName: "PermissionRequest",
      decision: { behavior: "deny", message: "not now" },
    },
  };
  assert.deepEqual(adapterOf("claude-code").decisionOutput(deny), claude);
  assert.deepEqual(adapterOf("codex").decisionOutput(deny), claude);
  assert.deepEqual(adapterOf("codex").decisionOutput(allow), {
    hookSpecificOutput: {
      hookEventName: "PermissionRequest",
      decision: { behavior: "allow" },
    },
  });
  assert.deepEqual(adapterOf("copilot-cli").decisionOutput(deny), deny);
  assert.deepEqual(adapterOf("copilot-cli").decisionOutput(allow), {
    behavior: "allow",
  });
  assert.equal(adapterOf("gemini-cli").decisionOutput(deny), null);
});

Deno.test("adapters - the feed's row text, filter and the sessions board read every agent alike", async () => {
  const { describeEvent, eventFilter, filtersFromParams, toRow } = await import(
    "../rows.ts"
  );
  const { SessionBoard } = await import("../board.ts");
  const stream = (agent: AgentName, path: string, event: string | null) => {
    const e = eventFromHookInput("app", fixture(path), NOW, agent, event);
    return {
      ...e,
      id: 1,
      priority: 0 as const,
      received_at: NOW,
      agent_id: null,
    };
  };
  const copilot = stream(
    "copilot-cli",
    "copilot/preToolUse.json",
    "preToolUse",
  );
  const gemini = stream("gemini-cli", "gemini/BeforeTool.json", null);
  for (const e of [copilot, gemini]) {
    assert.equal(describeEvent(e), "Bash echo hookwatch-probe | tee probe.txt");
  }
  assert.match(
    describeEvent(stream("gemini-cli", "gemini/BeforeAgent.json", null)),
    /^Run `echo hookwatch-probe/,
  );
  const only = eventFilter(
    filtersFromParams(new URLSearchParams("agent=gemini-cli")),
  );
  assert.deepEqual([copilot, gemini].map(only), [false, true]);
  assert.equal(
    filtersFromParams(new URLSearchParams("agent=cursor")).agent,
    undefined,
  );
  assert.equal(toRow(copilot).agent, "copilot-cli");
  const board = new SessionBoard();
  board.apply(copilot);
  const [row] = board.view(NOW).sessions;
  assert.equal(row.agent, "copilot-cli");
  assert.equal(row.doing?.what, "Bash");
});
