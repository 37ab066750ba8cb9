/**
 * The compiled `hookwatch-hook`: built with the flags of `deno task hooks:compile`, it installs
 * itself as the hook and delivers an event with no Deno on the hook's command line.
 *
 * `deno compile` needs Deno's `denort` runtime: from `DENORT_BIN`, from Deno's download cache,
 * or downloaded from dl.deno.land. Without network access to it the test is ignored, unless
 * `HOOKWATCH_REQUIRE_COMPILE=1` makes that a failure.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ROOT, startServer } from "./helpers/server.ts";

const FIXTURE = fileURLToPath(
  new URL("./fixtures/hooks/PostToolUse.json", import.meta.url),
);

async function denortAvailable(): Promise<boolean> {
  if (Deno.env.get("DENORT_BIN")) return true;
  try {
    await Deno.resolveDns("dl.deno.land", "A");
    return true;
  } catch {
    return false;
  }
}

const available = await denortAvailable();
const required = Deno.env.get("HOOKWATCH_REQUIRE_COMPILE") === "1";

Deno.test({
  name:
    "compile - hookwatch-hook installs itself and delivers events without Deno",
  ignore: !available && !required,
  async fn() {
    assert.ok(
      available,
      "deno compile needs DENORT_BIN or access to dl.deno.land",
    );
    const server = await startServer();
    const tmp = await Deno.makeTempDir({ prefix: "hookwatch-compile-" });
    try {
      const binary = `${tmp}/hookwatch-hook`;
      const build = await new Deno.Command(Deno.execPath(), {
        args: [
          "compile",
          "--allow-net",
          "--allow-read",
          "--allow-write",
          "--allow-env",
          "--output",
          binary,
          "hooks/send_event.ts",
        ],
        cwd: ROOT,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(build.code, 0, new TextDecoder().decode(build.stderr));

      const install = await new Deno.Command(binary, {
        args: ["install", "--project", `${tmp}/project`],
      }).output();
      assert.equal(install.code, 0, new TextDecoder().decode(install.stderr));
      const settings = JSON.parse(
        await Deno.readTextFile(`${tmp}/project/.claude/settings.local.json`),
      );
      const [{ hooks: [handler] }] = settings.hooks.PostToolUse;
      assert.equal(handler.command, `${binary} # hookwatch`);

      const child = new Deno.Command("sh", {
        args: ["-c", `${handler.command} < '${FIXTURE}'`],
        env: {
          HOOKWATCH_URL: server.url,
          HOOKWATCH_SOURCE_APP: "compiled",
          HOOKWATCH_SPOOL_DIR: `${tmp}/spool`,
        },
        stdout: "piped",
        stderr: "piped",
      });
      const run = await child.output();
      assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
      assert.equal(run.stdout.length, 0);
      const stored = await (await fetch(
        `${server.url}/events/recent?source_app=compiled`,
      )).json();
      assert.equal(stored.length, 1);
      assert.equal(stored[0].hook_event_type, "PostToolUse");

      const uninstall = await new Deno.Command(binary, {
        args: ["uninstall", "--project", `${tmp}/project`],
      }).output();
      assert.equal(uninstall.code, 0);
    } finally {
      await server.stop();
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
