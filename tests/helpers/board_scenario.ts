/**
 * A realistic morning for the sessions board, posted to a real hookwatch as Claude Code's hook
 * inputs with their own timestamps: sessions in every state, a permission request waiting for
 * a person, a subagent at work, a failure, a silent session and two ended ones. Used by the
 * board's browser tests and `bench/board_screenshot.ts`.
 *
 * @module
 */
import { postJson } from "./server.ts";

type Hook = Record<string, unknown>;

/** One event of `app`'s session `session`, `ago` ms before `now`. */
function at(
  now: number,
  app: string,
  session: string,
  ago: number,
  type: string,
  payload: Hook = {},
) {
  return {
    source_app: app,
    session_id: session,
    hook_event_type: type,
    timestamp: now - ago,
    payload: {
      session_id: session,
      cwd: `/home/dev/${app}`,
      hook_event_name: type,
      ...payload,
    },
    model_name: "claude-sonnet-4-5",
  };
}

/** A tool call: `PreToolUse`, optionally a permission wait, and its outcome after `ms`. */
function call(
  ev: (ago: number, type: string, payload?: Hook) => unknown,
  ago: number,
  id: string,
  tool: string,
  input: Hook,
  o: { waitMs?: number; ms: number; error?: string; agent?: string },
) {
  const base: Hook = { tool_name: tool, tool_input: input, tool_use_id: id };
  if (o.agent) base.agent_id = o.agent;
  const wait = o.waitMs ?? 0;
  const end = ago - wait - o.ms;
  return [
    ev(ago, "PreToolUse", base),
    ...(o.waitMs ? [ev(ago - 5, "PermissionRequest", base)] : []),
    o.error
      ? ev(end, "PostToolUseFailure", { ...base, error: o.error })
      : ev(end, "PostToolUse", { ...base, duration_ms: o.ms }),
  ];
}

/** The session ids of the scenario, by what they show. */
export const SCENARIO = {
  waiting: "sess-billing-7d41",
  working: "sess-shop-api-2a9c",
  failed: "sess-infra-e03b",
  stopped: "sess-docs-5f10",
  idle: "sess-pipeline-c4d2",
  silent: "sess-ml-train-91aa",
  ended: ["sess-legacy-0b7e", "sess-scratch-66f1"],
  subagent: "agent-a7f3c2e1",
} as const;

const S = 1000;
const M = 60 * S;

