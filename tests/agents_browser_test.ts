/**
 * The session timeline and the attention inbox in real Chromium against a real hookwatch
 * process: lanes per agent with work and waits drawn apart, untrusted strings as text, and
 * the inbox acknowledged, snoozed (mouse and keyboard) and resolving itself, live across two
 * pages.
 */
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { postJson, startServer } from "./helpers/server.ts";
import {
  browserMissing,
  ensureBuilt,
  launchBrowser,
  openPage,
} from "./helpers/browser.ts";

const XSS =
  `<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>`;

async function hook(url: string, input: Record<string, unknown>) {
  const res = await postJson(`${url}/hooks/agents-app`, {
    session_id: "tl-session",
    cwd: "/repo",
    ...input,
  });
  assert.equal(res.status, 204, JSON.stringify(res.body));
}

const open = (browser: Browser, url: string) =>
  openPage(browser, url, { viewport: { width: 1280, height: 900 } });

const inboxIds = (page: Page) =>
  page.$$eval(
    ".inbox li[data-kind]",
    (lis) => lis.map((li) => li.getAttribute("data-kind")),
  );

const waitInbox = (page: Page, kinds: string[]) =>
  page.waitForFunction(
    (expected) =>
      JSON.stringify(
        [...document.querySelectorAll(".inbox li[data-kind]")].map((li) =>
          li.getAttribute("data-kind")
        ),
      ) === expected,
    JSON.stringify(kinds),
    { timeout: 10_000 },
  );

Deno.test({
  name:
    "agents browser - timeline lanes per agent, waits apart, text not markup; inbox ack, snooze and self-resolve live on two pages",
  ignore: browserMissing,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await ensureBuilt();
    const server = await startServer();
    const browser = await launchBrowser();
    try {
      const now = Date.now();
      await hook(server.url, {
        hook_event_name: "UserPromptSubmit",
        prompt: "go",
      });
      await hook(server.url, {
        hook_event_name: "PreToolUse",
        tool_name: "Bash",
        tool_input: { command: `echo ${XSS}` },
        tool_use_id: "toolu_main_1",
      });
      await hook(server.url, {
        hook_event_name: "PermissionRequest",
        tool_name: "Bash",
        tool_input: { command: `echo ${XSS}` },
      });
      await new Promise((r) => setTimeout(r, 300));
      await hook(server.url, {
        hook_event_name: "PostToolUse",
        tool_name: "Bash",
        tool_use_id: "toolu_main_1",
        duration_ms: 50,
      });
      await hook(server.url, {
        hook_event_name: "PreToolUse",
        agent_id: "sub-agent-7",
        tool_name: "Grep",
        tool_input: { pattern: "TODO" },
        tool_use_id: "toolu_sub_1",
      });
      await hook(server.url, {
        hook_event_name: "PostToolUseFailure",
        agent_id: "sub-agent-7",
        tool_name: "Grep",
        tool_use_id: "toolu_sub_1",
        error: "no such dir",
      });
      assert.ok(Date.now() - now < 60_000);

      const a = await open(browser, server.url);
      const b = await open(browser, server.url);
      try {
        // Timeline: main and the subagent in their own lanes, the wait drawn apart.
        await a.page.waitForSelector('.tl-lane[data-agent="sub-agent-7"]');
        assert.deepEqual(
          await a.page.$$eval(
            ".tl-lane[data-agent]",
            (ls) => ls.map((l) => l.getAttribute("data-agent")),
          ),
          ["main", "sub-agent-7"],
        );
        const main = a.page.locator('.tl-lane[data-agent="main"]');
        assert.equal(await main.locator(".tl-call").count(), 1);
        assert.equal(await main.locator(".tl-wait").count(), 1);
        assert.equal(await main.locator(".tl-work").count(), 1);
        assert.equal(
          await a.page.locator(
            '.tl-lane[data-agent="sub-agent-7"] .outcome-failed',
          ).count(),
          1,
        );
        const title = await main.locator("title").textContent();
        assert.ok(title?.includes(XSS), "the command shows as text");
        assert.match(title ?? "", /Bash · ok · tool 50 ms · wait \d/);
        assert.equal(
          await a.page.locator(".timeline img, .timeline script").count(),
          0,
        );

        // The permission resolved itself when the tool ran: nothing needs anyone yet.
        await waitInbox(a.page, []);
        assert.equal(await a.page.title(), "hookwatch");

        // A new permission request and a dangerous command arrive live on both pages.
        await hook(server.url, {
          hook_event_name: "PreToolUse",
          tool_name: "Bash",
          tool_input: { command: "rm -rf ~" },
          tool_use_id: "toolu_main_2",
        });
        await hook(server.url, {
          hook_event_name: "PermissionRequest",
          tool_name: "Bash",
          tool_input: { command: "rm -rf ~" },
        });
        for (const p of [a.page, b.page]) {
          await waitInbox(p, ["permission", "dangerous"]);
        }
        await a.page.waitForFunction(() => document.title === "(2) hookwatch");

        // Acknowledged with the mouse on A: gone from both.
        await a.page.locator('.inbox li[data-kind="dangerous"] button.ack')
          .click();
        for (const p of [a.page, b.page]) await waitInbox(p, ["permission"]);
        await b.page.waitForFunction(() => document.title === "(1) hookwatch");

        // Snoozed with the keyboard on B: gone from both, still listed with ?status=all.
        await b.page.locator(".inbox li[data-kind]").first().focus();
        await b.page.keyboard.press("s");
        for (const p of [a.page, b.page]) await waitInbox(p, []);
        const all = await (await fetch(`${server.url}/inbox?status=all`))
          .json();
        assert.deepEqual(
          all.items.map((i: { kind: string; status: string }) =>
            `${i.kind}:${i.status}`
          ),
          ["permission:snoozed", "dangerous:acked", "permission:resolved"],
        );

        // Another idle prompt, then the agent moves on: it resolves itself on both pages.
        await hook(server.url, {
          hook_event_name: "Notification",
          notification_type: "idle_prompt",
          message: `Claude is waiting for your input ${XSS}`,
        });
        for (const p of [a.page, b.page]) await waitInbox(p, ["idle"]);
        assert.ok(
          (await b.page.locator(".inbox li[data-kind] .text").innerText())
            .includes(XSS),
          "the reason shows as text",
        );
        assert.equal(
          await b.page.locator(".inbox img, .inbox script").count(),
          0,
        );
        await hook(server.url, {
          hook_event_name: "UserPromptSubmit",
          prompt: "next",
        });
        for (const p of [a.page, b.page]) await waitInbox(p, []);

        for (const { page, errors } of [a, b]) {
          assert.deepEqual(errors, []);
          assert.equal(
            await page.evaluate(() => (globalThis as { __xss?: number }).__xss),
            undefined,
          );
          assert.deepEqual(
            await page.evaluate(() =>
              (globalThis as { __csp?: string[] }).__csp ?? []
            ),
            [],
          );
        }
        assert.deepEqual(await inboxIds(a.page), []);
      } finally {
        await a.close();
        await b.close();
      }
    } finally {
      await browser.close();
      await server.stop();
    }
  },
});

