/**
 * Runs the real Codex, Gemini and Copilot CLIs (pinned, `tests/helpers/agent_clis.ts`) offline
 * against the scripted model APIs and records what their hooks receive, what their decisions
 * do, how they take a failing hook, and what one turn costs with and without hooks — the
 * research behind `tests/fixtures/agents/FINDINGS.md`.
 *
 * Each scenario is one turn (prompt → one shell call `echo hookwatch-probe | tee probe.txt` →
 * answer) in a fresh project and HOME; its hooks write their stdin to files
 * (`captureCommand`). Per scenario `OUT/<agent>/<scenario>/result.json` holds the exit code,
 * wall time, output, the hook inputs in order, the stand-in's requests, and whether the shell
 * command ran (`probe.txt` exists).
 *
 * Usage: `deno run -A bench/agents_capture.ts [--out DIR] [--agents codex,gemini,copilot]
 *   [--only SCENARIO,…] [--timing-runs 5] [--telemetry] [--fixtures]` — `--fixtures` writes one hook input
 * per event to `tests/fixtures/agents/<agent>/<Event>.json` (temp paths replaced by
 * `/tmp/hookwatch-agents`).
 *
 * @module
 */
import {
  type AgentName,
  type AgentRunResult,
  captureCommand,
  installAgent,
  readCaptures,
  runCodex,
  runCopilot,
  runGemini,
} from "../tests/helpers/agent_clis.ts";
import {
  type FakeOpenAI,
  shellThenAnswer,
  startFakeOpenAI,
} from "../tests/helpers/fake_openai.ts";
import {
  flatten,
  type OtlpExport,
  startOtlpReceiver,
} from "../tests/helpers/otlp_receiver.ts";
import {
  type FakeGemini,
  geminiShellThenAnswer,
  startFakeGemini,
} from "../tests/helpers/fake_gemini.ts";

/** The shell command of every scenario: its file says whether it ran. */
export const COMMAND = "echo hookwatch-probe | tee probe.txt";
/** The shell command of the failing-command scenarios: exits 2 with a message on stderr. */
export const FAILING_COMMAND = "ls /nonexistent-hookwatch-probe";
/** The prompt of every scenario. */
export const PROMPT =
  "Run `echo hookwatch-probe | tee probe.txt` and tell me what it printed.";
/** The stable stand-in for a run's temp directory in fixtures. */
export const PLACEHOLDER = "/tmp/hookwatch-agents";

/** Every hook event Codex 0.171.0 knows (from its hooks schema). */
export const CODEX_EVENTS = [
  "SessionStart",
  "UserPromptSubmit",
  "PreToolUse",
  "PermissionRequest",
  "PostToolUse",
  "Stop",
  "SubagentStart",
  "SubagentStop",
  "PreCompact",
  "PostCompact",
  "SessionEnd",
];
/** Every hook event Gemini CLI 0.61.0 knows (its `HookEventName`). */
export const GEMINI_EVENTS = [
  "SessionStart",
  "BeforeAgent",
  "BeforeModel",
  "AfterModel",
  "BeforeToolSelection",
  "BeforeTool",
  "AfterTool",
  "AfterAgent",
  "PreCompress",
  "Notification",
  "SessionEnd",
];
/** Every hook type Copilot CLI 1.0.102 names (its SDK's `HookType`). */
export const COPILOT_EVENTS = [
  "sessionStart",
  "userPromptSubmitted",
  "userPromptTransformed",
  "preToolUse",
  "preMcpToolCall",
  "permissionRequest",
  "postToolUse",
  "postToolUseFailure",
  "postResult",
  "prePRDescription",
  "errorOccurred",
  "agentStop",
  "subagentStart",
  "subagentStop",
  "preCompact",
  "notification",
  "sessionEnd",
];
/** Claude Code's names, as Copilot also takes them (VS Code style). */
export const COPILOT_PASCAL_EVENTS = [
  "SessionStart",
  "UserPromptSubmit",
  "PreToolUse",
  "PermissionRequest",
  "PostToolUse",
  "PostToolUseFailure",
  "Stop",
  "SubagentStart",
  "SubagentStop",
  "PreCompact",
  "Notification",
  "SessionEnd",
];

