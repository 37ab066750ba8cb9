import assert from "node:assert/strict";
import { openSse } from "./helpers/sse.ts";
import { sampleEvent, startServer } from "./helpers/server.ts";
import { startApp } from "./helpers/app.ts";

const TOKEN = "s3cret-token-for-tests";
const METRICS_TOKEN = "metrics-only-token";

Deno.test("access - with HOOKWATCH_TOKEN, ingest, queries and the stream need the token; probes stay open; errors echo no secret", async () => {
  const server = await startApp({ HOOKWATCH_TOKEN: TOKEN });
  try {
    const secret = "AKIA-payload-secret-4242";
    for (
      const headers of <Record<string, string>[]> [
        {},
        { authorization: "Bearer wrong-token-123" },
        { authorization: `Basic ${btoa(`x:${TOKEN}`)}` },
        { authorization: `Bearer ${TOKEN}x` },
        { authorization: `bearer${TOKEN}` },
      ]
    ) {
      const res = await server.postJson(
        `${server.url}/events`,
        sampleEvent({ payload: { secret } }),
        headers,
      );
      assert.equal(res.status, 401, JSON.stringify(headers));
      assert.equal(res.headers.get("www-authenticate"), "Bearer");
      assert.match(res.body.error, /token is required/);
      const text = JSON.stringify(res.body);
      assert.ok(!text.includes(secret) && !text.includes(TOKEN));
    }
    const ok = await server.postJson(`${server.url}/events`, sampleEvent(), {
      authorization: `Bearer ${TOKEN}`,
    });
    assert.equal(ok.status, 200);

    const bad = await server.postJson(
      `${server.url}/events`,
      `{"source_app":"${secret}","session_id":5,"hook_event_type":"Stop"}`,
      { authorization: `Bearer ${TOKEN}` },
    );
    assert.equal(bad.status, 400);
    assert.ok(
      !JSON.stringify(bad.body).includes(secret),
      "no payload in errors",
    );
    const broken = await server.postJson(
      `${server.url}/events`,
      `{"source_app":"${secret}", oops`,
      { authorization: `Bearer ${TOKEN}` },
    );
    assert.equal(broken.status, 400);
    assert.ok(!JSON.stringify(broken.body).includes(secret));

    for (const path of ["/events/recent", "/events/priority", "/stream"]) {
      const res = await server.fetch(`${server.url}${path}`);
      assert.equal(res.status, 401, path);
      await res.body?.cancel();
    }
    const stream = await openSse(`${server.url}/stream`, {
      authorization: `Bearer ${TOKEN}`,
    }, server.fetch);
    assert.equal((await stream.next()).event, "snapshot");
    await stream.close();

    for (const path of ["/health/live", "/health/ready", "/health"]) {
      const res = await server.fetch(`${server.url}${path}`);
      assert.equal(res.status, 200, path);
      await res.body?.cancel();
    }
    assert.ok(!server.output().includes(TOKEN), "the token is never logged");
    assert.ok(!server.output().includes(secret), "payloads are never logged");
  } finally {
    await server.close();
  }
});

Deno.test("access - the sign-in form sets an HttpOnly SameSite=Strict cookie that opens the dashboard and the stream", async () => {
  const server = await startApp({ HOOKWATCH_TOKEN: TOKEN });
  try {
    const page = await server.fetch(`${server.url}/`, {
      headers: { accept: "text/html" },
      redirect: "manual",
    });
    assert.equal(page.status, 303);
    assert.equal(page.headers.get("location"), "/login");
    await page.body?.cancel();

    const form = await server.fetch(`${server.url}/login`);
    const html = await form.text();
    assert.equal(form.status, 200);
    assert.match(html, /<form method="post" action="\/login">/);
    assert.doesNotMatch(html, /<script/i, "the form needs no script");

    const login = (token: string, origin = server.url) =>
      server.fetch(`${server.url}/login`, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          origin,
        },
        body: new URLSearchParams({ token }),
        redirect: "manual",
      });

    const wrong = await login("not-the-token");
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get("set-cookie"), null);
    assert.match(await wrong.text(), /not right/);

    const forged = await login(TOKEN, "https://evil.example");
    assert.equal(forged.status, 403, "a cross-site form post is refused");
    assert.equal(forged.headers.get("set-cookie"), null);
    await forged.body?.cancel();

    const signedIn = await login(TOKEN);
    assert.equal(signedIn.status, 303);
    assert.equal(signedIn.headers.get("location"), "/");
    const cookie = signedIn.headers.get("set-cookie") ?? "";
    await signedIn.body?.cancel();
    assert.match(cookie, /^hookwatch_session=/);
    assert.ok(!cookie.includes(TOKEN), "the cookie is not the token");
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.match(cookie, /Path=\//);
    const jar = cookie.split(";")[0];

    const dashboard = await server.fetch(`${server.url}/`, {
      headers: { accept: "text/html", cookie: jar },
      redirect: "manual",
    });
    assert.equal(dashboard.status, 200);
    assert.match(await dashboard.text(), /<html/i);
    const stream = await openSse(
      `${server.url}/stream`,
      { cookie: jar },
      server.fetch,
    );
    assert.equal((await stream.next()).event, "snapshot");
    await stream.close();

    const out = await server.fetch(`${server.url}/logout`, {
      method: "POST",
      headers: {
        cookie: jar,
        origin: server.url,
        "content-type": "application/x-www-form-urlencoded",
      },
      redirect: "manual",
    });
    assert.equal(out.status, 303);
    assert.match(out.headers.get("set-cookie") ?? "", /Max-Age=0/);
    await out.body?.cancel();
  } finally {
    await server.close();
  }
});

