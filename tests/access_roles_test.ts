/**
 * Roles against every route the app serves, from the app's own route list: a route without an
 * access rule fails here, so none can be left unguarded. Then the proxy header trusted and not,
 * a hashed token, a reload that revokes (a stream included), and decisions attributed.
 */
import assert from "node:assert/strict";
import { startApp, type TestApp } from "./helpers/app.ts";
import { ACCESS_RULES, ruleFor } from "../routes/edge/guard.ts";
import { allows, ROLES } from "../common/access.ts";
import { tokenHash } from "../lib/base/access_config.ts";

const TOKENS = {
  ingest: "ingest-token-0000000001",
  viewer: "viewer-token-0000000002",
  operator: "operator-token-00000003",
  admin: "admin-token-000000000004",
};

async function tokensFile(extra: unknown[] = []): Promise<string> {
  const path = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(
    path,
    JSON.stringify({
      tokens: [
        { name: "laptop-hooks", role: "ingest", token: TOKENS.ingest },
        // Given as its hash: the file need not hold the secret.
        { name: "bob", role: "viewer", sha256: tokenHash(TOKENS.viewer) },
        { name: "ann", role: "operator", token: TOKENS.operator },
        { name: "root", role: "admin", token: TOKENS.admin },
        ...extra,
      ],
    }),
  );
  return path;
}

/** What a route does, in the issue's own words, independent of the rule table. */
function expected(method: string, path: string): string {
  if (method === "OPTIONS" || /^\/(health|login|logout)/.test(path)) {
    return "open";
  }
  if (method === "POST" && /^\/(events|hooks|v1)\b/.test(path)) return "ingest";
  if (method === "POST" && path === "/api/metrics/client") return "report";
  if (path === "/metrics") return "metrics";
  if (method === "POST" && path.startsWith("/inbox/")) return "act";
  return method === "GET" ? "read" : "unexpected";
}

/** A concrete path for a route pattern. */
function concrete(path: string): string {
  return path.replace(/:source_app/g, "my-repo").replace(/:id/g, "1")
    .replace(/\*$/, "dashboard.css");
}

async function call(
  app: TestApp,
  method: string,
  path: string,
  token: string | null,
): Promise<number> {
  return (await answer(app, method, path, token)).status;
}

async function answer(
  app: TestApp,
  method: string,
  path: string,
  token: string | null,
): Promise<Response> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
  };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await app.fetch(`${app.url}${path}`, {
    method,
    headers,
    body: method === "POST" ? "{}" : undefined,
    redirect: "manual",
  });
  await res.body?.cancel();
  return res;
}

/** Signs in through the form: the session cookie (null when refused) and the page. */
async function signIn(
  app: TestApp,
  token: string,
): Promise<{ status: number; cookie: string | null; page: string }> {
  const res = await app.fetch(`${app.url}/login`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      origin: app.url,
    },
    body: new URLSearchParams({ token }),
    redirect: "manual",
  });
  const cookie = res.headers.get("set-cookie")?.split(";")[0] ?? null;
  return { status: res.status, cookie, page: await res.text() };
}

Deno.test("access roles - every route of the app has a rule, and each role gets exactly what its rule allows", async () => {
  const app = await startApp({
    HOOKWATCH_TOKENS_FILE: await tokensFile(),
    HOOKWATCH_DECISIONS: "on",
  }, { metrics: true });
  try {
    const routes = app.app.routes.filter((r) => r.method !== "ALL");
    const unguarded = routes.filter((r) =>
      !ACCESS_RULES.some((rule) =>
        rule.method === r.method && rule.path === r.path
      )
    ).map((r) => `${r.method} ${r.path}`);
    assert.deepEqual(unguarded, [], "routes without an access rule");
    const seen = new Set<string>();
    for (const route of routes) {
      const key = `${route.method} ${route.path}`;
      if (seen.has(key) || route.method === "OPTIONS") continue;
      seen.add(key);
      const path = concrete(route.path);
      const rule = ruleFor(route.method, path)!;
      assert.equal(rule.action, expected(route.method, route.path), key);
      // The held decision request would wait for a person: its refusal is what matters.
      if (route.path === "/hooks/:source_app/decide") continue;
      const anon = await answer(app, route.method, path, null);
      const anonymous = anon.status;
      if (rule.action === "open") {
        // (A wrong sign-in is the form's own 401: the guard's carries WWW-Authenticate.)
        assert.equal(
          anon.headers.get("www-authenticate"),
          null,
          `${key} is open`,
        );
        continue;
      }
      assert.equal(anonymous, 401, `${key} without a token`);
      for (const role of ROLES) {
        const status = await call(app, route.method, path, TOKENS[role]);
        if (allows(role, rule.action)) {
          assert.ok(
            status !== 401 && status !== 403,
            `${key} as ${role}: ${status}`,
          );
        } else assert.equal(status, 403, `${key} as ${role}`);
      }
    }
    assert.ok(seen.size >= 25, `${seen.size} routes tried`);
    // The decide hook too: an ingest token is refused nothing, a viewer is refused.
    assert.equal(
      await call(app, "POST", "/hooks/my-repo/decide?wait=1", TOKENS.viewer),
      403,
    );
  } finally {
    await app.close();
  }
});