/** The events with a Claude Code counterpart that one turn fires, per agent. */
export const CORE_EVENTS: Record<AgentName, string[]> = {
  codex: [
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "PermissionRequest",
    "PostToolUse",
    "Stop",
    "SessionEnd",
  ],
  gemini: [
    "SessionStart",
    "BeforeAgent",
    "BeforeTool",
    "AfterTool",
    "AfterAgent",
    "SessionEnd",
  ],
  copilot: [
    "sessionStart",
    "userPromptSubmitted",
    "preToolUse",
    "permissionRequest",
    "postToolUse",
    "agentStop",
    "sessionEnd",
  ],
};

/** How one hook behaves after capturing its input. */
type Behaviour = string;

/** A scenario: which hooks, what each does, and how the CLI is run. */
interface Scenario {
  agent: AgentName;
  name: string;
  /** Hook event → shell run after the capture (`""`: nothing). */
  hooks: Record<string, Behaviour>;
  /** Hook timeout, in the agent's unit (Codex s, Gemini ms, Copilot s). */
  timeout?: number;
  codex?: {
    approvals?: "bypass" | "approve-for-me";
    escalate?: boolean;
    /** What Codex's automatic reviewer (the stand-in) answers; default allow. */
    review?: "deny";
    configToml?: string;
  };
  copilot?: { allowAllTools?: boolean; hookFile?: string };
  gemini?: { settings?: Record<string, unknown> };
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Run {@linkcode FAILING_COMMAND} instead of {@linkcode COMMAND}. */
  failingCommand?: boolean;
}

const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
/** A hook behaviour printing `value` as JSON on stdout. */
function prints(value: unknown): Behaviour {
  return `printf '%s' ${q(JSON.stringify(value))}`;
}

function all(
  events: string[],
  behaviour: Behaviour = "",
): Record<string, Behaviour> {
  return Object.fromEntries(events.map((e) => [e, behaviour]));
}

const DENY_MESSAGE = "hookwatch-test: denied by the hook";

