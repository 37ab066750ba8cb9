/**
 * Roles in real Chromium against a real hookwatch process: a viewer signed in with its token
 * sees the held permission request but no Allow, Deny, Ack or Snooze (and the server refuses
 * them anyway); an operator allows it, and both pages then say who allowed it.
 */
import assert from "node:assert/strict";
import type { Browser } from "playwright-core";
import { startServer, type TestServer } from "./helpers/server.ts";
import {
  browserMissing,
  ensureBuilt,
  launchBrowser,
} from "./helpers/browser.ts";

const VIEWER = "viewer-token-browser-1";
const OPERATOR = "operator-token-browser-2";
const HOOKS = "hooks-token-browser-3";

async function signedIn(browser: Browser, server: TestServer, token: string) {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
  });
  const page = await context.newPage();
  await page.goto(`${server.url}/`);
  await page.waitForURL(/\/login/);
  await page.fill("#token", token);
  await page.click('button[type="submit"]');
  await page.waitForSelector("html[data-hydrated]");
  await page.waitForSelector('.conn[data-conn="live"]');
  return { page, close: () => context.close() };
}

Deno.test({
  name:
    "access browser - a viewer sees the request but nothing that acts; the operator's Allow is signed with her name on both pages",
  ignore: browserMissing,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await ensureBuilt();
    const dir = await Deno.makeTempDir();
    const file = `${dir}/tokens.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        tokens: [
          { name: "bob", role: "viewer", token: VIEWER },
          { name: "ann", role: "operator", token: OPERATOR },
          { name: "laptop", role: "ingest", token: HOOKS },
        ],
      }),
    );
    const server = await startServer({
      env: { HOOKWATCH_DECISIONS: "on", HOOKWATCH_TOKENS_FILE: file },
    });
    const browser = await launchBrowser();
    try {
      const viewer = await signedIn(browser, server, VIEWER);
      const operator = await signedIn(browser, server, OPERATOR);
      try {
        const held = fetch(`${server.url}/hooks/roles-app/decide`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            authorization: `Bearer ${HOOKS}`,
          },
          body: JSON.stringify({
            session_id: "roles-session",
            hook_event_name: "PermissionRequest",
            tool_name: "Bash",
            tool_input: { command: "rm -rf dist" },
          }),
        });
        const row = '.inbox li[data-kind="permission"]';
        await operator.page.waitForSelector(`${row} button.allow`);
        await viewer.page.waitForSelector(row);
        for (const button of ["allow", "deny", "ack", "snooze"]) {
          assert.equal(
            await viewer.page.locator(`${row} button.${button}`).count(),
            0,
            `a viewer sees no ${button}`,
          );
        }
        assert.match(
          await viewer.page.locator(row).innerText(),
          /waiting for an operator/,
        );
        // The server refuses a viewer's decision whatever the page shows.
        const id = await viewer.page.locator(row).getAttribute("data-id");
        const refused = await viewer.page.evaluate(
          async (id) =>
            (await fetch(`/inbox/${id}/decision`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ behavior: "allow" }),
            })).status,
          id,
        );
        assert.equal(refused, 403);
        await operator.page.click(`${row} button.allow`);
        assert.equal((await held).status, 200);
        for (const page of [operator.page, viewer.page]) {
          await page.waitForFunction(() =>
            /allowed by ann \d+ s ago/.test(
              document.querySelector(".inbox .handled")?.textContent ?? "",
            )
          );
        }
      } finally {
        await viewer.close();
        await operator.close();
      }
    } finally {
      await browser.close();
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
