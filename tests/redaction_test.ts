/**
 * End to end: secrets posted on every ingest route of a real hookwatch process are never
 * stored (API answers, the SQLite files on disk), streamed (`GET /stream`, which feeds the
 * dashboard) or logged (the process's stdout and stderr).
 */
import assert from "node:assert/strict";
import { sampleEvent, startServer, type TestServer } from "./helpers/server.ts";
import { openSse } from "./helpers/sse.ts";
import { startApp, type TestApp } from "./helpers/app.ts";
import { parseExposition, sampleValue } from "./helpers/exposition.ts";
import {
  type SecretCase,
  secretCases,
  secretFields,
} from "./fixtures/secrets/corpus.ts";

const CUSTOM = {
  HOOKWATCH_REDACT_PATTERNS: '{"acme_ticket":"ACME-[0-9]{6}"}',
  LOG_LEVEL: "debug", // every request is logged: none may carry a secret
};
const TICKET = "ACME-314159";

/** A secret as it may appear in text or inside JSON (where line ends are escaped). */
function forms(secret: string): string[] {
  return [...new Set([secret, JSON.stringify(secret).slice(1, -1)])];
}

function otlpLogs(
  sessionId: string,
  errors: string[],
): Record<string, unknown> {
  const now = BigInt(Date.now()) * 1_000_000n;
  const attr = (key: string, value: string) => ({
    key,
    value: { stringValue: value },
  });
  return {
    resourceLogs: [{
      resource: { attributes: [attr("service.name", "claude-code")] },
      scopeLogs: [{
        scope: { name: "com.anthropic.claude_code.events" },
        logRecords: errors.map((error, i) => ({
          timeUnixNano: String(now + BigInt(i)),
          body: { stringValue: "claude_code.api_error" },
          attributes: [
            attr("event.name", "api_error"),
            attr("session.id", sessionId),
            attr("model", "claude-sonnet-4-5"),
            attr("status_code", "401"),
            attr("error", error),
          ],
        })),
      }],
    }],
  };
}

async function text(
  server: TestServer | TestApp,
  path: string,
): Promise<string> {
  const res = await server.fetch(`${server.url}${path}`);
  assert.equal(res.status, 200, path);
  return await res.text();
}

/** What one case was posted as: the route, and the session it went to. */
interface Posted {
  c: SecretCase;
  route: string;
  session: string;
}