function scenarios(): Scenario[] {
  const list: Scenario[] = [];
  // Codex
  list.push({ agent: "codex", name: "capture", hooks: all(CODEX_EVENTS) });
  list.push({
    agent: "codex",
    name: "permission-quiet",
    hooks: all(CODEX_EVENTS),
    codex: { approvals: "approve-for-me", escalate: true },
  });
  list.push({
    agent: "codex",
    name: "permission-quiet-review-deny",
    hooks: all(CODEX_EVENTS),
    codex: { approvals: "approve-for-me", escalate: true, review: "deny" },
  });
  list.push({
    agent: "codex",
    name: "permission-deny",
    hooks: {
      ...all(CODEX_EVENTS),
      PermissionRequest: prints({
        hookSpecificOutput: {
          hookEventName: "PermissionRequest",
          decision: { behavior: "deny", message: DENY_MESSAGE },
        },
      }),
    },
    codex: { approvals: "approve-for-me", escalate: true },
  });
  list.push({
    agent: "codex",
    name: "permission-allow",
    hooks: {
      ...all(CODEX_EVENTS),
      PermissionRequest: prints({
        hookSpecificOutput: {
          hookEventName: "PermissionRequest",
          decision: { behavior: "allow" },
        },
      }),
    },
    codex: { approvals: "approve-for-me", escalate: true },
  });
  list.push({
    agent: "codex",
    name: "pretool-deny",
    hooks: {
      ...all(CODEX_EVENTS),
      PreToolUse: prints({
        hookSpecificOutput: {
          hookEventName: "PreToolUse",
          permissionDecision: "deny",
          permissionDecisionReason: DENY_MESSAGE,
        },
      }),
    },
  });
  // Gemini
  list.push({ agent: "gemini", name: "capture", hooks: all(GEMINI_EVENTS) });
  list.push({
    agent: "gemini",
    name: "beforetool-deny",
    hooks: {
      ...all(GEMINI_EVENTS),
      BeforeTool: prints({ decision: "deny", reason: DENY_MESSAGE }),
    },
  });
  // Copilot
  list.push({ agent: "copilot", name: "capture", hooks: all(COPILOT_EVENTS) });
  list.push({
    agent: "copilot",
    name: "capture-pascal",
    hooks: all(COPILOT_PASCAL_EVENTS),
  });
  list.push({
    agent: "copilot",
    name: "permission-deny",
    hooks: {
      ...all(COPILOT_EVENTS),
      permissionRequest: prints({ behavior: "deny", message: DENY_MESSAGE }),
    },
  });
  list.push({
    agent: "copilot",
    name: "permission-allow-without-allow-all",
    hooks: {
      ...all(COPILOT_EVENTS),
      permissionRequest: prints({ behavior: "allow" }),
    },
    copilot: { allowAllTools: false },
  });
  list.push({
    agent: "copilot",
    name: "permission-quiet-without-allow-all",
    hooks: all(COPILOT_EVENTS),
    copilot: { allowAllTools: false },
  });
  // A shell command that fails: which event reports it, with what.
  const everything: Record<AgentName, string[]> = {
    codex: CODEX_EVENTS,
    gemini: GEMINI_EVENTS,
    copilot: COPILOT_EVENTS,
  };
  for (const agent of ["codex", "gemini", "copilot"] as const) {
    list.push({
      agent,
      name: "failing-command",
      hooks: all(everything[agent]),
      failingCommand: true,
    });
  }
  // Failing hooks: on the event that gates the tool, and (Copilot) on permissionRequest.
  const gate: Record<AgentName, string[]> = {
    codex: ["PreToolUse"],
    gemini: ["BeforeTool"],
    copilot: ["preToolUse", "permissionRequest"],
  };
  const events: Record<AgentName, string[]> = {
    codex: CODEX_EVENTS,
    gemini: GEMINI_EVENTS,
    copilot: COPILOT_EVENTS,
  };
  const hangTimeout: Record<AgentName, number> = {
    codex: 2,
    gemini: 2000,
    copilot: 2,
  };
  for (const agent of ["codex", "gemini", "copilot"] as const) {
    for (const event of gate[agent]) {
      for (
        const [mode, behaviour] of [
          ["exit1", "exit 1"],
          ["exit2", "echo hook-failed >&2; exit 2"],
          ["garbage", "echo 'this is not json'"],
          ["hang", "sleep 30"],
        ] as const
      ) {
        list.push({
          agent,
          name: `fail-${event}-${mode}`,
          hooks: { ...all(events[agent]), [event]: behaviour },
          timeout: mode === "hang" ? hangTimeout[agent] : undefined,
          timeoutMs: 90_000,
        });
      }
    }
    // Every hook of the turn failing at once.
    for (
      const [mode, behaviour] of [
        ["exit1", "exit 1"],
        ["exit2", "echo hook-failed >&2; exit 2"],
        ["hang", "sleep 30"],
      ] as const
    ) {
      list.push({
        agent,
        name: `fail-all-${mode}`,
        hooks: all(events[agent], behaviour),
        timeout: mode === "hang" ? hangTimeout[agent] / 2 : undefined,
        timeoutMs: 120_000,
      });
    }
  }
  return list;
}

function hookConfig(
  s: Scenario,
  dir: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [event, behaviour] of Object.entries(s.hooks)) {
    const command = captureCommand(dir, event, behaviour);
    if (s.agent === "copilot") {
      out[event] = [{
        type: "command",
        bash: command,
        ...(s.timeout !== undefined ? { timeoutSec: s.timeout } : {}),
      }];
    } else {
      out[event] = [{
        hooks: [{
          type: "command",
          command,
          ...(s.timeout !== undefined ? { timeout: s.timeout } : {}),
        }],
      }];
    }
  }
  return out;
}

/** A scripted stand-in per API, shared by the scenarios. */
interface Apis {
  openai: FakeOpenAI;
  openaiEscalated: FakeOpenAI;
  openaiEscalatedReviewDeny: FakeOpenAI;
  openaiFailing: FakeOpenAI;
  gemini: FakeGemini;
  geminiFailing: FakeGemini;
}