Deno.test("access roles - for every role, a page of another site can neither send events nor act; a sign-in session never ingests; an ingest token opens no session", async () => {
  const app = await startApp({
    HOOKWATCH_TOKENS_FILE: await tokensFile(),
    HOOKWATCH_DECISIONS: "on",
  });
  const post = async (path: string, headers: Record<string, string>) => {
    const res = await app.fetch(`${app.url}${path}`, {
      method: "POST",
      // text/plain: what a form on another site can send without a preflight.
      headers: { "content-type": "text/plain", ...headers },
      body: JSON.stringify({
        source_app: "forged",
        session_id: "s-forged",
        hook_event_type: "PermissionRequest",
        payload: { tool_name: "Bash" },
      }),
    });
    return { status: res.status, error: (await res.json()).error as string };
  };
  try {
    const hooks = await signIn(app, TOKENS.ingest);
    assert.equal(hooks.cookie, null, "an ingest token opens no session");
    assert.equal(hooks.status, 403);
    assert.match(
      hooks.page,
      /laptop-hooks.{1,6}s ingest token: it sends events/,
    );
    for (const role of ["viewer", "operator", "admin"] as const) {
      const { cookie } = await signIn(app, TOKENS[role]);
      assert.ok(cookie, `${role} signs in`);
      const own = { cookie, origin: app.url, "sec-fetch-site": "same-origin" };
      for (const path of ["/events", "/events/batch", "/v1/logs"]) {
        assert.equal(
          (await post(path, own)).status,
          401,
          `${role}'s session does not send events to ${path}`,
        );
      }
      const elsewhere: Record<string, string>[] = [
        { "sec-fetch-site": "cross-site" },
        { "sec-fetch-site": "same-site" },
        { origin: "https://evil.example" },
      ];
      for (const headers of elsewhere) {
        for (const path of ["/events", "/inbox/1/ack", "/inbox/1/decision"]) {
          const { status, error } = await post(path, { cookie, ...headers });
          assert.equal(
            status,
            403,
            `${role} ${path} ${JSON.stringify(headers)}`,
          );
          assert.match(error, /cross-site request refused/);
        }
        // With the right token too: the page of another site is refused, not the token.
        const { status } = await post("/events", {
          authorization: `Bearer ${TOKENS.ingest}`,
          ...headers,
        });
        assert.equal(status, 403);
      }
    }
    assert.equal(
      (await app.hw.store.recent({ limit: 10 })).length,
      0,
      "nothing forged was stored",
    );
  } finally {
    await app.close();
  }
});

Deno.test("access roles - open on loopback (no token), a page of another site cannot send events; a CORS_ORIGINS origin and the hooks can", async () => {
  const app = await startApp({ CORS_ORIGINS: "https://ok.example" });
  const post = (headers: Record<string, string>) =>
    app.postJson(`${app.url}/events`, {
      source_app: "open",
      session_id: "s-open",
      hook_event_type: "Stop",
      payload: {},
    }, headers);
  try {
    const elsewhere: Record<string, string>[] = [
      { "sec-fetch-site": "cross-site" },
      { origin: "https://evil.example" },
    ];
    for (const headers of elsewhere) {
      const { status, body } = await post(headers);
      assert.equal(status, 403, JSON.stringify(headers));
      assert.match(body.error, /cross-site request refused/);
    }
    assert.equal((await post({})).status, 200, "a hook sends neither header");
    assert.equal(
      (await post({
        origin: "https://ok.example",
        "sec-fetch-site": "cross-site",
      }))
        .status,
      200,
      "an origin CORS_ORIGINS allows",
    );
    assert.equal(
      (await post({ origin: app.url, "sec-fetch-site": "same-origin" })).status,
      200,
    );
  } finally {
    await app.close();
  }
});