Deno.test("redaction - secrets posted on every ingest route are not stored, streamed or logged", async () => {
  const server = await startServer({ env: CUSTOM });
  const stream = await openSse(`${server.url}/stream`);
  try {
    assert.equal((await stream.next()).event, "snapshot");
    const cases = secretCases();
    const posted: Posted[] = [];
    const post = async (
      path: string,
      body: unknown,
      type = "application/json",
    ) => {
      const res = await fetch(`${server.url}${path}`, {
        method: "POST",
        headers: { "content-type": type },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
      assert.ok(
        res.status === 200 || res.status === 204,
        `${path}: ${res.status} ${await res.text()}`,
      );
    };

    // /events, one per case, the secret in a different field each time.
    const single = cases.filter((_, i) => i % 5 === 0);
    for (const [i, c] of single.entries()) {
      const session = `s-events-${i}`;
      const where = [
        { payload: { tool_name: "Bash", tool_input: { command: c.text } } },
        { payload: { prompt: "deploy" }, summary: c.text },
        {
          payload: {},
          chat: [{
            type: "user",
            message: { content: [{ type: "text", text: c.text }] },
          }],
        },
        {
          payload: { tool_response: { stdout: "ok", env: { [c.text]: "1" } } },
        },
      ][i % 4];
      await post("/events", sampleEvent({ session_id: session, ...where }));
      posted.push({ c, route: "/events", session });
    }
    // /events/batch, a JSON array and NDJSON.
    const array = cases.filter((_, i) => i % 5 === 1);
    await post(
      "/events/batch",
      array.map((c, i) => {
        posted.push({
          c,
          route: "/events/batch (array)",
          session: `s-array-${i}`,
        });
        return sampleEvent({
          session_id: `s-array-${i}`,
          payload: { tool_input: { file_path: "/x", content: c.text } },
        });
      }),
    );
    const ndjson = cases.filter((_, i) => i % 5 === 2);
    await post(
      "/events/batch",
      ndjson.map((c, i) => {
        posted.push({
          c,
          route: "/events/batch (ndjson)",
          session: `s-nd-${i}`,
        });
        return JSON.stringify(
          sampleEvent({
            session_id: `s-nd-${i}`,
            hook_event_type: "PostToolUse",
            payload: { tool_response: { stdout: c.text } },
          }),
        );
      }).join("\n"),
      "application/x-ndjson",
    );
    // /hooks/:source_app, Claude Code's own http hook input.
    const hooks = cases.filter((_, i) => i % 5 === 3);
    for (const [i, c] of hooks.entries()) {
      const session = `s-hook-${i}`;
      await post("/hooks/claude-code", {
        session_id: session,
        hook_event_name: "PostToolUse",
        cwd: "/home/dev/app",
        tool_name: "Bash",
        tool_input: { command: "cat .env" },
        tool_response: { stdout: c.text, stderr: "" },
        tool_use_id: `toolu_${i}`,
      });
      posted.push({ c, route: "/hooks/:source_app", session });
    }
    // OTLP logs: api_error records become timeline events; the error text carries the secret.
    const otlp = cases.filter((_, i) => i % 5 === 4);
    await post(
      "/v1/logs",
      otlpLogs("s-otlp", otlp.map((c) => `401 rejected: ${c.text}`)),
    );
    for (const c of otlp) {
      posted.push({ c, route: "/v1/logs", session: "s-otlp" });
    }
    // Payload fields named like secrets, and an extra pattern.
    const fields = secretFields();
    await post(
      "/events",
      sampleEvent({ session_id: "s-fields", payload: fields.payload }),
    );
    await post("/hooks/claude-code", {
      session_id: "s-custom",
      hook_event_name: "UserPromptSubmit",
      prompt: `fix ${TICKET} today`,
    });

    const total = single.length + array.length + ndjson.length + hooks.length +
      otlp.length + 2;
    const frames = await stream.until(
      (f) => f.filter((x) => x.event === "event").length >= total,
      20_000,
    );
    const streamed = frames.map((f) => f.data).join("\n");

    const recent = JSON.parse(
      await text(server, "/events/recent?limit=1000"),
    ) as { id: number; session_id: string }[];
    assert.equal(recent.length, total, "every event was stored");
    const stored = new Map<string, string>();
    for (const e of recent) {
      stored.set(
        e.session_id,
        `${stored.get(e.session_id) ?? ""}\n${await text(
          server,
          `/events/${e.id}`,
        )}`,
      );
    }
    const everything = [
      streamed,
      JSON.stringify(recent),
      ...stored.values(),
      await text(server, "/sessions"),
      await text(server, "/events/priority"),
      await text(server, "/"), // the dashboard's server-rendered first paint
    ].join("\n");

    for (const { c, route, session } of posted) {
      for (const form of forms(c.secret)) {
        assert.ok(
          !everything.includes(form),
          `${c.what} (${route}) reached an answer or the stream`,
        );
      }
      assert.ok(
        stored.get(session)?.includes(`[REDACTED:${c.kind}]`),
        `${c.what} (${route}) was redacted as ${c.kind}`,
      );
    }
    for (const secret of fields.secrets) {
      assert.ok(!everything.includes(secret), `field value ${secret}`);
    }
    assert.ok(!everything.includes(TICKET));
    assert.ok(stored.get("s-custom")?.includes("[REDACTED:acme_ticket]"));

    const exp = parseExposition(await text(server, "/metrics"));
    const counted = exp.samples.filter((s) => s.name === "redactions_total");
    for (const kind of new Set(posted.map((p) => p.c.kind))) {
      assert.ok(
        (sampleValue(exp, "redactions_total", { kind }) ?? 0) >= 1,
        `redactions_total{kind="${kind}"}`,
      );
    }
    assert.ok(
      counted.reduce((n, s) => n + s.value, 0) >=
        posted.length + fields.secrets.length + 1,
    );
    assert.equal(
      sampleValue(exp, "redactions_total", { kind: "acme_ticket" }),
      1,
    );

    await stream.close();
    assert.equal((await server.stop()).code, 0);
    const disk = [server.dbPath, `${server.dbPath}-wal`]
      .map((p) => {
        try {
          return new TextDecoder("latin1").decode(Deno.readFileSync(p));
        } catch {
          return "";
        }
      }).join("\n");
    assert.ok(disk.includes("[REDACTED:"), "the database file was read");
    const logged = server.output();
    assert.ok(logged.includes("/events/batch"), "requests were logged");
    for (const { c, route } of posted) {
      for (const form of forms(c.secret)) {
        assert.ok(
          !disk.includes(form),
          `${c.what} (${route}) is in the database file`,
        );
        assert.ok(!logged.includes(form), `${c.what} (${route}) was logged`);
      }
    }
  } finally {
    await stream.close();
    await server.stop();
  }
});

Deno.test("redaction - HOOKWATCH_REDACT=off stores what was sent", async () => {
  const server = await startApp({ HOOKWATCH_REDACT: "off" });
  try {
    const [c] = secretCases();
    const res = await server.postJson(
      `${server.url}/events`,
      sampleEvent({ payload: { command: c.text } }),
    );
    assert.equal(res.status, 200);
    assert.ok(
      (await text(server, `/events/${res.body.id}`)).includes(c.secret),
    );
  } finally {
    await server.close();
  }
});

Deno.test("redaction - a bad HOOKWATCH_REDACT_PATTERNS stops start-up, naming it", async () => {
  await assert.rejects(
    startServer({ env: { HOOKWATCH_REDACT_PATTERNS: '{"acme": "acme_(["}' } }),
    /exited with 1[\s\S]*HOOKWATCH_REDACT_PATTERNS: pattern for "acme" is not a valid regular expression/,
  );
});