async function runScenario(
  s: Scenario,
  apis: Apis,
  program: string,
  outDir: string,
): Promise<Record<string, unknown>> {
  const root = await Deno.makeTempDir({ prefix: "hookwatch-agents-" });
  const project = `${root}/project`;
  const home = `${root}/home`;
  const captures = `${root}/captures`;
  await Deno.mkdir(project, { recursive: true });
  await Deno.mkdir(home);
  await Deno.mkdir(captures);
  const api = s.agent === "gemini"
    ? s.failingCommand ? apis.geminiFailing : apis.gemini
    : s.failingCommand
    ? apis.openaiFailing
    : s.codex?.escalate
    ? s.codex.review === "deny"
      ? apis.openaiEscalatedReviewDeny
      : apis.openaiEscalated
    : apis.openai;
  const firstRequest = api.requests.length;
  const hooks = hookConfig(s, captures);
  const common = {
    program,
    prompt: PROMPT,
    cwd: project,
    home,
    apiUrl: api.url,
    hooks,
    env: s.env,
    timeoutMs: s.timeoutMs ?? 60_000,
  };
  let result: AgentRunResult;
  if (s.agent === "codex") {
    result = await runCodex({
      ...common,
      approvals: s.codex?.approvals,
      configToml: s.codex?.configToml,
    });
  } else if (s.agent === "gemini") {
    result = await runGemini({ ...common, settings: s.gemini?.settings });
  } else {
    result = await runCopilot({
      ...common,
      allowAllTools: s.copilot?.allowAllTools,
      hookFile: s.copilot?.hookFile,
    });
  }
  // Hooks the CLI left running (none should be) get a moment to write.
  await new Promise((r) => setTimeout(r, 300));
  const captured = await readCaptures(captures);
  const ran = await Deno.stat(`${project}/probe.txt`).then(
    () => true,
    () => false,
  );
  const record = {
    agent: s.agent,
    scenario: s.name,
    root,
    code: result.code,
    signal: result.signal,
    timedOut: result.timedOut,
    wallMs: Math.round(result.wallMs),
    sessionId: result.sessionId,
    commandRan: ran,
    events: captured.map((c) => c.event),
    hooks: captured.map((c) => {
      let input: unknown = c.input;
      try {
        input = JSON.parse(c.input);
      } catch { /* kept as text */ }
      return { event: c.event, at: c.at, input };
    }),
    stdout: result.stdout,
    stderr: result.stderr.slice(-6000),
    requests: api.requests.slice(firstRequest).map((r) => ({
      method: r.method,
      path: r.path,
      status: r.status,
      reply: r.reply,
      usage: r.usage,
      headers: Object.fromEntries(
        Object.entries(r.headers).filter(([k]) =>
          /^(x-codex-turn-metadata|x-initiator|x-interaction-type|user-agent|session-id|originator)$/
            .test(k)
        ),
      ),
      body: summarize(r.body),
    })),
    unknownRequests: api.unknown,
    scriptErrors: api.errors,
    hookConfig: hooks,
  };
  const dir = `${outDir}/${s.agent}/${s.name}`;
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    `${dir}/result.json`,
    JSON.stringify(record, null, 2),
  );
  await Deno.remove(root, { recursive: true }).catch(() => {});
  return record;
}

// deno-lint-ignore no-explicit-any -- request bodies are walked defensively
function summarize(body: any): unknown {
  if (!body || typeof body !== "object") return body;
  const input = body.input ?? body.messages ?? body.contents;
  return {
    model: body.model,
    instructions: typeof body.instructions === "string"
      ? body.instructions.slice(0, 600)
      : undefined,
    tools: (body.tools ?? []).map((
      t: { name?: string; function?: { name?: string }; type?: string },
    ) => t.name ?? t.function?.name ?? t.type),
    text: body.text,
    generationConfig: body.generationConfig,
    inputCount: Array.isArray(input) ? input.length : undefined,
    lastInput: Array.isArray(input)
      ? JSON.stringify(input.slice(-2)).slice(0, 3000)
      : undefined,
  };
}