Deno.test("access roles - the proxy's user counts only from the proxy's address", async () => {
  const app = await startApp({
    HOOKWATCH_AUTH_PROXY_HEADER: "X-Forwarded-User",
    // app.request has no peer address: "" is not in the range, so the header is ignored…
    HOOKWATCH_AUTH_PROXY_FROM: "10.0.0.0/8",
    HOOKWATCH_AUTH_PROXY_ROLES: '{"ann": "operator"}',
    HOOKWATCH_TOKENS_FILE: await tokensFile(),
  });
  try {
    const res = await app.fetch(`${app.url}/inbox`, {
      headers: { "x-forwarded-user": "ann" },
    });
    assert.equal(res.status, 401, "a header from elsewhere is ignored");
    await res.body?.cancel();
    assert.equal(
      await call(app, "GET", "/inbox", TOKENS.viewer),
      200,
      "tokens still work",
    );
  } finally {
    await app.close();
  }
});

Deno.test("access roles - a removed token stops at once, its open stream included; decisions name the person", async () => {
  const path = await tokensFile();
  const app = await startApp({
    HOOKWATCH_TOKENS_FILE: path,
    HOOKWATCH_DECISIONS: "on",
  });
  try {
    const stream = await app.fetch(`${app.url}/stream`, {
      headers: { authorization: `Bearer ${TOKENS.viewer}` },
    });
    assert.equal(stream.status, 200);
    const reader = stream.body!.getReader();
    await reader.read();
    await Deno.writeTextFile(
      path,
      JSON.stringify({
        tokens: [
          { name: "laptop-hooks", role: "ingest", token: TOKENS.ingest },
          { name: "ann", role: "operator", token: TOKENS.operator },
        ],
      }),
    );
    assert.deepEqual([...app.hw.access.reload()], ["bob", "root"]);
    let ended = false;
    for (let i = 0; i < 20 && !ended; i++) ended = (await reader.read()).done;
    assert.ok(ended, "the revoked viewer's stream ended");
    assert.equal(await call(app, "GET", "/inbox", TOKENS.viewer), 401);

    // A held permission request, decided by ann: her name is on the item and the event.
    const ingest = { authorization: `Bearer ${TOKENS.ingest}` };
    const held = app.fetch(`${app.url}/hooks/my-repo/decide?wait=10`, {
      method: "POST",
      headers: { "content-type": "application/json", ...ingest },
      body: JSON.stringify({
        tool_name: "Bash",
        tool_input: { command: "rm -rf build" },
        hook_event_name: "PermissionRequest",
        session_id: "s-roles",
      }),
    });
    const operator = { authorization: `Bearer ${TOKENS.operator}` };
    let id = 0;
    for (let i = 0; i < 200 && id === 0; i++) {
      const { items } =
        await (await app.fetch(`${app.url}/inbox`, { headers: operator }))
          .json();
      id = items.find((x: { awaiting_decision: boolean }) =>
        x.awaiting_decision
      )?.id ?? 0;
      if (id === 0) await new Promise((r) => setTimeout(r, 25));
    }
    assert.ok(id > 0);
    const decided = await app.postJson(
      `${app.url}/inbox/${id}/decision`,
      { behavior: "allow" },
      operator,
    );
    assert.equal(decided.status, 200);
    assert.equal(decided.body.decision.by, "ann");
    assert.equal((await held).status, 200);
    await app.hw.agents.flush();
    const events = await app.hw.store.recent({
      limit: 5,
      hook_event_type: "PermissionDecision",
    });
    assert.equal(events[0]?.payload.decided_by, "ann");
  } finally {
    await app.close();
  }
});
