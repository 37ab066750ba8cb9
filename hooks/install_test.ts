import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { CORE_HOOK_TYPES } from "../common/classify.ts";
import { BACKUP_SUFFIX, install, uninstall } from "./install.ts";
import { hookCommand, isOurs, MARKER } from "./settings.ts";
import { runInstaller } from "../tests/helpers/installer.ts";

const COMMAND = hookCommand({
  deno: "/opt/deno/bin/deno",
  front: "/opt/hookwatch/hooks/hook.sh",
});
const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** A settings file as a user might have it: other settings, own hooks, 4-space indent. */
const USER_SETTINGS = `{
    "permissions": {
        "allow": ["Bash(npm test:*)"]
    },
    "hooks": {
        "PreToolUse": [
            {
                "matcher": "Bash",
                "hooks": [
                    { "type": "command", "command": "~/bin/guard-bash.sh", "timeout": 5 }
                ]
            }
        ],
        "Stop": [
            { "hooks": [{ "type": "command", "command": "notify-send done" }] }
        ],
        "Setup": [],
        "SessionEnd": []
    },
    "model": "sonnet"
}
`;

async function withProject(
  fn: (settings: string, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hookwatch-install-" });
  try {
    await fn(`${dir}/.claude/settings.json`, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

// deno-lint-ignore no-explicit-any -- settings files are arbitrary JSON
function ours(settings: any, event: string): any[] {
  // deno-lint-ignore no-explicit-any
  return (settings.hooks[event] ?? []).flatMap((group: any) =>
    group.hooks.filter(isOurs)
  );
}

function cli(args: string[], env: Record<string, string> = {}) {
  return runInstaller(args, { env });
}

Deno.test("install - fresh project: one async command hook per core event; uninstall removes the file again", async () => {
  await withProject(async (path) => {
    const first = await install(path, COMMAND);
    assert.equal(first.changed, true);
    const settings = JSON.parse(await Deno.readTextFile(path));
    assert.deepEqual(
      Object.keys(settings.hooks).sort(),
      [...CORE_HOOK_TYPES].sort(),
    );
    for (const event of CORE_HOOK_TYPES) {
      const [handler, ...more] = ours(settings, event);
      assert.deepEqual(more, [], `${event}: exactly one hookwatch hook`);
      assert.equal(handler.type, "command");
      // Stop and SubagentStop come as a turn ends, when async hooks are cancelled.
      assert.equal(handler.async, !["Stop", "SubagentStop"].includes(event));
      assert.equal(handler.command, `${COMMAND} ${MARKER}`);
    }
    assert.equal(
      await exists(path + BACKUP_SUFFIX),
      false,
      "nothing to back up",
    );

    const bytes = await Deno.readTextFile(path);
    assert.equal((await install(path, COMMAND)).changed, false);
    assert.equal(
      await Deno.readTextFile(path),
      bytes,
      "second install: no change",
    );

    const removed = await uninstall(path);
    assert.equal(removed.after, null);
    assert.equal(await exists(path), false, "as before: no settings file");
    assert.equal((await uninstall(path)).changed, false);
  });
});

Deno.test("install - other hooks are kept, a second install changes nothing, uninstall is byte-identical", async () => {
  await withProject(async (path, dir) => {
    await Deno.mkdir(`${dir}/.claude`);
    await Deno.writeTextFile(path, USER_SETTINGS);
    const before = JSON.parse(USER_SETTINGS);

    await install(path, COMMAND);
    const text = await Deno.readTextFile(path);
    assert.match(text, /^ {4}"permissions"/m, "the file's own indentation");
    const settings = JSON.parse(text);
    assert.deepEqual(settings.permissions, before.permissions);
    assert.equal(settings.model, "sonnet");
    assert.deepEqual(settings.hooks.PreToolUse[0], before.hooks.PreToolUse[0]);
    assert.deepEqual(settings.hooks.Stop[0], before.hooks.Stop[0]);
    for (const event of CORE_HOOK_TYPES) {
      assert.equal(ours(settings, event).length, 1, event);
    }
    assert.equal(await Deno.readTextFile(path + BACKUP_SUFFIX), USER_SETTINGS);

    assert.equal((await install(path, COMMAND)).changed, false);
    assert.equal(await Deno.readTextFile(path), text);

    await uninstall(path);
    assert.equal(await Deno.readTextFile(path), USER_SETTINGS);
  });
});

Deno.test("install - uninstall removes exactly its own hooks and keeps edits made since", async () => {
  await withProject(async (path, dir) => {
    await Deno.mkdir(`${dir}/.claude`);
    await Deno.writeTextFile(path, USER_SETTINGS);
    await install(path, COMMAND);
    const edited = JSON.parse(await Deno.readTextFile(path));
    edited.hooks.PostToolUse.unshift({
      matcher: "Edit|Write",
      hooks: [{ type: "command", command: "deno fmt" }],
    });
    edited.model = "opus";
    await Deno.writeTextFile(path, JSON.stringify(edited, null, 2) + "\n");

    // Re-installing with other options replaces hookwatch's hooks, never adds a second set.
    const other = hookCommand({ binary: "/usr/local/bin/hookwatch-hook" });
    await install(path, other);
    const reinstalled = JSON.parse(await Deno.readTextFile(path));
    for (const event of CORE_HOOK_TYPES) {
      const handlers = ours(reinstalled, event);
      assert.equal(handlers.length, 1, event);
      assert.equal(handlers[0].command, `${other} ${MARKER}`);
    }

    await uninstall(path);
    const after = JSON.parse(await Deno.readTextFile(path));
    const expected = JSON.parse(USER_SETTINGS);
    expected.model = "opus";
    expected.hooks.PostToolUse = [{
      matcher: "Edit|Write",
      hooks: [{ type: "command", command: "deno fmt" }],
    }];
    assert.deepEqual(after, expected);
  });
});

Deno.test("install - command line: --dry-run prints the diff and writes nothing, --global, bad JSON refused", async () => {
  await withProject(async (path, dir) => {
    const dry = await cli(["install", "--project", dir, "--dry-run"]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^\+\+\+ .*\.claude\/settings\.local\.json$/m);
    assert.match(dry.stdout, /^\+.*"SessionStart"/m);
    assert.match(dry.stdout, /# hookwatch/);
    assert.equal(
      await exists(`${dir}/.claude`),
      false,
      "dry run wrote nothing",
    );

    const home = `${dir}/home`;
    const global = await cli(["install", "--global"], { HOME: home });
    assert.equal(global.code, 0, global.stderr);
    const settings = JSON.parse(
      await Deno.readTextFile(`${home}/.claude/settings.json`),
    );
    assert.equal(ours(settings, "Notification").length, 1);
    assert.equal(
      (await cli(["uninstall", "--global"], { HOME: home })).code,
      0,
    );
    assert.equal(await exists(`${home}/.claude/settings.json`), false);

    await Deno.mkdir(`${dir}/.claude`);
    await Deno.writeTextFile(path, '{ "hooks": { "Stop": [ }');
    const bad = await cli(["install", "--project", dir]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /settings\.json is not valid JSON/);
    assert.equal(await Deno.readTextFile(path), '{ "hooks": { "Stop": [ }');
  });
});

Deno.test("install - --decisions: an http PermissionRequest hook on /decide with a timeout above the wait; uninstall is byte-identical", async () => {
  await withProject(async (_, dir) => {
    const path = `${dir}/.claude/settings.local.json`;
    await Deno.mkdir(`${dir}/.claude`);
    await Deno.writeTextFile(path, USER_SETTINGS);
    const done = await cli([
      "install",
      "--project",
      dir,
      "--decisions",
      "--decision-wait",
      "30",
      "--server-url",
      "http://127.0.0.1:4100/",
      "--source-app",
      "shop api",
    ]);
    assert.equal(done.code, 0, done.stderr);
    const settings = JSON.parse(await Deno.readTextFile(path));
    assert.deepEqual(ours(settings, "PermissionRequest"), [{
      type: "http",
      url: "http://127.0.0.1:4100/hooks/shop%20api/decide?wait=30",
      headers: { Authorization: "Bearer $HOOKWATCH_TOKEN" },
      allowedEnvVars: ["HOOKWATCH_TOKEN"],
      timeout: 40,
    }]);
    for (const event of CORE_HOOK_TYPES) {
      if (event === "PermissionRequest") continue;
      const [handler] = ours(settings, event);
      assert.equal(handler.type, "command", event);
    }
    const text = await Deno.readTextFile(path);
    assert.equal(
      (await cli([
        "install",
        "--project",
        dir,
        "--decisions",
        "--decision-wait",
        "30",
        "--server-url",
        "http://127.0.0.1:4100/",
        "--source-app",
        "shop api",
      ])).code,
      0,
    );
    assert.equal(await Deno.readTextFile(path), text, "re-install: no change");
    const bad = await cli([
      "install",
      "--project",
      dir,
      "--decisions",
      "--decision-wait",
      "0",
    ]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--decision-wait must be 1 to 3600 seconds/);
    const removed = await cli(["uninstall", "--project", dir]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(await Deno.readTextFile(path), USER_SETTINGS);
  });
});

Deno.test("install - no target: install and uninstall refuse, naming --project and --global; a relative DIR is where deno task was typed", async () => {
  await withProject(async (_, dir) => {
    for (const action of ["install", "uninstall"]) {
      const run = await runInstaller([action], { cwd: dir });
      assert.equal(run.code, 2, `${action}: ${run.stdout}`);
      assert.match(run.stderr, /--project DIR/);
      assert.match(run.stderr, /--global/);
      assert.equal(run.stdout, "");
    }
    const both = await cli(["install", "--global", "--project", dir]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--project and --global: choose one/);
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dir)), []);
    const relative = await runInstaller(["install", "--project", "."], {
      env: { INIT_CWD: dir }, // where `deno task` was typed
    });
    assert.equal(relative.code, 0, relative.stderr);
    assert.ok(await exists(`${dir}/.claude/settings.local.json`));
  });
});

Deno.test("install - a project's committed settings.json gets no machine paths; an older install's hooks move out of it", async () => {
  await withProject(async (committed, dir) => {
    await Deno.mkdir(`${dir}/.claude`);
    await Deno.writeTextFile(committed, USER_SETTINGS);
    await install(committed, COMMAND); // what the installer used to do
    const run = await cli(["install", "--project", dir]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      /removed hookwatch hooks from .*settings\.json: project hooks live in settings\.local\.json/,
    );
    const text = await Deno.readTextFile(committed);
    assert.equal(
      text,
      USER_SETTINGS,
      "settings.json is as it was before hookwatch",
    );
    for (const path of [ROOT, Deno.execPath(), "/opt/hookwatch"]) {
      assert.ok(!text.includes(path), `settings.json names ${path}`);
    }
    const local = JSON.parse(
      await Deno.readTextFile(`${dir}/.claude/settings.local.json`),
    );
    assert.equal(ours(local, "PreToolUse").length, 1);
    assert.match(ours(local, "PreToolUse")[0].command, /hook\.sh/);

    const removed = await cli(["uninstall", "--project", dir]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(await exists(`${dir}/.claude/settings.local.json`), false);
    assert.equal(await Deno.readTextFile(committed), USER_SETTINGS);
  });
});

Deno.test("install - what a re-install says is true: no backup is named that does not exist", async () => {
  await withProject(async (_, dir) => {
    const local = `${dir}/.claude/settings.local.json`;
    const first = await cli(["install", "--project", dir]);
    assert.match(
      first.stdout,
      /installed hookwatch hooks for 12 events in .* \(a new file\)/,
    );
    const again = await cli(["install", "--project", dir, "--add-chat"]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(
      again.stdout,
      /^replaced hookwatch's hooks in \S+settings\.local\.json$/m,
    );
    assert.doesNotMatch(again.stdout, /backup/);
    assert.equal(await exists(local + BACKUP_SUFFIX), false);
    assert.match(
      (await cli(["install", "--project", dir, "--add-chat"])).stdout,
      /already installed .*; nothing changed/,
    );
    await cli(["uninstall", "--project", dir]);

    await Deno.mkdir(`${dir}/.claude`, { recursive: true });
    await Deno.writeTextFile(local, USER_SETTINGS);
    const existing = await cli(["install", "--project", dir]);
    assert.match(
      existing.stdout,
      /\(the file as it was: \S+\.hookwatch-backup\)/,
    );
    assert.equal(await Deno.readTextFile(local + BACKUP_SUFFIX), USER_SETTINGS);
    const replaced = await cli(["install", "--project", dir, "--add-chat"]);
    assert.match(
      replaced.stdout,
      /replaced hookwatch's hooks in .* \(the file as it was before hookwatch: \S+\.hookwatch-backup\)/,
    );
  });
});

Deno.test("install - --token-env NAME: every hook and the /decide header read $NAME; a bad NAME is refused; uninstall finds them", async () => {
  await withProject(async (_, dir) => {
    const path = `${dir}/.claude/settings.local.json`;
    const args = ["install", "--project", dir, "--decisions"];
    const done = await cli([...args, "--token-env", "LAPTOP_INGEST_TOKEN"], {
      LAPTOP_INGEST_TOKEN: "never-written-0001",
    });
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /token in LAPTOP_INGEST_TOKEN where the agent/);
    const text = await Deno.readTextFile(path);
    assert.ok(!text.includes("never-written-0001"), "the token is not written");
    const settings = JSON.parse(text);
    for (const event of CORE_HOOK_TYPES) {
      const [handler] = ours(settings, event);
      if (event === "PermissionRequest") {
        assert.deepEqual(handler.headers, {
          Authorization: "Bearer $LAPTOP_INGEST_TOKEN",
        });
        assert.deepEqual(handler.allowedEnvVars, ["LAPTOP_INGEST_TOKEN"]);
      } else {
        assert.match(
          handler.command,
          / --token-env LAPTOP_INGEST_TOKEN # hookwatch$/,
        );
      }
    }
    // The default writes no flag: what the installer writes without one.
    const named = await cli([...args, "--token-env", "HOOKWATCH_TOKEN"]);
    assert.equal(named.code, 0, named.stderr);
    assert.doesNotMatch(await Deno.readTextFile(path), /--token-env|LAPTOP/);
    const plain = await cli([...args, "--dry-run"]);
    assert.match(plain.stdout, /nothing changed/);

    for (const bad of ["1ST", "MY-TOKEN", "a b", "$X", ""]) {
      const refused = await cli([...args, "--token-env", bad]);
      assert.equal(refused.code, 2, bad);
      assert.match(
        refused.stderr,
        /--token-env NAME must be a shell variable's name/,
      );
    }
    await cli([...args, "--token-env", "LAPTOP_INGEST_TOKEN"]);
    assert.equal((await cli(["uninstall", "--project", dir])).code, 0);
    assert.equal(await exists(path), false, "uninstall found every hook");
  });
});