/** Replaces a run's temp root (and its realpath) by {@linkcode PLACEHOLDER}. */
function stable(value: unknown, root: string): unknown {
  const text = JSON.stringify(value).replaceAll(root, PLACEHOLDER);
  return JSON.parse(text);
}

async function timing(
  agent: AgentName,
  program: string,
  apis: Apis,
  runs: number,
  outDir: string,
): Promise<Record<string, unknown>> {
  const events = agent === "codex"
    ? CODEX_EVENTS
    : agent === "gemini"
    ? GEMINI_EVENTS
    : COPILOT_EVENTS;
  const core = CORE_EVENTS[agent];
  const noop = (list: string[]) =>
    Object.fromEntries(list.map((e) => [
      e,
      agent === "copilot"
        ? [{ type: "command", bash: "cat > /dev/null" }]
        : [{ hooks: [{ type: "command", command: "cat > /dev/null" }] }],
    ]));
  const cases: Record<string, Record<string, unknown> | null> = {
    none: null,
    noop: noop(events),
    noopCore: noop(core),
  };
  const walls: Record<string, number[]> = { none: [], noop: [], noopCore: [] };
  for (let i = 0; i < runs + 1; i++) {
    for (const [name, hooks] of Object.entries(cases)) {
      const root = await Deno.makeTempDir({ prefix: "hookwatch-agents-" });
      await Deno.mkdir(`${root}/project`);
      await Deno.mkdir(`${root}/home`);
      const api = agent === "gemini" ? apis.gemini : apis.openai;
      const common = {
        program,
        prompt: PROMPT,
        cwd: `${root}/project`,
        home: `${root}/home`,
        apiUrl: api.url,
        hooks: hooks ?? undefined,
      };
      const r = agent === "codex"
        ? await runCodex(common)
        : agent === "gemini"
        ? await runGemini(common)
        : await runCopilot(common);
      await Deno.remove(root, { recursive: true }).catch(() => {});
      if (r.code !== 0) {
        throw new Error(
          `${agent} ${name} run failed: ${r.stderr.slice(-2000)}`,
        );
      }
      // The first round warms caches and is not counted.
      if (i > 0) walls[name].push(r.wallMs);
    }
  }
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2
      ? s[s.length >> 1]
      : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const out = {
    agent,
    runs,
    noHooksMs: walls.none.map(Math.round),
    noopHooksMs: walls.noop.map(Math.round),
    medianNoHooksMs: Math.round(median(walls.none)),
    medianNoopHooksMs: Math.round(median(walls.noop)),
    noopCoreHooksMs: walls.noopCore.map(Math.round),
    medianNoopCoreHooksMs: Math.round(median(walls.noopCore)),
    noopEvents: events.length,
    noopCoreEvents: core,
    loadAverage: Deno.loadavg(),
  };
  await Deno.mkdir(`${outDir}/${agent}`, { recursive: true });
  await Deno.writeTextFile(
    `${outDir}/${agent}/timing.json`,
    JSON.stringify(out, null, 2),
  );
  return out;
}

/** One telemetry variant: how the agent is told to export, in its own terms. */
interface TelemetryVariant {
  agent: AgentName;
  name: string;
  /** Codex: `config.toml` lines; others: environment. */
  configToml?: (url: string) => string;
  env?: (url: string) => Record<string, string>;
}

/** The telemetry set-ups tried: each agent's OTLP/HTTP exporters, JSON and protobuf. */
export const TELEMETRY_VARIANTS: TelemetryVariant[] = [
  ...(["json", "binary"] as const).map((protocol) => ({
    agent: "codex" as const,
    name: `otel-${protocol}`,
    configToml: (url: string) =>
      [
        "[otel]",
        `environment = "hookwatch-test"`,
        "log_user_prompt = true",
        `exporter = { otlp-http = { endpoint = "${url}/v1/logs", protocol = "${protocol}" } }`,
        `trace_exporter = { otlp-http = { endpoint = "${url}/v1/traces", protocol = "${protocol}" } }`,
        `metrics_exporter = { otlp-http = { endpoint = "${url}/v1/metrics", protocol = "${protocol}" } }`,
        "",
      ].join("\n"),
  })),
  {
    agent: "gemini",
    name: "otel-http",
    env: (url: string) => ({
      GEMINI_TELEMETRY_ENABLED: "true",
      GEMINI_TELEMETRY_TARGET: "local",
      GEMINI_TELEMETRY_OTLP_ENDPOINT: url,
      GEMINI_TELEMETRY_OTLP_PROTOCOL: "http",
      GEMINI_TELEMETRY_LOG_PROMPTS: "true",
    }),
  },
  ...(["http/json", "http/protobuf"] as const).map((protocol) => ({
    agent: "copilot" as const,
    name: `otel-${protocol.replace("/", "-")}`,
    env: (url: string) => ({
      COPILOT_OTEL_ENABLED: "true",
      OTEL_EXPORTER_OTLP_ENDPOINT: url,
      OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
    }),
  })),
];

