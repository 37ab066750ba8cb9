/**
 * The sessions board, the timeline, the empty dashboard and the phone layout in real Chromium
 * against a real hookwatch process, fed the board scenario (tests/helpers/board_scenario.ts):
 * what a person triaging agents would notice.
 */
import assert from "node:assert/strict";
import type { Browser, BrowserContextOptions, Page } from "playwright-core";
import { postJson, startServer, type TestServer } from "./helpers/server.ts";
import {
  browserMissing,
  ensureBuilt,
  launchBrowser,
  openPage,
} from "./helpers/browser.ts";
import {
  HELD_SESSION,
  holdPermission,
  postScenario,
  SCENARIO,
} from "./helpers/board_scenario.ts";

const DESKTOP = { width: 1400, height: 900 };
const PHONE = { width: 390, height: 844 };

const open = (
  browser: Browser,
  url: string,
  options: BrowserContextOptions = {},
) => openPage(browser, url, { viewport: DESKTOP, ...options });

/** The board's sessions as `session:state`, top to bottom (ended ones not listed). */
const boardOrder = (page: Page) =>
  page.$$eval(
    ".board > .board-list > .board-row",
    (rows) =>
      rows.map((r) =>
        `${r.getAttribute("data-session")}:${r.getAttribute("data-state")}`
      ),
  );

const waitOrder = (page: Page, expected: string[]) =>
  page.waitForFunction(
    (want) =>
      JSON.stringify(
        [...document.querySelectorAll(".board > .board-list > .board-row")]
          .map((r) =>
            `${r.getAttribute("data-session")}:${r.getAttribute("data-state")}`
          ),
      ) === want,
    JSON.stringify(expected),
    { timeout: 10_000 },
  );

const row = (page: Page, session: string) =>
  page.locator(`.board-row[data-session="${session}"]`);

const S = SCENARIO;
/** Waiting first (the longest wait), failed, working, then the rest by their last event. */
const ORDER = [
  `${S.waiting}:waiting`,
  `${S.failed}:failed`,
  `${S.working}:working`,
  `${S.idle}:idle`,
  `${S.stopped}:stopped`,
  `${S.silent}:stale`,
];

function hook(server: TestServer, session: string, input: object) {
  return postJson(`${server.url}/hooks/later-app`, {
    session_id: session,
    cwd: "/repo",
    ...input,
  });
}

