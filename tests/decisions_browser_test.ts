/**
 * Deciding a held permission request in real Chromium against a real hookwatch process: the
 * item shows the tool and its input as text, the agent, the session and the wait; Allow by
 * keyboard (y) and Deny with a message by mouse answer the held request, and the item leaves
 * the other page live.
 */
import assert from "node:assert/strict";
import type { Browser } from "playwright-core";
import { postJson, startServer, type TestServer } from "./helpers/server.ts";
import {
  browserMissing,
  ensureBuilt,
  launchBrowser,
} from "./helpers/browser.ts";

const XSS = `<img src=x onerror="window.__xss=1">`;

async function open(browser: Browser, url: string) {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForSelector("html[data-hydrated]");
  await page.waitForSelector('.conn[data-conn="live"]');
  return { page, errors, close: () => context.close() };
}

async function held(server: TestServer, toolUseId: string, command: string) {
  const pre = await postJson(`${server.url}/hooks/decide-app`, {
    session_id: "decide-session",
    hook_event_name: "PreToolUse",
    agent_id: "agent-42",
    tool_name: "Bash",
    tool_input: { command },
    tool_use_id: toolUseId,
  });
  assert.equal(pre.status, 204);
  return fetch(`${server.url}/hooks/decide-app/decide`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      session_id: "decide-session",
      hook_event_name: "PermissionRequest",
      agent_id: "agent-42",
      tool_name: "Bash",
      tool_input: { command },
    }),
  });
}

Deno.test({
  name:
    "decisions browser - Allow by keyboard and Deny with a message answer the held request; the item leaves the other page live",
  ignore: browserMissing,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await ensureBuilt();
    const server = await startServer({ env: { HOOKWATCH_DECISIONS: "on" } });
    const browser = await launchBrowser();
    try {
      const a = await open(browser, server.url);
      const b = await open(browser, server.url);
      try {
        const first = held(server, "toolu_b1", `rm -rf build ${XSS}`);
        const row = '.inbox li[data-kind="permission"]';
        for (const p of [a.page, b.page]) {
          await p.waitForSelector(`${row} .decide button.allow`);
        }
        const text = await a.page.locator(`${row} .text`).textContent();
        assert.ok(text?.includes(`Bash: rm -rf build ${XSS}`), text ?? "");
        const who = await a.page.locator(`${row} .who`).textContent();
        assert.match(who ?? "", /decide-app · .* · /);
        await a.page.waitForFunction(
          (sel) =>
            /waiting [1-9]\d* s/.test(
              document.querySelector(`${sel} .waited`)?.textContent ?? "",
            ),
          row,
          { timeout: 5000 },
        );
        await a.page.locator(row).focus();
        await a.page.keyboard.press("y");
        const allowed = await first;
        assert.equal(allowed.status, 200);
        assert.equal(
          (await allowed.json()).hookSpecificOutput.decision.behavior,
          "allow",
        );
        await b.page.waitForSelector(row, { state: "detached", timeout: 5000 });
        await a.page.waitForSelector(row, { state: "detached", timeout: 5000 });

        const second = held(server, "toolu_b2", "git push --force");
        await b.page.waitForSelector(`${row} .decide button.deny`);
        await a.page.waitForSelector(`${row} .decide button.deny`);
        await b.page.locator(`${row} .deny-message`).fill("not on main");
        // Typing "n" in the message is text, not the deny shortcut.
        await b.page.locator(`${row} .deny-message`).press("n");
        assert.equal(
          await b.page.locator(`${row} .deny-message`).inputValue(),
          "not on mainn",
        );
        await b.page.locator(`${row} .deny-message`).fill("not on main");
        await b.page.locator(`${row} button.deny`).click();
        const denied = await second;
        assert.deepEqual((await denied.json()).hookSpecificOutput.decision, {
          behavior: "deny",
          message: "not on main",
        });
        await a.page.waitForSelector(row, { state: "detached", timeout: 5000 });
        assert.equal(
          await a.page.evaluate(() => (globalThis as { __xss?: number }).__xss),
          undefined,
        );
        assert.deepEqual([...a.errors, ...b.errors], []);
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
