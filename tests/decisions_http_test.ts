/**
 * Permission requests decided from the dashboard over HTTP (in-process where no process or
 * socket matters; real servers for a restart, shutdown and replicas): `POST /hooks/:app/decide`
 * held until `POST /inbox/:id/decision`, the wait running out, a dismissal, shutdown; the 409
 * cases, the cross-site refusal, decisions off, and two replicas on PostgreSQL.
 */
import assert from "node:assert/strict";
import { startServer, type TestServer } from "./helpers/server.ts";
import { startApp, type TestApp } from "./helpers/app.ts";
import { postgresIgnored, sharedCluster } from "./helpers/postgres.ts";

const FIXTURES = new URL("./fixtures/hooks/", import.meta.url);
const fixture = (name: string) =>
  JSON.parse(Deno.readTextFileSync(new URL(`${name}.json`, FIXTURES)));
const ON = { HOOKWATCH_DECISIONS: "on" };

/** A real server (restarts, shutdown, replicas) or an in-process app. */
type Target = TestServer | TestApp;

let calls = 0;

/** Starts a tool call and its held PermissionRequest; resolves the held response. */
async function request(
  server: Target,
  query = "",
): Promise<{ toolUseId: string; held: Promise<Response> }> {
  const toolUseId = `toolu_decide_${++calls}`;
  const pre = {
    ...fixture("PreToolUse"),
    tool_use_id: toolUseId,
    tool_input: { command: `echo ${calls}` },
  };
  assert.equal(
    (await server.postJson(`${server.url}/hooks/shop-api`, pre)).status,
    204,
  );
  const held = server.fetch(`${server.url}/hooks/shop-api/decide${query}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      ...fixture("PermissionRequest"),
      tool_input: { command: `echo ${calls}` },
    }),
  });
  return { toolUseId, held };
}

/** The permission item of `toolUseId` once a request holds it. */
async function awaiting(
  server: Target,
  toolUseId: string,
): Promise<{ id: number; since: number }> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const res = await server.fetch(`${server.url}/inbox?kind=permission`);
    const { items } = await res.json();
    const item = items.find((i: { tool_use_id: string }) =>
      i.tool_use_id === toolUseId
    );
    if (item?.awaiting_decision) return item;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no held permission item for ${toolUseId}`);
}

const decide = (server: Target, id: number, body: unknown) =>
  server.postJson(`${server.url}/inbox/${id}/decision`, body);

async function decisionEvents(server: Target) {
  const res = await server.fetch(
    `${server.url}/events/recent?hook_event_type=PermissionDecision`,
  );
  return await res.json();
}

Deno.test("decisions - allow answers the held request with the decision, once; the decision is an event", async () => {
  const server = await startServer({ env: ON });
  try {
    const { toolUseId, held } = await request(server);
    const item = await awaiting(server, toolUseId);
    const first = await decide(server, item.id, { behavior: "allow" });
    assert.equal(first.status, 200);
    assert.equal(first.body.decision.behavior, "allow");
    assert.equal(first.body.status, "resolved");
    const res = await held;
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      hookSpecificOutput: {
        hookEventName: "PermissionRequest",
        decision: { behavior: "allow" },
      },
    });
    const second = await decide(server, item.id, {
      behavior: "deny",
      message: "too late",
    });
    assert.equal(second.status, 409);
    assert.match(second.body.error, /not waiting for a decision/);
    const [event] = await decisionEvents(server);
    assert.equal(event.payload.behavior, "allow");
    assert.equal(event.payload.decided_by, "local");
    assert.equal(event.payload.tool_use_id, toolUseId);
    assert.equal(event.payload.inbox_id, item.id);
    assert.ok(event.payload.latency_ms >= 0);
    assert.equal(
      event.payload.decided_at - item.since,
      event.payload.latency_ms,
    );
    // A restart keeps the audit trail and the refusal.
    await server.stop();
    const again = await startServer({ env: ON, dbPath: server.dbPath });
    try {
      assert.equal((await decisionEvents(again)).length, 1);
      assert.equal(
        (await decide(again, item.id, { behavior: "allow" })).status,
        409,
      );
    } finally {
      await again.stop();
    }
  } finally {
    await server.stop();
  }
});

