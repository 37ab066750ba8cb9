/**
 * The real Codex, Gemini and Copilot CLIs (pinned, installed from npm by
 * `helpers/agent_clis.ts`), one turn each offline against the scripted model APIs
 * (`helpers/fake_openai.ts`, `helpers/fake_gemini.ts`): a prompt, one shell call, an answer.
 * Capture hooks write what each hook received; the test checks every expected event arrived
 * once, in order, with the session id, tool input and tool result the run had — and that a
 * Codex `PermissionRequest` and a Copilot `permissionRequest` hook answering deny stop the
 * command. `tests/fixtures/agents/FINDINGS.md` says what each CLI sends and why.
 *
 * A CLI that cannot be installed is skipped with a warning, unless HOOKWATCH_REQUIRE_AGENTS=1
 * (CI), where its tests fail.
 */
import assert from "node:assert/strict";
import {
  AGENT_PACKAGES,
  type AgentName,
  agentsRequired,
  captureCommand,
  type CapturedHook,
  installAgent,
  readCaptures,
  runCodex,
  runCopilot,
  runGemini,
} from "./helpers/agent_clis.ts";
import { shellThenAnswer, startFakeOpenAI } from "./helpers/fake_openai.ts";
import {
  geminiShellThenAnswer,
  startFakeGemini,
} from "./helpers/fake_gemini.ts";

const COMMAND = "echo hookwatch-probe | tee probe.txt";
const PROMPT = "Run `echo hookwatch-probe | tee probe.txt`.";
const DENIED = "hookwatch smoke test: denied";

const installs = Object.fromEntries(
  await Promise.all(
    (["codex", "gemini", "copilot"] as const).map(async (agent) =>
      [agent, await installAgent(agent)] as const
    ),
  ),
);
for (const [agent, install] of Object.entries(installs)) {
  if (install.error && !agentsRequired()) {
    const { name, version } = AGENT_PACKAGES[agent as AgentName];
    console.warn(
      `agents_cli_smoke_test: ${name}@${version} is not available, its tests ignored (HOOKWATCH_REQUIRE_AGENTS=1 makes them fail): ${install.error}`,
    );
  }
}

function ignore(agent: AgentName): boolean {
  return installs[agent].error !== undefined && !agentsRequired();
}

function program(agent: AgentName): string {
  const install = installs[agent];
  if (!install.path) {
    const { name, version } = AGENT_PACKAGES[agent];
    throw new Error(
      `HOOKWATCH_REQUIRE_AGENTS=1 but ${name}@${version} cannot be had: ${install.error}`,
    );
  }
  return install.path;
}

/** A throwaway project, HOME and capture directory, removed by `close`. */
async function sandbox() {
  const root = await Deno.makeTempDir({ prefix: "hookwatch-agents-smoke-" });
  const sb = {
    root,
    project: `${root}/project`,
    home: `${root}/home`,
    captures: `${root}/captures`,
    close: () => Deno.remove(root, { recursive: true }).catch(() => {}),
  };
  for (const dir of [sb.project, sb.home, sb.captures]) await Deno.mkdir(dir);
  return sb;
}

/** Claude Code's hook shape (Codex, Gemini): `{Event: [{hooks: [{type, command}]}]}`. */
function nestedHooks(
  dir: string,
  events: string[],
  extra: Record<string, string> = {},
): Record<string, unknown> {
  return Object.fromEntries(events.map((e) => [e, [{
    hooks: [{ type: "command", command: captureCommand(dir, e, extra[e]) }],
  }]]));
}

/** Copilot's hook shape: `{event: [{type, bash}]}`. */
function copilotHooks(
  dir: string,
  events: string[],
  extra: Record<string, string> = {},
): Record<string, unknown> {
  return Object.fromEntries(events.map((e) => [e, [{
    type: "command",
    bash: captureCommand(dir, e, extra[e]),
    timeoutSec: 30,
  }]]));
}

// deno-lint-ignore no-explicit-any
type Input = any;

function inputs(captured: CapturedHook[]): Map<string, Input> {
  return new Map(captured.map((c) => [c.event, JSON.parse(c.input)]));
}

function explain(
  run: { code: number; timedOut: boolean; stdout: string; stderr: string },
  captured: CapturedHook[],
  errors: string[],
): string {
  return `exit ${run.code}${run.timedOut ? " (timed out)" : ""}, hooks ${
    captured.map((c) => c.event).join(" ") || "none"
  }\nscript errors: ${errors.join("; ") || "none"}\nstdout: ${
    run.stdout.slice(-1500)
  }\nstderr: ${run.stderr.slice(-1500)}`;
}

