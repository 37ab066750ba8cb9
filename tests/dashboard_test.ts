/**
 * The dashboard in real Chromium against a real hookwatch process.
 */
import assert from "node:assert/strict";
import { dirname } from "node:path";
import type { Page } from "playwright-core";
import {
  postJson,
  sampleEvent,
  startServer,
  type TestServer,
} from "./helpers/server.ts";
import {
  browserMissing,
  ensureBuilt,
  launchBrowser,
  openPage as open,
} from "./helpers/browser.ts";

const XSS =
  `<img src=x onerror="window.__xss=1">"></script><script>window.__xss=1</script><svg onload="window.__xss=1">`;

async function postBatch(url: string, events: Record<string, unknown>[]) {
  for (let i = 0; i < events.length; i += 200) {
    const res = await postJson(`${url}/events/batch`, events.slice(i, i + 200));
    assert.equal(res.status, 200, JSON.stringify(res.body));
  }
}

const rowIds = (page: Page) =>
  page.$$eval(
    ".rows li",
    (lis) => lis.map((li) => Number(li.getAttribute("data-id"))),
  );

const waitRows = (page: Page, selector: string, count: number) =>
  page.waitForFunction(
    ([s, n]) => document.querySelectorAll(s as string).length === n,
    [selector, count] as const,
    { timeout: 10_000 },
  );

/** Waits until the feed holds `total` rows, `priority` of them priority. */
const waitFeed = (page: Page, total: number, priority: number) =>
  page.waitForFunction(
    ([t, p]) => {
      const feed = document.querySelector<HTMLElement>(".feed")!;
      return feed.dataset.total === String(t) &&
        feed.dataset.priority === String(p);
    },
    [total, priority] as const,
    { timeout: 10_000 },
  );

/** Scrolls the feed away from the top, which pauses it. */
async function pause(page: Page): Promise<void> {
  await page.locator(".feed-scroll").evaluate((el) => el.scrollTop = 200);
  await page.waitForSelector(".feed[data-paused]");
}

