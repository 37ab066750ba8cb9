/**
 * Codex, Gemini CLI and Copilot CLI on the same board, over HTTP in-process: each agent's real
 * hook inputs (`fixtures/agents/`) posted raw to `POST /hooks/:app?agent=&event=` are stored
 * once under the common type with `agent` and `agent_event`, their tool calls paired (by
 * `tool_use_id` or by order), and `?agent=` filters `GET /events/recent`, `GET /sessions` and
 * the stream. The real CLIs drive the same paths in `agents_cli_test.ts`.
 */
import assert from "node:assert/strict";
import { startApp, type TestApp } from "./helpers/app.ts";
import { openSse } from "./helpers/sse.ts";
import { AGENT_CASES, type AgentCase } from "./helpers/agent_runs.ts";

const FIXTURES = new URL("./fixtures/agents/", import.meta.url);
const fixture = (path: string): Record<string, unknown> =>
  JSON.parse(Deno.readTextFileSync(new URL(path, FIXTURES)));

// deno-lint-ignore no-explicit-any
type Json = any;

/** One turn of each agent, in the order its hooks fired (FINDINGS.md): fixture and event name. */
const turn = (c: AgentCase, natives: readonly string[]) =>
  natives.map((e): [string, string | null] => [
    `${c.cli}/${e}.json`,
    c.cli === "copilot" ? e : null,
  ]);
const { codex, gemini, copilot } = AGENT_CASES;
const TURNS: Record<string, [string, string | null][]> = {
  codex: turn(codex, codex.native),
  "gemini-cli": turn(gemini, gemini.native),
  // Copilot's permissionRequest too (hooked with --decisions): paired with its call.
  "copilot-cli": turn(copilot, [
    ...copilot.native.slice(0, 3),
    "permissionRequest",
    ...copilot.native.slice(3),
  ]),
};

const COMMON = codex.turn;

async function getJson(app: TestApp, path: string): Promise<Json> {
  const res = await app.fetch(`${app.url}${path}`);
  assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
  return await res.json();
}