/** Log records kept in a fixture: the first of each `event.name`, and every token count. */
function keepLog(seen: Set<string>, attrs: Record<string, unknown>): boolean {
  const name = String(attrs["event.name"] ?? "");
  if (
    /api_response|tool_result|tool_call$/.test(name) ||
    (name === "codex.sse_event" && "input_token_count" in attrs)
  ) return true;
  if (name === "codex.sse_event" || seen.has(name)) return false;
  seen.add(name);
  return true;
}

/** Metrics kept in a fixture: tokens, cost, requests, tools, turns, sessions. */
const KEEP_METRIC =
  /token|cost|api_request|api\.request|tool\.call|turn\.count|session\.count|invoke_agent/;
/** Codex sends hundreds of spans a turn; a fixture keeps the ones naming the turn, the request and the tool. */
const KEEP_CODEX_SPAN =
  /^(codex\.exec|session_task\.turn|run_turn|codex\.sampling|stream_request|handle_responses|handle_tool_call|exec_command|run_turn_stop_hooks|run_session_end_hooks)$/;

// deno-lint-ignore no-explicit-any -- OTLP JSON is trimmed structurally
function trimExport(agent: AgentName, e: OtlpExport): any {
  // deno-lint-ignore no-explicit-any
  const body: any = structuredClone(e.body);
  const seen = new Set<string>();
  for (const rl of body?.resourceLogs ?? []) {
    for (const sl of rl.scopeLogs ?? []) {
      // deno-lint-ignore no-explicit-any
      sl.logRecords = (sl.logRecords ?? []).filter((r: any) => {
        const attrs: Record<string, unknown> = {};
        for (const kv of r.attributes ?? []) {
          attrs[kv.key] = kv.value?.stringValue ?? kv.value?.intValue ?? true;
        }
        return keepLog(seen, attrs);
      });
    }
  }
  for (const rm of body?.resourceMetrics ?? []) {
    for (const sm of rm.scopeMetrics ?? []) {
      // deno-lint-ignore no-explicit-any
      sm.metrics = (sm.metrics ?? []).filter((m: any) =>
        KEEP_METRIC.test(m.name)
      );
    }
  }
  for (const rs of body?.resourceSpans ?? []) {
    for (const ss of rs.scopeSpans ?? []) {
      // deno-lint-ignore no-explicit-any
      ss.spans = (ss.spans ?? []).filter((sp: any) =>
        agent !== "codex" || KEEP_CODEX_SPAN.test(sp.name)
      );
    }
  }
  return truncateStrings(body);
}

/** Long attribute strings (system prompts, request bodies) cut to 1500 characters. */
function truncateStrings(value: unknown): unknown {
  if (typeof value === "string" && value.length > 1500) {
    return `${value.slice(0, 1500)}…[${value.length - 1500} more characters]`;
  }
  if (Array.isArray(value)) return value.map(truncateStrings);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, truncateStrings(v)]),
    );
  }
  return value;
}

/** The variant whose exports become `tests/fixtures/agents/<agent>/otlp_<signal>.json`. */
const TELEMETRY_FIXTURES: Record<AgentName, string> = {
  codex: "otel-binary",
  gemini: "otel-http",
  copilot: "otel-http-protobuf",
};