Deno.test({
  name: "board browser - sessions, timeline and phone layout",
  ignore: browserMissing,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await ensureBuilt();
    const browser = await launchBrowser();
    const server = await startServer({ env: { HOOKWATCH_DECISIONS: "on" } });
    try {
      await postScenario(server.url);

      await t.step(
        "the first paint, without JavaScript, answers who needs me",
        async () => {
          const { page, close } = await open(browser, server.url, {
            javaScriptEnabled: false,
          });
          assert.deepEqual(await boardOrder(page), ORDER);
          const waiting = row(page, S.waiting);
          assert.equal(
            await waiting.locator(".state-label").innerText(),
            "waiting 2 m",
          );
          assert.equal(await waiting.locator(".app").innerText(), "billing");
          assert.match(
            await waiting.locator(".doing").innerText(),
            /^asks to use Write\s+config\/tax\.yaml$/,
          );
          assert.match(
            await row(page, S.failed).locator(".state-label").innerText(),
            /^failed 6 m$/,
          );
          assert.match(
            await row(page, S.working).locator(".board-main .doing")
              .innerText(),
            /^Task\s+Find every caller of listOrders$/,
          );
          // The subagent in a lane of its own, with what it does.
          const agent = row(page, S.working).locator(
            `.agent[data-agent="${S.subagent}"]`,
          );
          assert.match(
            await agent.innerText(),
            /↳ Explore agent-a7…\s+Read\s+src\/admin\/export\.ts/,
          );
          // Ended sessions are folded away, and open as a plain <details>.
          const fold = page.locator(".ended-fold");
          assert.equal(await fold.locator("summary").innerText(), "2 ended");
          assert.equal(await row(page, S.ended[0]).isVisible(), false);
          await fold.locator("summary").click();
          assert.equal(await row(page, S.ended[0]).isVisible(), true);
          assert.match(
            await row(page, S.ended[0]).innerText(),
            /ended \d+ m[\s\S]*session ended\s+exited/,
          );
          // The feed says what a session's end was, in words, and nothing for "other".
          const feed = await page.locator(".rows").innerText();
          assert.ok(feed.includes("session ended (exited)"), feed);
          assert.ok(!feed.includes("(other)"), feed);
          // The timeline opens on the most urgent session (not the latest active one).
          assert.equal(
            await page.locator(".timeline").getAttribute("data-session"),
            S.waiting,
          );
          assert.equal(
            await page.locator(".timeline .tl-call").count(),
            3,
            "billing's three calls",
          );
          await close();
        },
      );

      await t.step(
        "live: states move, ages tick, ended sessions fold, the timeline follows",
        async () => {
          const { page, errors, close } = await open(browser, server.url);
          await waitOrder(page, ORDER);
          // The stopped session asks for a permission: it joins the waiting, after the
          // longer wait; the working one ends and folds away.
          await hook(server, S.stopped, {
            hook_event_name: "PermissionRequest",
            tool_name: "Bash",
            tool_input: { command: "git push" },
          });
          await hook(server, S.working, {
            hook_event_name: "SessionEnd",
            reason: "logout",
          });
          await waitOrder(page, [
            `${S.waiting}:waiting`,
            `${S.stopped}:waiting`,
            `${S.failed}:failed`,
            `${S.idle}:idle`,
            `${S.silent}:stale`,
          ]);
          assert.match(
            await row(page, S.stopped).innerText(),
            /waiting \d+ s[\s\S]*later-app[\s\S]*asks to use Bash\s+git push/,
          );
          // Ages move on without an event.
          const label = row(page, S.stopped).locator(".state-label");
          const first = await label.innerText();
          await page.waitForFunction(
            ([s, was]) =>
              document.querySelector(
                `.board-row[data-session="${s}"] .state-label`,
              )!.textContent !== was,
            [S.stopped, first] as const,
            { timeout: 5000 },
          );
          assert.match(await label.innerText(), /^waiting [1-9]\d* s$/);
          assert.equal(
            await page.locator(".ended-fold summary").innerText(),
            "3 ended",
          );

          // The timeline follows the most urgent, or the session chosen on the board.
          const timeline = page.locator(".timeline");
          assert.equal(await timeline.getAttribute("data-session"), S.waiting);
          await page.locator(".ended-fold summary").click();
          await row(page, S.working).locator(".board-main").click();
          await page.waitForSelector(
            `.timeline[data-session="${S.working}"] .tl-lane[data-agent="${S.subagent}"]`,
          );
          assert.equal(
            await row(page, S.working).locator(".board-main").getAttribute(
              "aria-current",
            ),
            "true",
          );

          // Its 8 s permission wait and 81 ms run are two segments, in that order.
          const call = timeline.locator('[data-tool-use-id="toolu_s3"]');
          const [wait, tool] = await Promise.all(
            [".tl-wait", ".tl-work"].map((s) => call.locator(s).boundingBox()),
          );
          assert.ok(wait && tool);
          assert.ok(
            wait.width > 20 * Math.max(1, tool.width - 2),
            `wait ${wait.width}px, tool ${tool.width}px`,
          );
          assert.ok(tool.x >= wait.x + wait.width - 2, "the run follows");
          assert.match(
            await call.locator("title").textContent() ?? "",
            /^Bash · ok · tool 81 ms · wait 8\.0 s · npm test$/,
          );
          // A time axis with readable, increasing times.
          const ticks = await timeline.locator(".tl-axis text").evaluateAll(
            (ts) =>
              ts.map((t) => ({
                text: t.textContent ?? "",
                x: t.getBoundingClientRect().x,
              })),
          );
          assert.ok(ticks.length >= 3, JSON.stringify(ticks));
          for (let i = 0; i < ticks.length; i++) {
            assert.match(ticks[i].text, /^\d\d:\d\d(:\d\d(\.\d{3})?)?$/);
            if (i > 0) assert.ok(ticks[i].x > ticks[i - 1].x);
          }
          await timeline.locator("button.tl-follow").click();
          await page.waitForSelector(`.timeline[data-session="${S.waiting}"]`);
          // A page asked for one session (a board link without JavaScript) keeps it.
          const pinned = await open(
            browser,
            `${server.url}/?session=${S.stopped}`,
          );
          await pinned.page.waitForSelector(".board-row");
          await pinned.page.waitForTimeout(300);
          assert.equal(
            await pinned.page.locator(".timeline").getAttribute("data-session"),
            S.stopped,
          );
          await pinned.close();

          // Without Claude Code telemetry the drawer tells no cost (not $0.0000).
          const prompt = page.locator(".rows li", {
            hasText: "Write the new tax rate",
          });
          const costRead = page.waitForResponse((r) =>
            r.url().endsWith(`/sessions/${S.waiting}`)
          );
          await prompt.locator("a").click();
          await page.locator(".drawer .payload").waitFor();
          await costRead;
          await page.waitForTimeout(200);
          assert.equal(await page.locator(".drawer .prompt-cost").count(), 0);
          assert.doesNotMatch(
            await page.locator(".drawer").innerText(),
            /\$0\.0000/,
          );
          await page.keyboard.press("Escape");
          assert.deepEqual(errors, []);
          await close();
        },
      );

      await t.step(
        "desktop 1400×900: Needs you and sessions beside the timeline and the feed",
        async () => {
          const { page, close } = await open(browser, server.url);
          const box = await page.evaluate(() => {
            const r = (s: string) =>
              document.querySelector(s)!.getBoundingClientRect();
            return {
              side: r(".side-col").toJSON(),
              main: r(".main-col").toJSON(),
              feed: r(".feed").toJSON(),
              overflow: document.documentElement.scrollWidth - innerWidth,
              pageScrolls: document.documentElement.scrollHeight > innerHeight,
            };
          });
          assert.ok(box.side.right <= box.main.left, JSON.stringify(box));
          assert.ok(box.main.width > 800, JSON.stringify(box.main));
          assert.ok(box.feed.height > 400, JSON.stringify(box.feed));
          assert.ok(box.overflow <= 0);
          assert.equal(box.pageScrolls, false, "columns scroll, not the page");
          await close();
        },
      );

      await t.step(
        "phone 390×844, light and dark: Needs you, sessions, then the feed; one scroll; thumb-sized; Allow works",
        async () => {
          const held = await holdPermission(server.url);
          for (const colorScheme of ["light", "dark"] as const) {
            const { page, errors, close } = await open(browser, server.url, {
              viewport: PHONE,
              colorScheme,
              isMobile: true,
              hasTouch: true,
            });
            const allow = page.locator(".inbox .decide button.allow");
            await allow.waitFor();
            const layout = await page.evaluate(() => {
              const top = (s: string) =>
                document.querySelector(s)!.getBoundingClientRect().top +
                scrollY;
              const scrollers = [...document.querySelectorAll("*")].filter(
                (el) => {
                  const style = getComputedStyle(el);
                  return el !== document.scrollingElement &&
                    (/(auto|scroll)/.test(style.overflowY) &&
                        el.scrollHeight > el.clientHeight + 1 ||
                      /(auto|scroll)/.test(style.overflowX) &&
                        el.scrollWidth > el.clientWidth + 1);
                },
              ).map((el) => el.className);
              return {
                overflow: document.documentElement.scrollWidth - innerWidth,
                needs: top(".inbox"),
                board: top(".board"),
                feed: top(".feed"),
                scrollers,
                pageScrolls:
                  document.documentElement.scrollHeight > innerHeight * 2,
                background: getComputedStyle(document.body).backgroundColor,
              };
            });
            assert.ok(layout.overflow <= 0, `sideways by ${layout.overflow}`);
            // Three items, then "Show all": the sessions are not pushed off the screen.
            const items = page.locator(".inbox li");
            const visible = () =>
              items.evaluateAll((lis) =>
                lis.filter((li) => (li as HTMLElement).offsetParent !== null)
                  .length
              );
            const total = await items.count();
            assert.ok(total > 3, `${total} items`);
            assert.equal(await visible(), 3);
            assert.ok(
              layout.needs < layout.board && layout.board < layout.feed,
              JSON.stringify(layout),
            );
            assert.deepEqual(layout.scrollers, [], "one scrolling element");
            assert.ok(layout.pageScrolls);
            assert.equal(
              layout.background,
              colorScheme === "dark" ? "rgb(15, 17, 21)" : "rgb(244, 245, 247)",
            );
            // Thumb-sized targets.
            const sizes = await page.$$eval(
              ".inbox button, .inbox input, .board-main, .ended-fold > summary",
              (els) =>
                els.filter((el) => (el as HTMLElement).offsetParent !== null)
                  .map((el) => {
                    const r = el.getBoundingClientRect();
                    return `${
                      el.className || el.tagName
                    } ${r.width}x${r.height}`;
                  }),
            );
            const small = sizes.filter((s) => {
              const [w, h] = s.split(" ").at(-1)!.split("x").map(Number);
              return w < 44 || h < 44;
            });
            assert.deepEqual(small, [], sizes.join(", "));
            // Feed rows say which app and what happened.
            const first = page.locator(".rows li").first();
            for (const part of [".app", ".type", ".text"]) {
              assert.ok(
                ((await first.locator(part).boundingBox())?.width ?? 0) > 20,
                part,
              );
            }
            assert.match(
              await first.innerText(),
              /PermissionRequest[\s\S]*payments[\s\S]*rm -rf dist/,
            );
            // Dragged down into the feed, rows are there (no blank spacer).
            await page.locator(".rows li").nth(10).scrollIntoViewIfNeeded();
            assert.equal(
              await page.evaluate(() =>
                document.elementFromPoint(195, innerHeight / 2)?.closest(
                  ".rows li",
                ) !== null
              ),
              true,
            );
            assert.equal(await page.locator(".feed .rest").count(), 0);
            await page.locator(".inbox button.show-all").tap();
            assert.equal(await visible(), total);
            if (colorScheme === "dark") {
              // Allowed with a tap: the held request is answered, the item leaves.
              await page.evaluate(() => scrollTo(0, 0));
              await allow.tap();
              const answer = await held.answer;
              assert.equal(answer.status, 200);
              const decision = await answer.json();
              assert.equal(
                decision.hookSpecificOutput.decision.behavior,
                "allow",
              );
              await page.waitForSelector(".inbox .decide", {
                state: "detached",
              });
              // The agent, allowed, runs the command: the session works again.
              await postJson(`${server.url}/hooks/payments`, {
                session_id: HELD_SESSION,
                hook_event_name: "PostToolUse",
                tool_name: "Bash",
                tool_use_id: "toolu_p1",
                duration_ms: 900,
              });
              await page.waitForSelector(
                `.board-row[data-session="${HELD_SESSION}"][data-state="working"]`,
              );
            }
            assert.deepEqual(errors, []);
            await close();
          }
        },
      );
    } finally {
      await browser.close();
      await server.stop();
    }
  },
});