Deno.test("decisions - deny carries the message; bad bodies are 400 and change nothing", async () => {
  const server = await startApp(ON);
  try {
    const { toolUseId, held } = await request(server);
    const item = await awaiting(server, toolUseId);
    for (
      const body of [
        { behavior: "maybe" },
        { behavior: "deny", message: 7 },
        [],
      ]
    ) {
      assert.equal((await decide(server, item.id, body)).status, 400);
    }
    assert.equal(
      (await decide(server, 999_999, { behavior: "allow" })).status,
      404,
    );
    const denied = await decide(server, item.id, {
      behavior: "deny",
      message: "not on main",
    });
    assert.equal(denied.status, 200);
    const res = await held;
    assert.deepEqual(await res.json(), {
      hookSpecificOutput: {
        hookEventName: "PermissionRequest",
        decision: { behavior: "deny", message: "not on main" },
      },
    });
  } finally {
    await server.close();
  }
});

Deno.test("decisions - a prompt, stop or end that arrives after a held request but happened before it does not answer it", async () => {
  const server = await startApp(ON);
  try {
    const codex = (name: string) =>
      JSON.parse(
        Deno.readTextFileSync(
          new URL(`../agents/codex/${name}.json`, FIXTURES),
        ),
      );
    const session_id = "codex-late-prompt";
    const permissionAt = Date.now();
    // Codex's held request goes out in the foreground; the turn's earlier hooks reach
    // hookwatch later, through a sender that was slow to start, stamped with their own time.
    const held = server.fetch(
      `${server.url}/hooks/shop-api/decide?agent=codex&wait=20`,
      {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ...codex("PermissionRequest"), session_id }),
      },
    );
    let item: { id: number; awaiting_decision: boolean } | undefined;
    for (let i = 0; i < 400 && !item; i++) {
      const res = await server.fetch(`${server.url}/inbox?kind=permission`);
      item = (await res.json()).items.find((
        i: { session_id: string; awaiting_decision: boolean },
      ) => i.session_id === session_id && i.awaiting_decision);
      if (!item) await new Promise((r) => setTimeout(r, 25));
    }
    assert.ok(item, "the request is held");
    const late = ["UserPromptSubmit", "Stop", "SessionEnd"].map((type, n) => ({
      agent: "codex",
      source_app: "shop-api",
      session_id,
      hook_event_type: type,
      timestamp: permissionAt - 1000 + n,
      payload: { ...codex(type), session_id },
    }));
    const posted = await server.postJson(`${server.url}/events/batch`, late);
    assert.equal(posted.status, 200, JSON.stringify(posted.body));
    const after = await (await server.fetch(`${server.url}/inbox/${item.id}`))
      .json();
    assert.equal(after.awaiting_decision, true, JSON.stringify(after));
    assert.equal(
      (await decide(server, item.id, { behavior: "deny", message: "no" }))
        .status,
      200,
    );
    assert.deepEqual(await (await held).json(), {
      hookSpecificOutput: {
        hookEventName: "PermissionRequest",
        decision: { behavior: "deny", message: "no" },
      },
    });
  } finally {
    await server.close();
  }
});