async function telemetry(
  v: TelemetryVariant,
  program: string,
  apis: Apis,
  outDir: string,
  fixtures = false,
): Promise<Record<string, unknown>> {
  const receiver = await startOtlpReceiver();
  const root = await Deno.makeTempDir({ prefix: "hookwatch-agents-" });
  await Deno.mkdir(`${root}/project`);
  await Deno.mkdir(`${root}/home`);
  const api = v.agent === "gemini" ? apis.gemini : apis.openai;
  const common = {
    program,
    prompt: PROMPT,
    cwd: `${root}/project`,
    home: `${root}/home`,
    apiUrl: api.url,
    env: v.env?.(receiver.url),
    timeoutMs: 90_000,
  };
  let r: AgentRunResult;
  try {
    r = v.agent === "codex"
      ? await runCodex({ ...common, configToml: v.configToml?.(receiver.url) })
      : v.agent === "gemini"
      ? await runGemini(common)
      : await runCopilot(common);
    // Exporters that flush after exit (none should) get a moment.
    await new Promise((resolve) => setTimeout(resolve, 1000));
  } finally {
    await receiver.close();
  }
  const exports: OtlpExport[] = JSON.parse(
    JSON.stringify(stable(receiver.exports, root)),
  );
  const flat = exports.flatMap(flatten);
  const out = {
    agent: v.agent,
    variant: v.name,
    code: r.code,
    wallMs: Math.round(r.wallMs),
    sessionId: r.sessionId,
    requests: exports.map((e) =>
      `${e.path} ${e.contentType}${
        e.contentEncoding ? ` (${e.contentEncoding})` : ""
      }${e.error ? ` ERROR ${e.error}` : ""}`
    ),
    names: [...new Set(flat.map((f) => `${f.signal} ${f.name}`))],
    stderr: r.stderr.slice(-3000),
    exports,
    flat,
  };
  if (fixtures && TELEMETRY_FIXTURES[v.agent] === v.name) {
    const dir = new URL(
      `../tests/fixtures/agents/${v.agent}/`,
      import.meta.url,
    );
    await Deno.mkdir(dir, { recursive: true });
    // One fixture per signal: every export of it merged (Codex sends its spans in two).
    const key = {
      logs: "resourceLogs",
      metrics: "resourceMetrics",
      traces: "resourceSpans",
    } as const;
    for (const signal of ["logs", "metrics", "traces"] as const) {
      const of = exports.filter((e) => e.signal === signal);
      if (of.length === 0) continue;
      const merged = {
        [key[signal]]: of.flatMap((e) =>
          (trimExport(v.agent, e) as Record<string, unknown[]>)[key[signal]] ??
            []
        ),
      };
      await Deno.writeTextFile(
        new URL(`otlp_${signal}.json`, dir),
        JSON.stringify(
          {
            path: of[0].path,
            contentType: of[0].contentType,
            userAgent: of[0].userAgent,
            exports: of.length,
            note:
              "decoded export bodies of one run, merged and trimmed to representative records (bench/agents_capture.ts)",
            body: merged,
          },
          null,
          2,
        ) + "\n",
      );
    }
  }
  await Deno.mkdir(`${outDir}/${v.agent}`, { recursive: true });
  await Deno.writeTextFile(
    `${outDir}/${v.agent}/telemetry-${v.name}.json`,
    JSON.stringify(out, null, 2),
  );
  await Deno.remove(root, { recursive: true }).catch(() => {});
  return out;
}