Deno.test({
  name:
    "board browser - the empty dashboard onboards (this server's URL, the token hint, a curl that works); sign-in page and sign-out",
  ignore: browserMissing,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await ensureBuilt();
    const token = "board-test-token-7f3a";
    const browser = await launchBrowser();
    const server = await startServer({ env: { HOOKWATCH_TOKEN: token } });
    const open = await startServer();
    try {
      // The sign-in page in the dashboard's look, dark too, saying where the token comes from.
      const context = await browser.newContext({
        viewport: PHONE,
        colorScheme: "dark",
      });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(server.url);
      await page.waitForURL(/\/login$/);
      const look = await page.evaluate(() => ({
        background: getComputedStyle(document.body).backgroundColor,
        button: document.querySelector("button")!.getBoundingClientRect()
          .height,
        hint: document.querySelector(".hint")!.textContent,
      }));
      assert.equal(look.background, "rgb(15, 17, 21)");
      assert.ok(look.button >= 44);
      assert.match(look.hint ?? "", /HOOKWATCH_TOKEN[\s\S]*started with/);
      await page.fill("#token", token);
      await page.click("button[type=submit]");
      await page.waitForSelector('.conn[data-conn="live"]');

      // Nothing arrived yet: the lines to copy, for this server, the token never shown.
      const onboarding = page.locator(".onboarding");
      const command = (name: string) =>
        onboarding.locator(`[data-command="${name}"] pre`).innerText();
      assert.match(
        await command("install"),
        new RegExp(
          `^cd /\\S+\\ndeno task hooks:install --project /path/to/your/project --server-url ${server.url}$`,
        ),
      );
      assert.equal(
        await command("install-global"),
        `deno task hooks:install --global --server-url ${server.url}`,
      );
      assert.equal(await command("token"), "export HOOKWATCH_TOKEN=…");
      const curl = await command("curl");
      assert.ok(curl.includes(`${server.url}/events`), curl);
      assert.ok(
        curl.includes(`-H "authorization: Bearer $HOOKWATCH_TOKEN"`),
        curl,
      );
      assert.equal(
        (await page.content()).includes(token),
        false,
        "the token itself is never on the page",
      );
      // The curl, run as shown where the token is exported, posts an event: the page
      // leaves onboarding live and shows the session.
      const ran = await new Deno.Command("sh", {
        args: ["-c", curl],
        env: { HOOKWATCH_TOKEN: token },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(ran.success, new TextDecoder().decode(ran.stderr));
      await onboarding.waitFor({ state: "hidden" });
      await page.waitForSelector(
        '.board-row[data-session="curl-test"][data-state="idle"]',
      );

      // Sign out: back to the sign-in page, and the dashboard asks again.
      await page.click(".signout button");
      await page.waitForURL(/\/login$/);
      await page.goto(server.url);
      await page.waitForURL(/\/login$/);
      assert.deepEqual(errors, []);
      await context.close();

      // Without a token: no token line, a curl without one, the URL the page was asked by.
      const other = await browser.newContext({ viewport: DESKTOP });
      const local = await other.newPage();
      const url = `http://localhost:${open.port}`;
      await local.goto(url);
      await local.waitForSelector('.conn[data-conn="live"]');
      const install = await local.locator('[data-command="install"] pre')
        .innerText();
      assert.ok(install.endsWith(`--server-url ${url}`), install);
      assert.equal(await local.locator('[data-command="token"]').count(), 0);
      assert.equal(await local.locator(".signout").count(), 0);
      assert.doesNotMatch(
        await local.locator('[data-command="curl"] pre').innerText(),
        /authorization/,
      );
      await other.close();
    } finally {
      await browser.close();
      await server.stop();
      await open.stop();
    }
  },
});

Deno.test({
  name:
    "board browser - a replay that arrives late is marked: the feed row says how late, the session's hooks read as behind, the drawer says when it arrived",
  ignore: browserMissing,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await ensureBuilt();
    const browser = await launchBrowser();
    const server = await startServer();
    try {
      const hook = (id: string, type: string, ago: number) => ({
        event_id: id,
        source_app: "spooled-app",
        session_id: "replayed-session",
        hook_event_type: type,
        timestamp: Date.now() - ago,
        payload: { session_id: "replayed-session", hook_event_name: type },
      });
      // What the hook sender replays from its spool after hookwatch was down for 5 minutes.
      const replay = await postJson(`${server.url}/events/batch`, [
        hook("hw-late-1", "UserPromptSubmit", 301_000),
        hook("hw-late-2", "Stop", 300_000),
      ]);
      assert.equal(replay.status, 200);
      const { page, close } = await open(browser, server.url);
      const session = row(page, "replayed-session");
      await session.waitFor();
      assert.equal(
        await session.locator(".behind").innerText(),
        "hooks behind: events arrive 5 m late",
      );
      const late = page.locator(".rows .row .late");
      assert.deepEqual(await late.allInnerTexts(), ["late 5 m", "late 5 m"]);
      await page.locator(".rows .row a").first().click();
      await page.waitForSelector(".late-arrival");
      assert.match(
        await page.locator(".late-arrival").innerText(),
        /^\d\d:\d\d:\d\d, 5 m late: replayed from the hook's spool/,
      );
      // The session's next event arrives live: its hooks are no longer behind.
      assert.equal(
        (await postJson(`${server.url}/events`, {
          ...hook("hw-live-1", "UserPromptSubmit", 0),
        })).status,
        200,
      );
      await session.locator(".behind").waitFor({ state: "detached" });
      assert.equal(await page.locator(".rows .row .late").count(), 2);
      await close();
    } finally {
      await server.stop();
      await browser.close();
    }
  },
});
