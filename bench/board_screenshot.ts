/**
 * The dashboard's screenshots in `docs/`: a real hookwatch fed the board scenario
 * (`tests/helpers/board_scenario.ts`: sessions in every state, two waiting for a person, one
 * of them held for Allow / Deny, a subagent at work, a failure, a silent session, two ended
 * ones), drawn by
 * Chromium at 1400×900 and 390×844, light and dark; and the empty dashboard's first steps.
 *
 * - `docs/board-desktop-light.png`, `docs/board-desktop-dark.png`
 * - `docs/board-phone-light.png`, `docs/board-phone-dark.png` (the first screen a phone shows)
 * - `docs/board-phone-full.png` (the whole phone page: one column, one scroll)
 * - `docs/board-empty.png` (no events yet: the install line, the token hint, a test `curl`)
 *
 * Run: `deno run -A bench/board_screenshot.ts [--out docs]`.
 *
 * @module
 */
import type { Browser } from "playwright-core";
import { ROOT, startServer } from "../tests/helpers/server.ts";
import { ensureBuilt, launchBrowser } from "../tests/helpers/browser.ts";
import {
  holdPermission,
  postScenario,
} from "../tests/helpers/board_scenario.ts";

const at = Deno.args.indexOf("--out");
const dir = at >= 0 ? Deno.args[at + 1] : "docs";
const out = dir.startsWith("/") ? dir : `${ROOT}${dir}`;

const VIEWPORTS = {
  desktop: { width: 1400, height: 900 },
  phone: { width: 390, height: 844 },
};

async function shoot(
  browser: Browser,
  url: string,
  name: string,
  size: keyof typeof VIEWPORTS,
  scheme: "light" | "dark",
  options: { fullPage?: boolean; ready?: string } = {},
) {
  const context = await browser.newContext({
    viewport: VIEWPORTS[size],
    deviceScaleFactor: size === "phone" && !options.fullPage ? 2 : 1,
    colorScheme: scheme,
    isMobile: size === "phone",
    hasTouch: size === "phone",
  });
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForSelector("html[data-hydrated]");
  await page.waitForSelector('.conn[data-conn="live"]');
  await page.waitForSelector(options.ready ?? ".tl-lane");
  // The board's first live update and a second of ages ticking.
  await new Promise((r) => setTimeout(r, 1500));
  const path = `${out}/${name}.png`;
  await page.screenshot({ path, fullPage: options.fullPage });
  console.log(`wrote ${path}`);
  await context.close();
}

await ensureBuilt();
const browser = await launchBrowser();
try {
  const empty = await startServer({ env: { HOOKWATCH_TOKEN: "s3cret-token" } });
  try {
    const context = await browser.newContext({
      viewport: VIEWPORTS.desktop,
      colorScheme: "light",
    });
    const page = await context.newPage();
    await page.goto(`${empty.url}/login`);
    await page.fill("#token", "s3cret-token");
    await page.click("button[type=submit]");
    await page.waitForSelector(".onboarding .command");
    await page.waitForSelector('.conn[data-conn="live"]');
    await page.screenshot({ path: `${out}/board-empty.png` });
    console.log(`wrote ${out}/board-empty.png`);
    await context.close();
  } finally {
    await empty.stop();
  }

  const server = await startServer({ env: { HOOKWATCH_DECISIONS: "on" } });
  try {
    await postScenario(server.url);
    const held = await holdPermission(server.url);
    for (const scheme of ["light", "dark"] as const) {
      for (const size of ["desktop", "phone"] as const) {
        await shoot(
          browser,
          server.url,
          `board-${size}-${scheme}`,
          size,
          scheme,
        );
      }
    }
    await shoot(browser, server.url, "board-phone-full", "phone", "light", {
      fullPage: true,
    });
    await held.allow();
  } finally {
    await server.stop();
  }
} finally {
  await browser.close();
}