async function probeRan(project: string): Promise<boolean> {
  return await Deno.stat(`${project}/probe.txt`).then(() => true, () => false);
}

const CODEX_EVENTS = [
  "SessionStart",
  "UserPromptSubmit",
  "PreToolUse",
  "PostToolUse",
  "Stop",
  "SessionEnd",
];

Deno.test({
  name:
    "agents smoke - codex exec: SessionStart … SessionEnd once each, in order, tool_use_id the model's call id",
  ignore: ignore("codex"),
  async fn() {
    const api = await startFakeOpenAI({
      script: shellThenAnswer({ command: COMMAND }),
    });
    const sb = await sandbox();
    try {
      const run = await runCodex({
        program: program("codex"),
        prompt: PROMPT,
        cwd: sb.project,
        home: sb.home,
        apiUrl: api.url,
        hooks: nestedHooks(sb.captures, [...CODEX_EVENTS, "PermissionRequest"]),
      });
      const captured = await readCaptures(sb.captures);
      const why = explain(run, captured, api.errors);
      assert.equal(run.code, 0, why);
      assert.deepEqual(captured.map((c) => c.event), CODEX_EVENTS, why);
      const byEvent = inputs(captured);
      for (const [event, input] of byEvent) {
        assert.equal(input.hook_event_name, event);
        assert.equal(input.session_id, run.sessionId, event);
        assert.equal(input.cwd, sb.project, event);
      }
      const callId = api.requests.find((r) => r.reply?.kind === "call")?.reply
        ?.callId;
      const pre = byEvent.get("PreToolUse");
      const post = byEvent.get("PostToolUse");
      assert.equal(pre.tool_name, "Bash");
      assert.deepEqual(pre.tool_input, { command: COMMAND });
      assert.equal(pre.tool_use_id, callId);
      assert.equal(post.tool_use_id, callId);
      assert.equal(post.tool_response, "hookwatch-probe\n");
      assert.match(byEvent.get("Stop").last_assistant_message, /TOOL RESULT/);
      assert.ok(await probeRan(sb.project));
    } finally {
      await api.close();
      await sb.close();
    }
  },
});

Deno.test({
  name:
    "agents smoke - codex exec --approve-for-me: a PermissionRequest hook answering deny stops the escalated command",
  ignore: ignore("codex"),
  async fn() {
    const api = await startFakeOpenAI({
      script: shellThenAnswer({
        command: COMMAND,
        extra: {
          sandbox_permissions: "require_escalated",
          justification: "smoke test",
        },
      }),
    });
    const sb = await sandbox();
    try {
      const deny = JSON.stringify({
        hookSpecificOutput: {
          hookEventName: "PermissionRequest",
          decision: { behavior: "deny", message: DENIED },
        },
      });
      const run = await runCodex({
        program: program("codex"),
        prompt: PROMPT,
        cwd: sb.project,
        home: sb.home,
        apiUrl: api.url,
        approvals: "approve-for-me",
        hooks: nestedHooks(sb.captures, ["PermissionRequest", "PostToolUse"], {
          PermissionRequest: `printf '%s' '${deny}'`,
        }),
      });
      const captured = await readCaptures(sb.captures);
      const why = explain(run, captured, api.errors);
      assert.equal(run.code, 0, why);
      assert.deepEqual(
        captured.map((c) => c.event),
        ["PermissionRequest"],
        why,
      );
      assert.equal(
        inputs(captured).get("PermissionRequest").tool_input.command,
        COMMAND,
      );
      assert.equal(await probeRan(sb.project), false, why);
      // The model is told why.
      const last = api.requests.at(-1)?.body as { input?: unknown[] };
      assert.match(JSON.stringify(last.input?.slice(-1)), /denied/);
    } finally {
      await api.close();
      await sb.close();
    }
  },
});

const GEMINI_EVENTS = [
  "SessionStart",
  "BeforeAgent",
  "BeforeTool",
  "AfterTool",
  "AfterAgent",
  "SessionEnd",
];