Deno.test("decisions - the wait running out or a dismissal answers an empty 204; a later decision is 409", async () => {
  // A wait longer than the body timeout is no 408: only reading the body is timed.
  const server = await startApp({ ...ON, BODY_TIMEOUT_MS: "500" });
  try {
    const timed = await request(server, "?wait=1");
    const start = performance.now();
    const item = await awaiting(server, timed.toolUseId);
    const res = await timed.held;
    const waited = performance.now() - start;
    assert.equal(res.status, 204);
    assert.equal(await res.text(), "");
    assert.ok(waited >= 900 && waited < 3000, `waited ${waited} ms`);
    assert.equal(
      (await decide(server, item.id, { behavior: "allow" })).status,
      409,
    );

    const dismissed = await request(server);
    const other = await awaiting(server, dismissed.toolUseId);
    const acked = await server.postJson(
      `${server.url}/inbox/${other.id}/ack`,
      {},
    );
    assert.equal(acked.status, 200);
    assert.equal((await dismissed.held).status, 204);
    assert.equal(
      (await decide(server, other.id, { behavior: "allow" })).status,
      409,
    );

    const movedOn = await request(server);
    const third = await awaiting(server, movedOn.toolUseId);
    await server.postJson(`${server.url}/hooks/shop-api`, {
      ...fixture("PostToolUse"),
      tool_use_id: movedOn.toolUseId,
    });
    assert.equal((await movedOn.held).status, 204);
    assert.equal(
      (await decide(server, third.id, { behavior: "allow" })).status,
      409,
    );
    // Claude Code going away (killed, its own timeout) ends the wait too.
    const gone = new AbortController();
    const toolUseId = "toolu_gone";
    await server.postJson(`${server.url}/hooks/shop-api`, {
      ...fixture("PreToolUse"),
      tool_use_id: toolUseId,
    });
    const aborted = server.fetch(`${server.url}/hooks/shop-api/decide`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(fixture("PermissionRequest")),
      signal: gone.signal,
    }).catch(() => null);
    const fourth = await awaiting(server, toolUseId);
    gone.abort();
    await aborted;
    let refused = 0;
    for (let i = 0; i < 100 && refused !== 409; i++) {
      const item = await server.fetch(`${server.url}/inbox/${fourth.id}`).then((
        r,
      ) => r.json());
      if (!item.awaiting_decision) {
        refused = (await decide(server, fourth.id, { behavior: "allow" }))
          .status;
      } else await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(refused, 409, "a decision after the client left is refused");
    assert.deepEqual(await decisionEvents(server), []);
  } finally {
    await server.close();
  }
});

Deno.test("decisions - shutdown answers held requests 204 and exits promptly", async () => {
  const server = await startServer({ env: ON });
  const { toolUseId, held } = await request(server);
  await awaiting(server, toolUseId);
  const start = performance.now();
  const status = await server.stop();
  const res = await held;
  assert.equal(res.status, 204);
  assert.equal(status.code, 0);
  assert.ok(performance.now() - start < 10_000);
});

Deno.test("decisions - cross-site and GET never decide; off by default", async () => {
  const server = await startApp(ON);
  try {
    const { toolUseId, held } = await request(server);
    const item = await awaiting(server, toolUseId);
    const cross = await server.postJson(
      `${server.url}/inbox/${item.id}/decision`,
      { behavior: "allow" },
      { "sec-fetch-site": "cross-site" },
    );
    assert.equal(cross.status, 403);
    const origin = await server.postJson(
      `${server.url}/inbox/${item.id}/decision`,
      { behavior: "allow" },
      { origin: "https://evil.example" },
    );
    assert.equal(origin.status, 403);
    const get = await server.fetch(
      `${server.url}/inbox/${item.id}/decision?behavior=allow`,
    );
    await get.body?.cancel();
    assert.equal(get.status, 404);
    assert.equal(
      (await server.fetch(`${server.url}/inbox/${item.id}`).then((r) =>
        r.json()
      ))
        .awaiting_decision,
      true,
    );
    await server.postJson(`${server.url}/inbox/${item.id}/ack`, {});
    assert.equal((await held).status, 204);
  } finally {
    await server.close();
  }
  const off = await startApp();
  try {
    const start = performance.now();
    const res = await off.postJson(
      `${off.url}/hooks/shop-api/decide`,
      fixture("PermissionRequest"),
    );
    assert.equal(res.status, 204);
    assert.ok(performance.now() - start < 2000);
    const stored = await off.fetch(
      `${off.url}/events/recent?hook_event_type=PermissionRequest`,
    ).then((r) => r.json());
    assert.equal(stored.length, 1);
    assert.equal((await decide(off, 1, { behavior: "allow" })).status, 404);
  } finally {
    await off.close();
  }
});