async function writeFixtures(outDir: string): Promise<void> {
  const fixtures = new URL("../tests/fixtures/agents/", import.meta.url);
  const sources: Record<AgentName, string[]> = {
    codex: ["capture", "permission-quiet"],
    gemini: ["capture"],
    copilot: [
      "capture",
      "capture-pascal",
      "permission-quiet-without-allow-all",
    ],
  };
  for (const agent of ["codex", "gemini", "copilot"] as const) {
    const dir = new URL(`${agent}/`, fixtures);
    await Deno.mkdir(dir, { recursive: true });
    for (const scenario of sources[agent]) {
      let record: { root: string; hooks: { event: string; input: unknown }[] };
      try {
        record = JSON.parse(
          await Deno.readTextFile(`${outDir}/${agent}/${scenario}/result.json`),
        );
      } catch {
        continue;
      }
      const seen = new Set<string>();
      for (const hook of record.hooks) {
        if (seen.has(hook.event)) continue;
        seen.add(hook.event);
        // Copilot's PascalCase inputs are kept apart from the camelCase ones.
        const name = agent === "copilot" && scenario === "capture-pascal"
          ? `pascal/${hook.event}`
          : hook.event;
        const file = new URL(`${name}.json`, dir);
        if (
          scenario !== "capture" &&
          await Deno.stat(file).then(() => true, () => false)
        ) {
          continue;
        }
        await Deno.mkdir(new URL(".", file), { recursive: true });
        await Deno.writeTextFile(
          file,
          JSON.stringify(stable(hook.input, record.root), null, 2) + "\n",
        );
      }
    }
  }
}

if (import.meta.main) {
  const argv = Deno.args;
  const arg = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const outDir = arg("out") ?? "/tmp/hookwatch-agents-research";
  const agents = (arg("agents") ?? "codex,gemini,copilot").split(
    ",",
  ) as AgentName[];
  const only = arg("only")?.split(",");
  const timingRuns = Number(arg("timing-runs") ?? 0);

  const openai = await startFakeOpenAI({
    script: shellThenAnswer({ command: COMMAND }),
  });
  const openaiEscalated = await startFakeOpenAI({
    script: shellThenAnswer({
      command: COMMAND,
      extra: {
        sandbox_permissions: "require_escalated",
        justification: "hookwatch-test: needs to run outside the sandbox",
      },
    }),
  });
  const openaiEscalatedReviewDeny = await startFakeOpenAI({
    script: shellThenAnswer({
      command: COMMAND,
      extra: {
        sandbox_permissions: "require_escalated",
        justification: "hookwatch-test: needs to run outside the sandbox",
      },
      structured: { outcome: "deny", risk_level: "high" },
    }),
  });
  const gemini = await startFakeGemini({
    script: geminiShellThenAnswer({ command: COMMAND }),
  });
  const openaiFailing = await startFakeOpenAI({
    script: shellThenAnswer({ command: FAILING_COMMAND }),
  });
  const geminiFailing = await startFakeGemini({
    script: geminiShellThenAnswer({ command: FAILING_COMMAND }),
  });
  const apis = {
    openai,
    openaiEscalated,
    openaiEscalatedReviewDeny,
    openaiFailing,
    gemini,
    geminiFailing,
  };
  try {
    for (const agent of agents) {
      const install = await installAgent(agent);
      if (!install.path) {
        console.error(`${agent}: ${install.error}`);
        continue;
      }
      for (const s of scenarios()) {
        if (s.agent !== agent || (only && !only.includes(s.name))) continue;
        const r = await runScenario(s, apis, install.path, outDir);
        console.log(
          `${agent} ${s.name}: exit ${r.code}${
            r.timedOut ? " (timed out)" : ""
          }, ${r.wallMs} ms, ran=${r.commandRan}, events ${
            (r.events as string[]).join(" ")
          }`,
        );
      }
      if (argv.includes("--telemetry")) {
        for (const v of TELEMETRY_VARIANTS) {
          if (v.agent !== agent) continue;
          const t = await telemetry(
            v,
            install.path,
            apis,
            outDir,
            argv.includes("--fixtures"),
          );
          console.log(
            `${agent} ${v.name}: exit ${t.code}, ${t.wallMs} ms\n  ${
              (t.requests as string[]).join("\n  ")
            }\n  names: ${(t.names as string[]).join(", ")}`,
          );
        }
      }
      if (timingRuns > 0) {
        console.log(
          JSON.stringify(
            await timing(agent, install.path, apis, timingRuns, outDir),
          ),
        );
      }
    }
    if (argv.includes("--fixtures")) await writeFixtures(outDir);
  } finally {
    await openai.close();
    await openaiEscalated.close();
    await openaiEscalatedReviewDeny.close();
    await openaiFailing.close();
    await geminiFailing.close();
    await gemini.close();
  }
}