Deno.test({
  name:
    "agents smoke - gemini -p: SessionStart, BeforeAgent, BeforeTool, AfterTool, AfterAgent, SessionEnd once each, in order",
  ignore: ignore("gemini"),
  async fn() {
    const api = await startFakeGemini({
      script: geminiShellThenAnswer({ command: COMMAND }),
    });
    const sb = await sandbox();
    try {
      const sessionId = crypto.randomUUID();
      const run = await runGemini({
        program: program("gemini"),
        prompt: PROMPT,
        cwd: sb.project,
        home: sb.home,
        apiUrl: api.url,
        sessionId,
        hooks: nestedHooks(sb.captures, GEMINI_EVENTS),
      });
      const captured = await readCaptures(sb.captures);
      const why = explain(run, captured, api.errors);
      assert.equal(run.code, 0, why);
      assert.deepEqual(captured.map((c) => c.event), GEMINI_EVENTS, why);
      const byEvent = inputs(captured);
      for (const [event, input] of byEvent) {
        assert.equal(input.hook_event_name, event);
        assert.equal(input.session_id, sessionId, event);
        assert.match(input.timestamp, /^\d{4}-\d\d-\d\dT.*Z$/, event);
      }
      assert.equal(byEvent.get("BeforeTool").tool_name, "run_shell_command");
      assert.equal(byEvent.get("BeforeTool").tool_input.command, COMMAND);
      assert.equal(
        byEvent.get("AfterTool").tool_response.returnDisplay,
        "hookwatch-probe",
      );
      assert.equal(byEvent.get("BeforeAgent").prompt, PROMPT);
      assert.ok(await probeRan(sb.project));
    } finally {
      await api.close();
      await sb.close();
    }
  },
});

const COPILOT_EVENTS = [
  "sessionStart",
  "userPromptSubmitted",
  "preToolUse",
  "permissionRequest",
  "postToolUse",
  "agentStop",
  "sessionEnd",
];

Deno.test({
  name:
    "agents smoke - copilot -p: sessionStart … sessionEnd once each, in order, permissionRequest before the call even with --allow-all-tools",
  ignore: ignore("copilot"),
  async fn() {
    const api = await startFakeOpenAI({
      script: shellThenAnswer({ command: COMMAND }),
    });
    const sb = await sandbox();
    try {
      const run = await runCopilot({
        program: program("copilot"),
        prompt: PROMPT,
        cwd: sb.project,
        home: sb.home,
        apiUrl: api.url,
        hooks: copilotHooks(sb.captures, COPILOT_EVENTS),
      });
      const captured = await readCaptures(sb.captures);
      const why = explain(run, captured, api.errors);
      assert.equal(run.code, 0, why);
      // In Copilot's own order (its timestamps): it runs sessionStart's hooks alongside the
      // next event's, so the two capture hooks can finish either way round.
      const inOrder = [...captured].sort((a, b) =>
        JSON.parse(a.input).timestamp - JSON.parse(b.input).timestamp
      );
      assert.deepEqual(inOrder.map((c) => c.event), COPILOT_EVENTS, why);
      const byEvent = inputs(captured);
      for (const [event, input] of byEvent) {
        assert.equal(input.sessionId, run.sessionId, event);
        assert.equal(typeof input.timestamp, "number", event);
        assert.equal(input.hook_event_name, undefined, event);
      }
      assert.equal(byEvent.get("preToolUse").toolName, "bash");
      assert.equal(byEvent.get("preToolUse").toolArgs.command, COMMAND);
      assert.equal(
        byEvent.get("permissionRequest").hookName,
        "permissionRequest",
      );
      assert.equal(
        byEvent.get("postToolUse").toolResult.resultType,
        "success",
      );
      assert.ok(await probeRan(sb.project));
    } finally {
      await api.close();
      await sb.close();
    }
  },
});

Deno.test({
  name:
    "agents smoke - copilot -p --allow-all-tools: a permissionRequest hook answering deny stops the command",
  ignore: ignore("copilot"),
  async fn() {
    const api = await startFakeOpenAI({
      script: shellThenAnswer({ command: COMMAND }),
    });
    const sb = await sandbox();
    try {
      const deny = JSON.stringify({ behavior: "deny", message: DENIED });
      const run = await runCopilot({
        program: program("copilot"),
        prompt: PROMPT,
        cwd: sb.project,
        home: sb.home,
        apiUrl: api.url,
        hooks: copilotHooks(sb.captures, ["permissionRequest", "postToolUse"], {
          permissionRequest: `printf '%s' '${deny}'`,
        }),
      });
      const captured = await readCaptures(sb.captures);
      const why = explain(run, captured, api.errors);
      assert.equal(run.code, 0, why);
      assert.deepEqual(
        captured.map((c) => c.event),
        ["permissionRequest"],
        why,
      );
      assert.equal(await probeRan(sb.project), false, why);
      const last = api.requests.at(-1)?.body as { messages?: unknown[] };
      assert.match(
        JSON.stringify(last.messages?.slice(-1)),
        new RegExp(DENIED),
      );
    } finally {
      await api.close();
      await sb.close();
    }
  },
});
