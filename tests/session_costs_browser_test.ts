/**
 * Claude Code cost in the dashboard, in real Chromium against a real hookwatch process: the board,
 * the sessions table and the drawer's prompt cost, whichever of hook events and OTLP telemetry
 * arrives first.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { postJson, sampleEvent, startServer } from "./helpers/server.ts";
import {
  browserMissing,
  ensureBuilt,
  launchBrowser,
} from "./helpers/browser.ts";

async function postOtlp(
  url: string,
  session: string,
  prompt: string,
  cost: number,
  sequence: number,
): Promise<void> {
  const attrs: Record<string, string | number> = {
    "event.name": "api_request",
    "session.id": session,
    "prompt.id": prompt,
    "event.sequence": sequence,
    model: "claude-sonnet-4-5",
    cost_usd: String(cost),
    input_tokens: "1500",
    output_tokens: "500",
    cache_read_tokens: "0",
    cache_creation_tokens: "0",
  };
  const res = await postJson(`${url}/v1/logs`, {
    resourceLogs: [{
      scopeLogs: [{
        logRecords: [{
          timeUnixNano: `${Date.now()}000000`,
          body: { stringValue: "claude_code.api_request" },
          attributes: Object.entries(attrs).map(([key, v]) => ({
            key,
            value: typeof v === "number"
              ? { intValue: String(v) }
              : { stringValue: v },
          })),
        }],
      }],
    }],
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

async function postHooks(
  url: string,
  session: string,
  prompt: string,
): Promise<number> {
  let promptEventId = 0;
  for (const type of ["UserPromptSubmit", "PreToolUse"]) {
    const res = await postJson(
      `${url}/events`,
      sampleEvent({
        source_app: "cost-app",
        session_id: session,
        hook_event_type: type,
        payload: { session_id: session, prompt_id: prompt, tool_name: "Bash" },
      }),
    );
    assert.equal(res.status, 200);
    if (type === "UserPromptSubmit") promptEventId = res.body.id;
  }
  return promptEventId;
}

// The session's row on the board, once hook events named its app "cost-app" (telemetry that
// came first shows it under "claude-code"); it carries the session's cost.
const laneCost = (page: Page, session: string) =>
  page.locator(".board-row")
    .filter({ has: page.locator(`.sess:text-is("${session}")`) })
    .filter({ has: page.locator('.app:text-is("cost-app")') })
    .locator(".lane-cost");

Deno.test({
  name:
    "session costs - a board row shows its cost whether hooks or telemetry came first",
  ignore: browserMissing,
  async fn() {
    await ensureBuilt();
    const browser = await launchBrowser();
    const server = await startServer();
    try {
      // telemetry before any hook event of its session
      await postOtlp(server.url, "tele-first", "p-1", 1.5, 1);
      const context = await browser.newContext({
        viewport: { width: 1280, height: 900 },
      });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(server.url);
      await page.waitForSelector("html[data-hydrated]");
      await page.waitForSelector('.conn[data-conn="live"]');

      // then its hook events: the lane appears already carrying the cost
      await postHooks(server.url, "tele-first", "p-1");
      await laneCost(page, "tele-first").waitFor({ timeout: 10_000 });
      assert.equal(
        await laneCost(page, "tele-first").innerText(),
        "$1.50 · 2.0k tok",
      );

      // hook events first, telemetry after: the open page updates live
      const promptEvent = await postHooks(server.url, "hooks-first", "p-2");
      await page.locator(".board-row .sess:text-is('hooks-first')").waitFor();
      assert.equal(await laneCost(page, "hooks-first").count(), 0);
      await postOtlp(server.url, "hooks-first", "p-2", 0.25, 1);
      await laneCost(page, "hooks-first").waitFor({ timeout: 10_000 });
      assert.equal(
        await laneCost(page, "hooks-first").innerText(),
        "$0.2500 · 2.0k tok",
      );

      // the sessions table, sorted by cost, with the window's running total
      const table = page.locator(".session-costs");
      await page.waitForFunction(
        () => document.querySelectorAll(".session-costs tbody tr").length === 2,
        undefined,
        { timeout: 10_000 },
      );
      assert.deepEqual(
        await table.locator("tbody tr").evaluateAll((rows) =>
          rows.map((r) => r.getAttribute("data-session"))
        ),
        ["tele-first", "hooks-first"],
      );
      assert.match(await table.locator(".total").innerText(), /^\$1\.75\b/);

      // a second request of the same prompt moves lane, table and total
      await postOtlp(server.url, "hooks-first", "p-2", 2, 2);
      await page.waitForFunction(
        () =>
          document.querySelector(".session-costs tbody tr")?.getAttribute(
            "data-session",
          ) === "hooks-first",
        undefined,
        { timeout: 10_000 },
      );
      assert.equal(
        await laneCost(page, "hooks-first").innerText(),
        "$2.25 · 4.0k tok",
      );
      assert.match(await table.locator(".total").innerText(), /^\$3\.75\b/);

      // tokens and no cost (what Codex, Gemini CLI and Copilot CLI report): no "$0.0000"
      await postHooks(server.url, "tokens-only", "p-3");
      await postOtlp(server.url, "tokens-only", "p-3", 0, 1);
      await laneCost(page, "tokens-only").waitFor({ timeout: 10_000 });
      assert.equal(await laneCost(page, "tokens-only").innerText(), "2.0k tok");
      const row = table.locator('tbody tr[data-session="tokens-only"]');
      await row.waitFor({ timeout: 10_000 });
      assert.equal(await row.locator(".usd").innerText(), "–");
      assert.match(await table.locator(".total").innerText(), /^\$3\.75\b/);

      // the drawer shows what the event's prompt cost
      await page.click(`.rows a[data-id="${promptEvent}"]`);
      const cost = page.locator(".drawer .prompt-cost");
      await cost.waitFor({ timeout: 10_000 });
      assert.match(
        await cost.innerText(),
        /^\$2\.25 · 2 requests · 4\.0k tokens/,
      );
      assert.deepEqual(errors, []);
      await context.close();
    } finally {
      await browser.close();
      await server.stop();
    }
  },
});