Deno.test("access - /metrics can have its own token, which opens nothing else; the admin token opens it too", async () => {
  const server = await startApp({
    HOOKWATCH_TOKEN: TOKEN,
    HOOKWATCH_METRICS_TOKEN: METRICS_TOKEN,
  }, { metrics: true });
  try {
    const metrics = (token: string) =>
      server.fetch(`${server.url}/metrics`, {
        headers: { authorization: `Bearer ${token}` },
      });
    const byMain = await metrics(TOKEN);
    assert.equal(byMain.status, 200, "HOOKWATCH_TOKEN is the admin");
    await byMain.body?.cancel();
    const nobody = await metrics("not-a-token-at-all");
    assert.equal(nobody.status, 401);
    await nobody.body?.cancel();
    const own = await metrics(METRICS_TOKEN);
    assert.equal(own.status, 200);
    assert.match(await own.text(), /# TYPE/);
    const ingest = await server.postJson(
      `${server.url}/events`,
      sampleEvent(),
      {
        authorization: `Bearer ${METRICS_TOKEN}`,
      },
    );
    assert.equal(ingest.status, 401);
  } finally {
    await server.close();
  }
});

Deno.test("access - CORS answers only the configured origins", async () => {
  const allowed = "https://dash.example.com";
  const server = await startApp({ CORS_ORIGINS: allowed });
  try {
    const preflight = (origin: string) =>
      server.fetch(`${server.url}/events`, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "content-type,authorization",
        },
      });
    const yes = await preflight(allowed);
    assert.equal(yes.status, 204);
    assert.equal(yes.headers.get("access-control-allow-origin"), allowed);
    assert.match(
      yes.headers.get("access-control-allow-headers") ?? "",
      /Authorization/,
    );
    await yes.body?.cancel();
    const no = await preflight("https://evil.example");
    assert.equal(no.headers.get("access-control-allow-origin"), null);
    await no.body?.cancel();

    const get = (origin: string) =>
      server.fetch(`${server.url}/events/recent`, { headers: { origin } });
    const fromAllowed = await get(allowed);
    assert.equal(
      fromAllowed.headers.get("access-control-allow-origin"),
      allowed,
    );
    await fromAllowed.body?.cancel();
    const fromOther = await get("https://evil.example");
    assert.equal(fromOther.headers.get("access-control-allow-origin"), null);
    assert.equal(
      fromOther.headers.get("access-control-allow-credentials"),
      null,
    );
    await fromOther.body?.cancel();
  } finally {
    await server.close();
  }

  const none = await startApp();
  try {
    const res = await none.fetch(`${none.url}/events/recent`, {
      headers: { origin: "https://dash.example.com" },
    });
    assert.equal(res.headers.get("access-control-allow-origin"), null);
    await res.body?.cancel();
  } finally {
    await none.close();
  }
});

Deno.test("access - binds loopback by default: not reachable on the machine's other addresses", async () => {
  const server = await startServer({ env: { HOST: "" } });
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:/);
    const others = Deno.networkInterfaces().filter((i) =>
      i.family === "IPv4" && !i.address.startsWith("127.")
    );
    for (const { address } of others) {
      await assert.rejects(
        Deno.connect({ hostname: address, port: server.port }),
        `${address}:${server.port} refuses`,
      );
    }
    const res = await fetch(`${server.url}/health/live`);
    assert.match(res.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
    await res.body?.cancel();
    if (others.length === 0) return;
    // The probe can tell: told to, the server is reachable on that address.
    const open = await startServer({ env: { HOST: "0.0.0.0" } });
    try {
      const conn = await Deno.connect({
        hostname: others[0].address,
        port: open.port,
      });
      conn.close();
    } finally {
      await open.stop();
    }
  } finally {
    await server.stop();
  }
});
