/**
 * Debian's Chromium driven by playwright-core, for browser tests and the dashboard benchmark.
 * When Chromium is missing, browser tests are ignored, unless HOOKWATCH_REQUIRE_BROWSER=1 makes
 * them fail.
 *
 * @module
 */
import {
  type Browser,
  type BrowserContextOptions,
  chromium,
  type LaunchOptions,
  type Page,
} from "playwright-core";
import { ROOT } from "./server.ts";

/** Where Debian installs Chromium (override with HOOKWATCH_CHROMIUM). */
export const CHROMIUM_PATH: string = Deno.env.get("HOOKWATCH_CHROMIUM") ??
  "/usr/bin/chromium";

/** The flags these machines need. */
export const CHROMIUM_ARGS: readonly string[] = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
];

function chromiumPresent(): boolean {
  try {
    return Deno.statSync(CHROMIUM_PATH).isFile;
  } catch {
    return false;
  }
}

/** True when browser tests cannot run and may be skipped (Chromium missing, not required). */
export const browserMissing: boolean = !chromiumPresent() &&
  Deno.env.get("HOOKWATCH_REQUIRE_BROWSER") !== "1";

/** Launches Chromium; throws a clear error when it is missing. */
export async function launchBrowser(
  options: LaunchOptions = {},
): Promise<Browser> {
  if (!chromiumPresent()) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}: install Debian's chromium (required by HOOKWATCH_REQUIRE_BROWSER=1)`,
    );
  }
  return await chromium.launch({
    executablePath: CHROMIUM_PATH,
    ...options,
    args: [...CHROMIUM_ARGS, ...(options.args ?? [])],
  });
}

let built: Promise<void> | null = null;

/** Runs `scripts/build.ts` once per process (a no-op when the bundles are current). */
export function ensureBuilt(): Promise<void> {
  return built ??= (async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "scripts/build.ts"],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(
        `build failed:\n${new TextDecoder().decode(out.stderr)}`,
      );
    }
  })();
}

/** A dashboard page that records page errors and CSP violations (a sign markup was interpreted). */
export async function openPage(
  browser: Browser,
  url: string,
  options: BrowserContextOptions & { live?: boolean } = {},
): Promise<{ page: Page; errors: string[]; close: () => Promise<void> }> {
  const { live = true, ...contextOptions } = options;
  const context = await browser.newContext({
    viewport: { width: 1280, height: 720 },
    ...contextOptions,
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      const w = globalThis as unknown as { __csp?: string[] };
      (w.__csp ??= []).push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  await page.goto(url);
  if (live && contextOptions.javaScriptEnabled !== false) {
    await page.waitForSelector("html[data-hydrated]");
    await page.waitForSelector('.conn[data-conn="live"]');
  }
  return { page, errors, close: () => context.close() };
}