Deno.test({
  name: "dashboard - in Chromium against a real server",
  ignore: browserMissing,
  async fn(t) {
    await ensureBuilt();
    const browser = await launchBrowser();
    const servers: TestServer[] = [];
    const start = async (options?: Parameters<typeof startServer>[0]) => {
      const s = await startServer(options);
      servers.push(s);
      return s;
    };
    try {
      await t.step(
        "SSR shows the snapshot before any script runs",
        async () => {
          const s = await start();
          await postBatch(s.url, [
            sampleEvent({
              session_id: "ssr-1",
              payload: {
                tool_name: "Read",
                tool_input: { file_path: "/a.ts" },
              },
            }),
            sampleEvent({
              session_id: "ssr-2",
              hook_event_type: "PermissionRequest",
              payload: { tool_name: "Bash" },
            }),
            sampleEvent({
              session_id: "ssr-1",
              hook_event_type: "Stop",
              summary: "all done",
            }),
          ]);
          const { page, close } = await open(browser, s.url, {
            javaScriptEnabled: false,
          });
          assert.deepEqual(await rowIds(page), [3, 2, 1]);
          assert.equal(await page.locator(".rows li.pri").count(), 2);
          assert.match(
            await page.locator(".rows li").first().innerText(),
            /Stop[\s\S]*all done/,
          );
          assert.match(
            await page.locator(".status").innerText(),
            /2\/200 priority[\s\S]*1\/100 regular/,
          );
          assert.match(
            await page.locator(".needs").innerText(),
            /permission[\s\S]*Bash/,
          );
          // Views and the detail work as plain links without JavaScript.
          await page.click('a[data-view="priority"]');
          assert.deepEqual(await rowIds(page), [3, 2]);
          // The filter form submits as a plain GET, keeping the view.
          await page.selectOption('select[name="session"]', "ssr-1");
          await page.click("button.apply");
          await page.waitForURL(/session=ssr-1/);
          assert.match(page.url(), /view=priority/);
          assert.deepEqual(await rowIds(page), [3]);
          await page.goto(`${s.url}/?event=1`);
          assert.match(
            await page.locator(".drawer .payload").innerText(),
            /"file_path": "\/a.ts"/,
          );
          const missing = await page.goto(`${s.url}/?event=999`);
          assert.equal(missing?.status(), 404);
          assert.match(
            await page.locator(".drawer").innerText(),
            /no such event/,
          );
          await close();

          const res = await fetch(s.url);
          await res.body?.cancel();
          assert.equal(
            res.headers.get("cross-origin-embedder-policy"),
            "require-corp",
          );
          assert.equal(
            res.headers.get("cross-origin-opener-policy"),
            "same-origin",
          );
          const csp = res.headers.get("content-security-policy") ?? "";
          assert.match(csp, /script-src 'self'/);
          assert.doesNotMatch(csp, /unsafe-inline/);
          const bad = await fetch(`${s.url}/?view=everything`);
          assert.equal(bad.status, 400);
          assert.match((await bad.json()).error, /view must be/);
        },
      );

      await t.step(
        "bundles are hashed, immutable and cross-origin isolated; the page can measure memory",
        async () => {
          const s = servers[0];
          const html = await (await fetch(s.url)).text();
          const boot = /src="(\/static\/build\/boot-[0-9a-f]+\.js)"/.exec(html)
            ?.[1];
          const config = /data-hw-config="([^"]+)"/.exec(html)?.[1].replaceAll(
            "&quot;",
            '"',
          );
          assert.ok(boot && config);
          for (const path of [boot, JSON.parse(config).workerUrl]) {
            const res = await fetch(`${s.url}${path}`);
            await res.body?.cancel();
            assert.equal(res.status, 200);
            assert.match(res.headers.get("cache-control") ?? "", /immutable/);
            assert.equal(
              res.headers.get("cross-origin-embedder-policy"),
              "require-corp",
            );
            assert.match(res.headers.get("content-type") ?? "", /javascript/);
          }
          const { page, errors, close } = await open(browser, s.url);
          assert.equal(await page.evaluate(() => crossOriginIsolated), true);
          assert.deepEqual(errors, []);
          await close();
        },
      );

      await t.step(
        "live events appear, newest first, priority marked",
        async () => {
          const s = servers[0];
          const { page, errors, close } = await open(browser, s.url);
          await postJson(
            `${s.url}/events`,
            sampleEvent({ session_id: "live-1", summary: "first live" }),
          );
          const notification = await postJson(
            `${s.url}/events`,
            sampleEvent({
              session_id: "live-1",
              hook_event_type: "Notification",
              payload: { message: "look at me" },
            }),
          );
          await page.waitForSelector(
            `.rows li:first-child[data-id="${notification.body.id}"]`,
          );
          assert.equal(await page.locator(".rows li").count(), 5);
          const first = page.locator(".rows li").first();
          assert.match(
            await first.innerText(),
            /Notification[\s\S]*look at me/,
          );
          assert.equal(await first.getAttribute("class"), "row pri");
          assert.deepEqual(errors, []);
          await close();
        },
      );

      await t.step(
        "500 regular + 50 priority: all priority kept, regular capped; then display caps at 250",
        async () => {
          const s = await start();
          const { page, close } = await open(browser, s.url);
          const events = [];
          for (let i = 0; i < 550; i++) {
            events.push(
              sampleEvent({
                session_id: `cap-${i % 7}`,
                hook_event_type: i % 11 === 10 ? "Stop" : "PreToolUse",
              }),
            );
          }
          assert.equal(
            events.filter((e) => e.hook_event_type === "Stop").length,
            50,
          );
          // Count frames and worker updates while the burst lands.
          const before = await page.evaluate(() => {
            const w = globalThis as unknown as {
              __frames: number;
              hookwatch: { updateCount(): number };
            };
            w.__frames = 0;
            const tick = () => {
              w.__frames++;
              requestAnimationFrame(tick);
            };
            requestAnimationFrame(tick);
            return w.hookwatch.updateCount();
          });
          await postBatch(s.url, events);
          await page.waitForFunction(() =>
            /50\/200 priority[\s\S]*100\/100 regular/.test(
              document.querySelector(".status")!.textContent!,
            )
          );
          await waitFeed(page, 150, 50);
          const burst = await page.evaluate(() => {
            const w = globalThis as unknown as {
              __frames: number;
              hookwatch: { updateCount(): number };
            };
            return { frames: w.__frames, updates: w.hookwatch.updateCount() };
          });
          const updates = burst.updates - before;
          assert.ok(
            updates <= burst.frames + 1,
            `${updates} updates in ${burst.frames} frames`,
          );
          assert.ok(updates < 55, `${updates} updates for 550 events`);
          // Scrolling away from the top pauses the feed and draws every row it holds.
          await pause(page);
          assert.equal(await page.locator(".rows li").count(), 150);
          assert.equal(await page.locator(".rows li.pri").count(), 50);
          // The regular rows shown are the newest 100.
          const regularIds = await page.$$eval(
            ".rows li:not(.pri)",
            (lis) => lis.map((li) => Number(li.getAttribute("data-id"))),
          );
          const allRegular = events.map((e, i) => [e, i + 1] as const)
            .filter(([e]) => e.hook_event_type !== "Stop").map(([, id]) => id);
          assert.deepEqual(regularIds, allRegular.slice(-100).reverse());
          await page.click(".newer");
          await page.waitForSelector(".feed:not([data-paused])");

          await postBatch(
            s.url,
            Array.from(
              { length: 200 },
              () => sampleEvent({ hook_event_type: "UserPromptSubmit" }),
            ),
          );
          await page.waitForFunction(() =>
            /200\/200 priority[\s\S]*100\/100 regular/.test(
              document.querySelector(".status")!.textContent!,
            )
          );
          await waitFeed(page, 250, 200);
          await pause(page);
          assert.equal(await page.locator(".rows li").count(), 250);
          assert.equal(await page.locator(".rows li.pri").count(), 200);
          assert.equal(await page.locator(".rows li:not(.pri)").count(), 50);
          await close();
        },
      );

      await t.step("view switch and each filter narrow the feed", async () => {
        const s = await start();
        await postBatch(s.url, [
          sampleEvent({
            source_app: "alpha",
            session_id: "s-a",
            hook_event_type: "PreToolUse",
          }),
          sampleEvent({
            source_app: "alpha",
            session_id: "s-b",
            hook_event_type: "Stop",
          }),
          sampleEvent({
            source_app: "beta",
            session_id: "s-c",
            hook_event_type: "PostToolUse",
            payload: { tool_name: "Grep", tool_input: { pattern: "needle" } },
          }),
          sampleEvent({
            source_app: "beta",
            session_id: "s-c",
            hook_event_type: "Notification",
            payload: { message: "hi" },
          }),
        ]);
        const { page, errors, close } = await open(browser, s.url);
        await page.click('a[data-view="priority"]');
        await waitRows(page, ".rows li", 2);
        assert.equal(await page.locator(".rows li.pri").count(), 2);
        assert.match(page.url(), /view=priority/);
        await page.click('a[data-view="regular"]');
        await waitRows(page, ".rows li", 2);
        assert.equal(await page.locator(".rows li.pri").count(), 0);
        await page.click('a[data-view="all"]');
        await waitRows(page, ".rows li", 4);

        await page.selectOption('select[name="app"]', "alpha");
        await waitRows(page, ".rows li", 2);
        assert.deepEqual(await rowIds(page), [2, 1]);
        await page.selectOption('select[name="app"]', "");
        await waitRows(page, ".rows li", 4);
        await page.selectOption('select[name="session"]', "s-c");
        await waitRows(page, ".rows li", 2);
        assert.deepEqual(await rowIds(page), [4, 3]);
        await page.selectOption('select[name="session"]', "");
        await waitRows(page, ".rows li", 4);
        await page.selectOption('select[name="type"]', "Stop");
        await waitRows(page, ".rows li", 1);
        assert.deepEqual(await rowIds(page), [2]);
        await page.selectOption('select[name="type"]', "");
        await waitRows(page, ".rows li", 4);
        await page.fill('input[name="q"]', "NEEDLE");
        await waitRows(page, ".rows li", 1);
        assert.deepEqual(await rowIds(page), [3]);
        // Live events respect the active filter.
        await postJson(
          `${s.url}/events`,
          sampleEvent({ payload: { message: "another needle" } }),
        );
        await postJson(
          `${s.url}/events`,
          sampleEvent({ payload: { message: "hay" } }),
        );
        await waitRows(page, ".rows li", 2);
        assert.deepEqual(await rowIds(page), [5, 3]);
        await page.fill('input[name="q"]', "");
        await waitRows(page, ".rows li", 6);
        assert.deepEqual(errors, []);
        await close();
      });

      await t.step(
        "the detail drawer shows payload, summary, model and chat",
        async () => {
          const s = servers.at(-1)!;
          const stored = await postJson(
            `${s.url}/events`,
            sampleEvent({
              hook_event_type: "Stop",
              summary: "wrapped up the refactor",
              model_name: "claude-sonnet-4-5",
              payload: {
                last_assistant_message: "Done.",
                nested: { deep: [1, 2] },
              },
              chat: [
                {
                  type: "user",
                  message: { role: "user", content: "please refactor" },
                },
                {
                  type: "assistant",
                  message: {
                    role: "assistant",
                    content: [{ type: "text", text: "Refactored it." }],
                  },
                },
              ],
            }),
          );
          const { page, close } = await open(browser, s.url);
          await page.click(`.rows a[data-id="${stored.body.id}"]`);
          const drawer = page.locator(".drawer");
          await drawer.locator(".payload").waitFor();
          assert.match(
            await drawer.locator(".payload").innerText(),
            /"deep": \[\s*1,\s*2\s*\]/,
          );
          assert.equal(
            await drawer.locator(".summary").innerText(),
            "wrapped up the refactor",
          );
          assert.equal(
            await drawer.locator(".model").innerText(),
            "claude-sonnet-4-5",
          );
          assert.match(
            await drawer.locator(".chat").innerText(),
            /please refactor[\s\S]*Refactored it\./,
          );
          await page.keyboard.press("Escape");
          await drawer.waitFor({ state: "hidden" });
          await close();
        },
      );

      await t.step(
        "an XSS payload in every field executes nothing, in SSR and live views",
        async () => {
          const s = await start();
          const hostile = (n: number) =>
            sampleEvent({
              source_app: `${XSS}app${n}`,
              session_id: `${XSS}session${n}`,
              hook_event_type: "Notification",
              model_name: XSS,
              summary: null,
              event_id: `${XSS}${n}`,
              payload: {
                message: XSS,
                [XSS]: XSS,
                agent_id: XSS,
                tool_name: XSS,
                tool_input: { command: XSS },
              },
              chat: [XSS, { role: XSS, content: XSS }],
            });
          await postJson(`${s.url}/events`, hostile(1));
          // bypassCSP: the page's CSP must not be what keeps the payload inert.
          const { page, close } = await open(browser, s.url, {
            bypassCSP: true,
          });
          await postJson(`${s.url}/events`, hostile(2));
          await waitRows(page, ".rows li", 2);
          await page.locator(".rows a").first().click();
          await page.locator(".drawer .payload").waitFor();
          await page.selectOption('select[name="app"]', `${XSS}app2`);
          await waitRows(page, ".rows li", 1);
          await page.waitForTimeout(300);
          const state = await page.evaluate(() => ({
            xss: (globalThis as unknown as { __xss?: number }).__xss ?? null,
            csp: (globalThis as unknown as { __csp?: string[] }).__csp ?? [],
            imgs: document.querySelectorAll(
              "img, svg:not([aria-hidden]):not(.tl-track):not(.tl-axis)",
            ).length,
            scripts: document.querySelectorAll("script").length,
            text: document.body.innerText,
          }));
          assert.equal(state.xss, null);
          assert.deepEqual(state.csp, []);
          assert.equal(state.imgs, 0);
          assert.equal(state.scripts, 1);
          assert.ok(
            state.text.includes(`<img src=x onerror="window.__xss=1">`),
          );

          // The board and the timeline: the prompt, the tool and its input, the subagent's
          // id and type, a session's end reason, live and in a fresh first paint.
          const board = (type: string, payload: Record<string, unknown>) =>
            sampleEvent({
              source_app: `${XSS}app2`,
              session_id: type === "SessionEnd"
                ? `${XSS}ended`
                : `${XSS}session2`,
              hook_event_type: type,
              payload,
            });
          await postBatch(s.url, [
            board("UserPromptSubmit", { prompt: `${XSS}prompt` }),
            board("PreToolUse", {
              tool_name: `${XSS}tool`,
              tool_input: { command: `${XSS}input` },
              tool_use_id: `${XSS}call`,
            }),
            board("SubagentStart", {
              agent_id: `${XSS}agent`,
              agent_type: `${XSS}type`,
            }),
            board("SessionEnd", { reason: `${XSS}reason` }),
          ]);
          const fresh = await open(browser, s.url, { bypassCSP: true });
          for (const p of [page, fresh.page]) {
            await p.waitForFunction(
              () =>
                document.querySelector(".board")!.textContent!.includes(
                  "reason",
                ),
              undefined,
              { timeout: 10_000 },
            );
            // The session shows in the timeline once chosen on the board.
            await p.locator(".board-row", { hasText: "input" }).locator(
              ".board-main",
            ).click();
            await p.locator(".tl-call title").waitFor({ state: "attached" });
            await p.locator(".ended-fold > summary").click();
            const seen = await p.evaluate(() => ({
              board: document.querySelector<HTMLElement>(".board")!.innerText,
              title: document.querySelector(".tl-call title")!.textContent!,
              markup: document.querySelectorAll(
                ".board img, .board script, .board svg, .timeline img, .timeline script",
              ).length,
              xss: (globalThis as unknown as { __xss?: number }).__xss ?? null,
            }));
            for (const field of ["input", "type", "reason"]) {
              assert.ok(seen.board.includes(`${XSS}${field}`), field);
            }
            assert.ok(
              (await p.locator(".agent .agent-name").evaluateAll((names) =>
                names.map((n) => n.getAttribute("title"))
              )).includes(`${XSS}agent`),
            );
            assert.ok(seen.title.includes(`${XSS}tool`), seen.title);
            assert.ok(seen.title.includes(`${XSS}input`), seen.title);
            assert.equal(seen.markup, 0);
            assert.equal(seen.xss, null);
          }
          await fresh.close();
          await close();
        },
      );

      await t.step(
        "after a server restart the worker resumes: new events appear, no duplicate rows",
        async () => {
          const first = await start();
          await postBatch(
            first.url,
            Array.from({ length: 3 }, () => sampleEvent()),
          );
          const { page, errors, close } = await open(browser, first.url);
          await postBatch(
            first.url,
            Array.from(
              { length: 2 },
              () => sampleEvent({ hook_event_type: "Stop" }),
            ),
          );
          await waitRows(page, ".rows li", 5);
          await first.stop();
          await page.waitForSelector('.conn[data-conn="reconnecting"]');
          const second = await start({
            port: first.port,
            dbPath: first.dbPath,
          });
          await postBatch(
            second.url,
            Array.from(
              { length: 4 },
              () => sampleEvent({ summary: "after restart" }),
            ),
          );
          await page.waitForSelector('.conn[data-conn="live"]', {
            timeout: 15_000,
          });
          await waitRows(page, ".rows li", 9);
          const ids = await rowIds(page);
          assert.deepEqual(ids, [9, 8, 7, 6, 5, 4, 3, 2, 1]);
          await postJson(
            `${second.url}/events`,
            sampleEvent({ summary: "still live" }),
          );
          await waitRows(page, ".rows li", 10);
          assert.deepEqual(errors, []);
          await close();
        },
      );

      await t.step(
        "the worker drops events past their bucket's retention on its timer",
        async () => {
          const s = await start({
            env: { RETENTION_REGULAR: "6s", RETENTION_PRIORITY: "1h" },
          });
          const { page, close } = await open(browser, s.url);
          const now = Date.now();
          await postBatch(s.url, [
            sampleEvent({ timestamp: now - 2000, summary: "short-lived" }),
            sampleEvent({ hook_event_type: "Stop", timestamp: now - 2000 }),
            sampleEvent({ timestamp: now }),
          ]);
          await waitFeed(page, 3, 1);
          // The first regular event passes 6 s of age 4 s from now; the third 6 s from now.
          await waitFeed(page, 2, 1);
          assert.deepEqual(await rowIds(page), [3, 2]);
          assert.match(
            await page.locator(".status").innerText(),
            /1\/100 regular/,
          );
          await close();
        },
      );

      await t.step(
        "pulse windows and the board's subagent lanes follow the stream",
        async () => {
          const s = servers[0];
          const { page, close } = await open(browser, s.url);
          await postBatch(s.url, [
            sampleEvent({ session_id: "lane-session" }),
            sampleEvent({
              session_id: "lane-session",
              hook_event_type: "SubagentStop",
              payload: { agent_id: "sub-1", agent_type: "Explore" },
            }),
          ]);
          // The session on the board, with its subagent in a lane of its own.
          await page.waitForFunction(() =>
            [...document.querySelectorAll(".board-row")].some((row) =>
              row.getAttribute("data-session") === "lane-session" &&
              row.querySelectorAll(".agent").length === 1 &&
              row.querySelector(".agent")!.textContent!.includes(
                "↳ Explore sub-1",
              )
            )
          );
          await page.click('.pulse button:has-text("5m")');
          await page.waitForSelector(
            '.pulse button[aria-pressed="true"]:has-text("5m")',
          );
          await page.waitForFunction(() =>
            /^\d+ events in 5 min · \d+ priority · \d+ regular$/.test(
              document.querySelector(".pulse-sum")!.textContent!,
            )
          );
          await close();
        },
      );

      await t.step(
        "keyboard only: reach a row, open its detail, close it with Escape",
        async () => {
          const s = servers[0];
          const { page, close } = await open(browser, s.url);
          let onRow = false;
          for (let i = 0; i < 30 && !onRow; i++) {
            await page.keyboard.press("Tab");
            onRow = await page.evaluate(() =>
              document.activeElement?.matches(".rows a") ?? false
            );
          }
          assert.ok(onRow, "Tab reaches the feed's rows");
          const id = await page.evaluate(() =>
            (document.activeElement as HTMLElement).dataset.id
          );
          await page.keyboard.press("Enter");
          await page.locator(`.drawer[data-event-id="${id}"] .payload`)
            .waitFor();
          assert.equal(
            await page.evaluate(() => document.activeElement?.tagName),
            "H2",
          );
          await page.keyboard.press("Escape");
          await page.locator(".drawer").waitFor({ state: "hidden" });
          assert.equal(
            await page.evaluate(() =>
              (document.activeElement as HTMLElement).dataset.id
            ),
            id,
          );
          await page.focus('a[data-view="priority"]');
          await page.keyboard.press("Enter");
          await page.waitForSelector(
            'a[data-view="priority"][aria-current="page"]',
          );
          await close();
        },
      );

      await t.step(
        "a narrow window has no horizontal scroll and still shows the feed",
        async () => {
          const s = servers[0];
          const { page, close } = await open(browser, s.url, {
            viewport: { width: 400, height: 800 },
            colorScheme: "dark",
          });
          const layout = await page.evaluate(() => ({
            overflow: document.documentElement.scrollWidth - innerWidth,
            rowWidth:
              document.querySelector(".rows li")!.getBoundingClientRect().width,
            typeVisible:
              document.querySelector(".rows .type")!.getBoundingClientRect()
                .width > 0,
          }));
          assert.ok(layout.overflow <= 0, `overflows by ${layout.overflow}px`);
          assert.ok(layout.rowWidth > 300 && layout.rowWidth <= 400);
          assert.ok(layout.typeVisible);
          await close();
        },
      );

      await t.step("client metrics reach the server", async () => {
        const s = servers[0];
        const context = await browser.newContext();
        const page = await context.newPage();
        const reported = page.waitForResponse((r) =>
          r.url().endsWith("/api/metrics/client")
        );
        await page.goto(`${s.url}/?metricsInterval=1000`);
        const response = await reported;
        assert.equal(response.status(), 204);
        const body = response.request().postDataJSON();
        assert.match(body.clientId, /^tab-/);
        assert.equal(typeof body.metrics.renderingStats.fps, "number");
        assert.equal(typeof body.metrics.eventCounts.priority, "number");
        const exposition = await (await fetch(`${s.url}/metrics`)).text();
        assert.ok(
          exposition.includes(`client_id="${body.clientId}"`),
          "the client's series is exported",
        );
        await context.close();
      });
    } finally {
      await browser.close();
      for (const s of servers) await s.stop();
      // Each server's temporary database directory (a restarted server shares its first one's).
      for (const dir of new Set(servers.map((s) => dirname(s.dbPath)))) {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    }
  },
});