Deno.test({
  name:
    "agents browser - opted-in browser notifications fire for new inbox items only",
  ignore: browserMissing,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await ensureBuilt();
    const server = await startServer();
    const browser = await launchBrowser();
    try {
      await hook(server.url, {
        hook_event_name: "Notification",
        notification_type: "idle_prompt",
        message: "already waiting",
        session_id: "old-session",
      });
      const context = await browser.newContext();
      await context.grantPermissions(["notifications"], { origin: server.url });
      const page = await context.newPage();
      await page.addInitScript(() => {
        const shown: string[] = [];
        (globalThis as unknown as { __shown: string[] }).__shown = shown;
        class Recorder {
          static permission = "granted";
          static requestPermission() {
            return Promise.resolve("granted");
          }
          constructor(title: string, options: { body?: string }) {
            shown.push(`${title} | ${options.body}`);
          }
        }
        Object.defineProperty(globalThis, "Notification", { value: Recorder });
      });
      await page.goto(server.url);
      await page.waitForSelector('.conn[data-conn="live"]');
      await waitInbox(page, ["idle"]);
      await page.click(".inbox button.notify");
      await page.waitForSelector('.inbox button.notify[aria-pressed="true"]');
      await hook(server.url, {
        hook_event_name: "PreToolUse",
        tool_name: "Bash",
        tool_input: { command: "git push --force origin main" },
        tool_use_id: "toolu_push",
      });
      await waitInbox(page, ["dangerous", "idle"]);
      await page.waitForFunction(() =>
        (globalThis as unknown as { __shown: string[] }).__shown.length > 0
      );
      const shown = await page.evaluate(() =>
        (globalThis as unknown as { __shown: string[] }).__shown
      );
      assert.deepEqual(shown, [
        "agents-app: dangerous | git push --force to a protected branch: git push --force origin main",
      ]);
      await context.close();
    } finally {
      await browser.close();
      await server.stop();
    }
  },
});