/** Every event of the scenario, oldest first. */
export function scenarioEvents(now: number): unknown[] {
  const s = SCENARIO;
  const of =
    (app: string, session: string) =>
    (ago: number, type: string, payload: Hook = {}) =>
      at(now, app, session, ago, type, payload);
  const billing = of("billing", s.waiting);
  const shop = of("shop-api", s.working);
  const infra = of("infra-scripts", s.failed);
  const docs = of("docs-site", s.stopped);
  const pipeline = of("data-pipeline", s.idle);
  const ml = of("ml-train", s.silent);
  const legacy = of("legacy-cli", s.ended[0]);
  const scratch = of("scratch", s.ended[1]);
  const events = [
    ...[
      legacy(40 * M, "SessionStart", { source: "startup" }),
      legacy(38 * M, "UserPromptSubmit", { prompt: "Print the version" }),
      ...call(legacy, 37 * M, "toolu_l1", "Bash", {
        command: "./cli --version",
      }, { ms: 300 }),
      legacy(36 * M, "Stop", { last_assistant_message: "It is 2.4.1." }),
      legacy(35 * M, "SessionEnd", { reason: "prompt_input_exit" }),
    ],
    ...[
      scratch(30 * M, "SessionStart", { source: "startup" }),
      scratch(29 * M, "SessionEnd", { reason: "other" }),
    ],
    ...[
      ml(26 * M, "UserPromptSubmit", {
        prompt: "Train the ranking model on last week's data",
      }),
      ...call(ml, 25 * M, "toolu_m1", "Bash", {
        command: "python train.py --epochs 40",
      }, { ms: 9 * M }),
      ml(15 * M, "PreToolUse", {
        tool_name: "Bash",
        tool_input: { command: "python eval.py --split test" },
        tool_use_id: "toolu_m2",
      }),
    ],
    ...[
      docs(12 * M, "UserPromptSubmit", {
        prompt: "Update the changelog and fix broken links",
      }),
      ...call(docs, 11 * M, "toolu_d1", "Grep", { pattern: "](http" }, {
        ms: 90,
      }),
      ...call(docs, 10 * M, "toolu_d2", "Edit", {
        file_path: "docs/CHANGELOG.md",
      }, { ms: 40 }),
      docs(9 * M, "Stop", {
        last_assistant_message:
          "Updated the changelog and fixed two broken links.",
      }),
    ],
    ...[
      infra(8 * M, "UserPromptSubmit", { prompt: "Set the build box up" }),
      ...call(infra, 7 * M, "toolu_i1", "Bash", {
        command: "curl -fsSL https://get.example.invalid/setup.sh | sh",
      }, { ms: 2100, error: "curl: (6) Could not resolve host" }),
      infra(6 * M, "StopFailure", {
        error: "API Error: 529 overloaded, retries exhausted",
      }),
    ],
    ...[
      shop(5 * M, "SessionStart", { source: "resume" }),
      shop(4 * M, "UserPromptSubmit", {
        prompt: "Add pagination to GET /orders and make the tests pass",
      }),
      ...call(shop, 3 * M + 50 * S, "toolu_s1", "Read", {
        file_path: "src/routes/orders.ts",
      }, { ms: 35 }),
      ...call(shop, 3 * M + 30 * S, "toolu_s2", "Edit", {
        file_path: "src/routes/orders.ts",
      }, { ms: 60 }),
      // An 8 s permission wait, then an 81 ms run.
      ...call(shop, 3 * M, "toolu_s3", "Bash", { command: "npm test" }, {
        waitMs: 8000,
        ms: 81,
      }),
      ...call(shop, 2 * M + 40 * S, "toolu_s4", "Bash", {
        command: "npm test -- orders",
      }, { ms: 4200, error: "1 failing: paginates past the last page" }),
      shop(90 * S, "PreToolUse", {
        tool_name: "Task",
        tool_input: { description: "Find every caller of listOrders" },
        tool_use_id: "toolu_s5",
      }),
      shop(89 * S, "SubagentStart", {
        agent_id: s.subagent,
        agent_type: "Explore",
      }),
      ...call(shop, 80 * S, "toolu_a1", "Grep", { pattern: "listOrders(" }, {
        ms: 120,
        agent: s.subagent,
      }),
      shop(20 * S, "PreToolUse", {
        tool_name: "Read",
        tool_input: { file_path: "src/admin/export.ts" },
        tool_use_id: "toolu_a2",
        agent_id: s.subagent,
        agent_type: "Explore",
      }),
    ],
    ...[
      pipeline(70 * S, "SessionStart", { source: "startup" }),
      pipeline(10 * S, "Notification", {
        notification_type: "idle_prompt",
        message: "Claude is waiting for your input",
      }),
    ],
    ...[
      billing(3 * M, "UserPromptSubmit", {
        prompt: "Write the new tax rate to config/tax.yaml",
        prompt_id: "prompt-billing-1",
      }),
      ...call(billing, 2 * M + 40 * S, "toolu_b1", "Read", {
        file_path: "config/tax.yaml",
      }, { ms: 25 }),
      ...call(billing, 2 * M + 20 * S, "toolu_b2", "Bash", {
        command: "git diff --stat",
      }, { waitMs: 6000, ms: 140 }),
      billing(2 * M, "PreToolUse", {
        tool_name: "Write",
        tool_input: { file_path: "config/tax.yaml", content: "rate: 0.19\n" },
        tool_use_id: "toolu_b3",
      }),
      billing(2 * M - 5, "PermissionRequest", {
        tool_name: "Write",
        tool_input: { file_path: "config/tax.yaml", content: "rate: 0.19\n" },
        tool_use_id: "toolu_b3",
      }),
    ],
  ] as { timestamp: number }[];
  return events.sort((a, b) => a.timestamp - b.timestamp);
}

/** A permission request held open for a person (`/hooks/:app/decide`), and how to end it. */
export interface Held {
  /** The held request's answer, once someone decided (or its wait ran out). */
  answer: Promise<Response>;
  /** Allows it through the inbox API. */
  allow(): Promise<void>;
}

/** The session whose permission request is held, with `hold`. */
export const HELD_SESSION = "sess-payments-3e88";

/** Posts the scenario (in timestamp order) and folds it; the number of events. */
export async function postScenario(url: string, now = Date.now()) {
  const events = scenarioEvents(now);
  const res = await postJson(`${url}/events/batch`, events);
  if (res.status !== 200) {
    throw new Error(`scenario refused: ${JSON.stringify(res.body)}`);
  }
  // Reading the sessions folds what is pending.
  await (await fetch(`${url}/sessions`)).body?.cancel();
  return events.length;
}

/**
 * One more session, `payments`, asks to run a command, and its request is held for a person
 * (a server with `HOOKWATCH_DECISIONS=on`): Allow and Deny show in Needs you.
 */
export async function holdPermission(url: string): Promise<Held> {
  const input = {
    session_id: HELD_SESSION,
    cwd: "/home/dev/payments",
    tool_name: "Bash",
    tool_input: { command: "rm -rf dist && npm run build" },
    tool_use_id: "toolu_p1",
  };
  await postJson(`${url}/hooks/payments`, {
    ...input,
    hook_event_name: "PreToolUse",
  });
  const answer = fetch(`${url}/hooks/payments/decide`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...input, hook_event_name: "PermissionRequest" }),
  });
  let id: number | undefined;
  for (let i = 0; i < 100 && id === undefined; i++) {
    const res = await fetch(
      `${url}/inbox?kind=permission&session_id=${HELD_SESSION}`,
    );
    const { items } = await res.json();
    id = items.find((i: { awaiting_decision: boolean }) => i.awaiting_decision)
      ?.id;
    if (id === undefined) await new Promise((r) => setTimeout(r, 50));
  }
  if (id === undefined) throw new Error("the permission request was not held");
  return {
    answer,
    allow: async () => {
      const r = await postJson(`${url}/inbox/${id}/decision`, {
        behavior: "allow",
      });
      if (r.status !== 200) throw new Error(JSON.stringify(r.body));
      await (await answer).body?.cancel();
    },
  };
}