Deno.test("decisions - with a token the decision needs it and records who", async () => {
  const token = "decide-token-123";
  const auth = { authorization: `Bearer ${token}` };
  const server = await startApp({ ...ON, HOOKWATCH_TOKEN: token });
  try {
    const toolUseId = "toolu_token";
    await server.postJson(`${server.url}/hooks/shop-api`, {
      ...fixture("PreToolUse"),
      tool_use_id: toolUseId,
    }, auth);
    const held = server.fetch(`${server.url}/hooks/shop-api/decide`, {
      method: "POST",
      headers: { "content-type": "application/json", ...auth },
      body: JSON.stringify(fixture("PermissionRequest")),
    });
    let id = 0;
    for (let i = 0; i < 200 && id === 0; i++) {
      const { items } = await server.fetch(`${server.url}/inbox`, {
        headers: auth,
      })
        .then((r) => r.json());
      id = items.find((x: { awaiting_decision: boolean }) =>
        x.awaiting_decision
      )?.id ?? 0;
      if (id === 0) await new Promise((r) => setTimeout(r, 25));
    }
    assert.ok(id > 0);
    assert.equal((await decide(server, id, { behavior: "allow" })).status, 401);
    const ok = await server.postJson(`${server.url}/inbox/${id}/decision`, {
      behavior: "allow",
    }, auth);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.decision.by, "admin", "HOOKWATCH_TOKEN's name");
    assert.equal((await held).status, 200);
  } finally {
    await server.close();
  }
});

Deno.test("decisions - start-up beyond loopback: refused with decisions and no token, warned without a token", async () => {
  const refused = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts"],
    cwd: new URL("../", import.meta.url),
    env: { ...ON, HOST: "0.0.0.0", PORT: "0", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  });
  const out = await refused.output();
  assert.equal(out.code, 1);
  assert.match(
    new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr),
    /HOOKWATCH_DECISIONS.*beyond loopback.*HOOKWATCH_TOKEN/,
  );
  const open = await startServer({ env: { HOST: "0.0.0.0" } });
  try {
    assert.match(
      open.output(),
      /anyone who can reach the port can read every event/,
    );
  } finally {
    await open.stop();
  }
  const local = await startServer();
  try {
    assert.doesNotMatch(local.output(), /anyone who can reach the port/);
  } finally {
    await local.stop();
  }
});

Deno.test({
  name:
    "decisions - replicas: a request held on A is answered by a decision posted on B",
  ignore: postgresIgnored(),
  fn: async () => {
    const url = await (await sharedCluster()).createDatabase();
    const [a, b] = await Promise.all(
      [0, 1].map(() =>
        startServer({
          env: { ...ON, DATABASE_URL: url, DATABASE_POOL_SIZE: "4" },
        })
      ),
    );
    try {
      // Posted the moment both listen: the bug of stop 18 (an event stored while the agent
      // tables were being created was skipped as history, about 1 run in 4) shows here.
      const { toolUseId, held } = await request(a, "?wait=20");
      const item = await awaiting(b, toolUseId);
      const start = performance.now();
      const decided = await decide(b, item.id, {
        behavior: "deny",
        message: "from B",
      });
      assert.equal(decided.status, 200);
      const res = await held;
      const latency = performance.now() - start;
      assert.equal(res.status, 200);
      assert.equal(
        (await res.json()).hookSpecificOutput.decision.message,
        "from B",
      );
      assert.ok(latency < 5000, `${latency} ms`);
      assert.equal(
        (await decide(a, item.id, { behavior: "allow" })).status,
        409,
      );
      assert.equal((await decisionEvents(a)).length, 1);
      // The wait ending on A refuses a decision on B.
      // Long enough for the fold to raise the item under load: finding it spends of the wait.
      const timed = await request(a, "?wait=8");
      const other = await awaiting(b, timed.toolUseId);
      assert.equal((await timed.held).status, 204);
      assert.equal(
        (await decide(b, other.id, { behavior: "allow" })).status,
        409,
      );
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  },
});