async function post(
  app: TestApp,
  agent: string,
  path: string,
  event: string | null,
) {
  const query = new URLSearchParams({ agent });
  if (event) query.set("event", event);
  const res = await app.fetch(`${app.url}/hooks/demo?${query}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(fixture(path)),
  });
  assert.equal(res.status, 204, `${path}: ${await res.text()}`);
}

Deno.test("agents ingest - each agent's turn is stored once under the common names, its tool call paired, filters by agent", async () => {
  const app = await startApp();
  try {
    const sessions: Record<string, string> = {};
    for (const [agent, turn] of Object.entries(TURNS)) {
      for (const [path, event] of turn) await post(app, agent, path, event);
      const input = fixture(turn[0][0]);
      sessions[agent] = String(input.session_id ?? input.sessionId);
    }
    await app.hw.agents.flush();
    for (const [agent, session] of Object.entries(sessions)) {
      const events: Json[] = (await getJson(
        app,
        `/events/recent?session_id=${session}&limit=100`,
      )).reverse();
      const want = agent === "copilot-cli"
        ? [...COMMON.slice(0, 3), "PermissionRequest", ...COMMON.slice(3)]
        : COMMON;
      assert.deepEqual(events.map((e) => e.hook_event_type), want, agent);
      assert.ok(events.every((e) => e.agent === agent), agent);
      const natives = events.map((e) => e.agent_event);
      assert.deepEqual(
        natives,
        agent === "codex"
          ? want.map(() => null)
          : TURNS[agent].map(([path, event]) => {
            const name = event ?? path.split("/")[1].slice(0, -5);
            return want.includes(name) ? null : name;
          }),
        agent,
      );
      // The drawer shows the agent's own input.
      assert.deepEqual(events[2].payload, fixture(TURNS[agent][2][0]));
      const recent: Json[] = await getJson(
        app,
        `/events/recent?agent=${agent}&limit=100`,
      );
      assert.deepEqual(
        recent.map((e) => e.id).sort(),
        events.map((e) => e.id).sort(),
      );
      const { tools } = await getJson(app, `/sessions/${session}/tools`);
      assert.equal(tools.length, 1, agent);
      assert.equal(tools[0].tool_name, "Bash");
      assert.equal(tools[0].outcome, "ok");
      assert.equal(
        tools[0].input_summary,
        "echo hookwatch-probe | tee probe.txt",
      );
      assert.ok(tools[0].tool_ms >= 0, agent);
      if (agent === "codex") {
        assert.equal(tools[0].tool_use_id, "call_mxdg1uso0001");
      } else assert.match(tools[0].tool_use_id, /^#\d+$/);
      const detail = await getJson(app, `/sessions/${session}`);
      assert.equal(detail.agent, agent);
      assert.equal(detail.state, "ended");
      const list = await getJson(app, `/sessions?agent=${agent}`);
      assert.deepEqual(list.sessions.map((s: Json) => s.session_id), [session]);
      assert.equal(list.sessions[0].agent, agent);
    }
    assert.deepEqual(
      (await getJson(app, "/events/recent?agent=claude-code")).length,
      0,
    );
    assert.equal((await getJson(app, "/sessions")).sessions.length, 3);
  } finally {
    await app.close();
  }
});

Deno.test("agents ingest - an unknown agent is a 400 naming agent, a Copilot input without its event one naming event", async () => {
  const app = await startApp();
  try {
    for (
      const [path, body, field] of [
        ["/hooks/demo?agent=cursor", fixture("codex/Stop.json"), "agent"],
        [
          "/hooks/demo?agent=copilot-cli",
          fixture("copilot/preToolUse.json"),
          "event",
        ],
        [
          "/hooks/demo?agent=copilot-cli&event=pre%20tool",
          fixture("copilot/preToolUse.json"),
          "event",
        ],
        ["/events", {
          source_app: "a",
          session_id: "s",
          hook_event_type: "Stop",
          agent: "x",
        }, "agent"],
      ] as const
    ) {
      const res = await app.postJson(`${app.url}${path}`, body);
      assert.equal(res.status, 400, path);
      assert.equal(res.body.field, field, path);
    }
    for (
      const path of [
        "/events/recent?agent=x",
        "/sessions?agent=x",
        "/stream?agent=x",
      ]
    ) {
      const res = await app.fetch(`${app.url}${path}`);
      assert.equal(res.status, 400, path);
      assert.match(await res.text(), /agent/, path);
    }
  } finally {
    await app.close();
  }
});

Deno.test("agents ingest - POST /events/batch takes agent and a native type; GET /stream?agent= carries that agent's events only", async () => {
  const app = await startApp();
  try {
    const stream = await openSse(
      `${app.url}/stream?agent=gemini-cli`,
      {},
      app.fetch,
    );
    await stream.until((frames) => frames.some((f) => f.event === "snapshot"));
    const res = await app.postJson(`${app.url}/events/batch`, [
      {
        source_app: "a",
        session_id: "c1",
        hook_event_type: "Stop",
        payload: {},
      },
      {
        source_app: "a",
        session_id: "g1",
        hook_event_type: "AfterAgent",
        agent: "gemini-cli",
        payload: {},
      },
      {
        source_app: "a",
        session_id: "x1",
        hook_event_type: "preToolUse",
        agent: "copilot-cli",
        payload: {},
      },
    ]);
    assert.equal(res.status, 200);
    const frames = await stream.until((f) =>
      f.some((x) => x.event === "event")
    );
    const got = frames.filter((f) => f.event === "event").map((f) =>
      JSON.parse(f.data)
    );
    assert.deepEqual(
      got.map((e) => [e.session_id, e.hook_event_type, e.agent, e.agent_event]),
      [["g1", "Stop", "gemini-cli", "AfterAgent"]],
    );
    await stream.close();
    const copilot: Json[] = await getJson(
      app,
      "/events/recent?agent=copilot-cli",
    );
    assert.deepEqual(
      copilot.map((e) => [e.hook_event_type, e.agent_event, e.priority]),
      [["PreToolUse", "preToolUse", 0]],
    );
    const gemini: Json[] = await getJson(
      app,
      "/events/recent?agent=gemini-cli",
    );
    assert.equal(gemini[0].priority, 1, "AfterAgent is a Stop: priority");
  } finally {
    await app.close();
  }
});

Deno.test("agents ingest - each agent's own telemetry over OTLP/HTTP (Codex and Gemini logs, Copilot traces) joins its session's tokens; /v1/traces answers like the others", async () => {
  const app = await startApp();
  try {
    const exports: [string, string, string, number, number][] = [
      [
        "codex/otlp_logs.json",
        "logs",
        "01a2513f-6d89-7153-9c7e-75b017ef8492",
        2,
        91,
      ],
      [
        "gemini/otlp_logs.json",
        "logs",
        "49e84881-3596-44f5-87f9-af8c992090fa",
        3,
        121,
      ],
      [
        "copilot/otlp_traces.json",
        "traces",
        "54644711-a6e6-4347-9492-6e0851a3a766",
        2,
        80,
      ],
      ["codex/otlp_metrics.json", "metrics", "", 0, 0],
      ["gemini/otlp_metrics.json", "metrics", "", 0, 0],
      ["copilot/otlp_metrics.json", "metrics", "", 0, 0],
    ];
    for (const [path, signal, session, requests, output] of exports) {
      const body = JSON.stringify(fixture(path).body);
      for (let i = 0; i < 2; i++) {
        const res = await app.fetch(`${app.url}/v1/${signal}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        });
        assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
        const answer = await res.json();
        assert.equal(
          answer.partialSuccess,
          undefined,
          `${path}: ${JSON.stringify(answer)}`,
        );
      }
      if (!session) continue;
      const detail = await getJson(app, `/sessions/${session}`);
      // Sent twice (an exporter's retry): counted once.
      assert.equal(detail.requests, requests, path);
      assert.equal(detail.tokens.output, output, path);
      assert.ok(detail.tokens.cache_read > 0, path);
    }
    const wrong = await app.fetch(`${app.url}/v1/traces`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "x",
    });
    assert.equal(wrong.status, 415);
    const bad = await app.fetch(`${app.url}/v1/traces`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"resourceSpans": 7}',
    });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).code, 3);
  } finally {
    await app.close();
  }
});
