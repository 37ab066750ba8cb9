import assert from "node:assert/strict";
import { runInstaller } from "../tests/helpers/installer.ts";
import { BACKUP_SUFFIX } from "./hook_files.ts";
import { isOurs } from "./settings.ts";

// deno-lint-ignore no-explicit-any -- hook files are arbitrary JSON
type Json = any;

async function withHome(
  fn: (home: string, project: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hookwatch-install-agents-" });
  try {
    await Deno.mkdir(`${dir}/home`);
    await Deno.mkdir(`${dir}/project`);
    await fn(`${dir}/home`, `${dir}/project`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

const read = async (path: string): Promise<Json> =>
  JSON.parse(await Deno.readTextFile(path));

function handlers(file: Json, flat: boolean): [string, Json][] {
  return Object.entries(file.hooks as Record<string, Json[]>).flatMap((
    [event, list],
  ) =>
    (flat ? list : list.flatMap((g: Json) => g.hooks)).filter(isOurs).map((
      h: Json,
    ) => [event, h] as [string, Json])
  );
}

const installer = (args: string[], home: string) =>
  runInstaller(args, { env: { HOME: home, CODEX_HOME: "", COPILOT_HOME: "" } });

Deno.test("install agents - each agent's global file, events, handler shape and timeouts", async () => {
  await withHome(async (home) => {
    const cases = [
      ["codex", `${home}/.codex/hooks.json`, false, "timeout", 10],
      ["gemini", `${home}/.gemini/settings.json`, false, "timeout", 10_000],
      [
        "copilot",
        `${home}/.copilot/hooks/hookwatch.json`,
        true,
        "timeoutSec",
        10,
      ],
    ] as const;
    for (const [agent, path, flat, key, timeout] of cases) {
      const out = await installer(
        [
          "install",
          "--agent",
          agent,
          "--global",
          "--server-url",
          "http://127.0.0.1:9",
        ],
        home,
      );
      assert.equal(out.code, 0, out.stderr);
      assert.match(
        out.stdout,
        new RegExp(
          `installed hookwatch hooks for \\d+ .* events in ${path} \\(a new file\\)`,
        ),
      );
      const file = await read(path);
      const ours = handlers(file, flat);
      assert.ok(ours.length >= 6, agent);
      for (const [event, h] of ours) {
        assert.equal(h[key], timeout, `${agent} ${event}`);
        const command = h.command ?? h.bash;
        const stored = {
          codex: "codex",
          gemini: "gemini-cli",
          copilot: "copilot-cli",
        }[agent];
        assert.match(command, new RegExp(`--agent ${stored} `), command);
        assert.equal(command.includes(`--event ${event} `), flat, command);
        assert.match(
          command,
          /--server-url http:\/\/127\.0\.0\.1:9 # hookwatch$/,
        );
      }
      const events = ours.map(([e]) => e);
      if (agent === "copilot") {
        assert.equal(file.version, 1);
        assert.ok(events.includes("preToolUse"));
        assert.ok(
          !events.includes("permissionRequest"),
          "only with --decisions",
        );
        assert.ok(
          !events.some((e) => /^[A-Z]/.test(e)),
          "one casing: camelCase",
        );
      }
      if (agent === "gemini") {
        for (
          const e of [
            "BeforeModel",
            "AfterModel",
            "BeforeToolSelection",
            "PreCompress",
          ]
        ) {
          assert.ok(!events.includes(e), `${e} is not installed`);
        }
        assert.ok(
          events.includes("BeforeTool") && events.includes("AfterAgent"),
        );
      }
      const again = await installer(
        [
          "install",
          "--agent",
          agent,
          "--global",
          "--server-url",
          "http://127.0.0.1:9",
        ],
        home,
      );
      assert.match(again.stdout, /already installed .*nothing changed/);
      const off = await installer(
        ["uninstall", "--agent", agent, "--global"],
        home,
      );
      assert.equal(off.code, 0, off.stderr);
      assert.match(off.stdout, /did not exist before, so it is gone again/);
      assert.equal(await exists(path), false);
    }
  });
});

Deno.test("install agents - CODEX_HOME and COPILOT_HOME; project files; what each agent needs is said", async () => {
  await withHome(async (home, project) => {
    const env = {
      HOME: home,
      CODEX_HOME: `${home}/codex-home`,
      COPILOT_HOME: `${home}/cop`,
    };
    for (
      const [agent, path] of [["codex", `${home}/codex-home/hooks.json`], [
        "copilot",
        `${home}/cop/hooks/hookwatch.json`,
      ]]
    ) {
      const out = await runInstaller(
        ["install", "--agent", agent, "--global"],
        { env },
      );
      assert.equal(out.code, 0, out.stderr);
      assert.ok(await exists(path), path);
    }
    const notes: Record<string, RegExp> = {
      codex:
        /trust these once in Codex's \/hooks.*--dangerously-bypass-hook-trust[\s\S]*trust_level = "trusted"/,
      gemini: /trusted folder.*trustedFolders\.json/,
      copilot: /trustedFolders/,
    };
    for (
      const [agent, file] of [
        ["codex", ".codex/hooks.json"],
        ["gemini", ".gemini/settings.json"],
        ["copilot", ".github/hooks/hookwatch.json"],
      ]
    ) {
      const out = await runInstaller([
        "install",
        "--agent",
        agent,
        "--project",
        project,
      ], { env });
      assert.equal(out.code, 0, out.stderr);
      assert.ok(await exists(`${project}/${file}`), file);
      assert.match(out.stdout, notes[agent], agent);
    }
    const gemini = await runInstaller(
      ["install", "--agent", "gemini", "--global", "--decisions"],
      { env },
    );
    assert.match(gemini.stdout, /Gemini CLI has no permission-request event/);
    const bad = await runInstaller(
      ["install", "--agent", "cursor", "--global"],
      { env },
    );
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /--agent must be one of claude, codex, gemini, copilot/,
    );
  });
});

Deno.test("install agents - the user's own hooks and settings kept; uninstall gives the file back byte for byte; --dry-run writes nothing", async () => {
  await withHome(async (home) => {
    const path = `${home}/.gemini/settings.json`;
    await Deno.mkdir(`${home}/.gemini`);
    const mine = `{
    "security": { "auth": { "selectedType": "gemini-api-key" } },
    "hooks": {
        "BeforeTool": [
            { "matcher": "run_shell_command", "hooks": [{ "type": "command", "command": "guard.sh", "timeout": 500 }] }
        ]
    },
    "hooksConfig": { "notifications": false }
}
`;
    await Deno.writeTextFile(path, mine);
    const dry = await installer([
      "install",
      "--agent",
      "gemini",
      "--global",
      "--dry-run",
    ], home);
    assert.equal(dry.code, 0);
    assert.match(dry.stdout, /^\+.*# hookwatch/m);
    assert.equal(
      await Deno.readTextFile(path),
      mine,
      "a dry run writes nothing",
    );
    await installer(["install", "--agent", "gemini", "--global"], home);
    const file = await read(path);
    assert.deepEqual(file.hooksConfig, { notifications: false });
    assert.equal(file.hooks.BeforeTool[0].hooks[0].command, "guard.sh");
    assert.equal(handlers(file, false).length, 7);
    assert.equal(await Deno.readTextFile(path + BACKUP_SUFFIX), mine);
    // Reinstalled with other options: replaced, not doubled.
    const other = await installer(
      ["install", "--agent", "gemini", "--global", "--source-app", "web"],
      home,
    );
    assert.match(other.stdout, /replaced hookwatch's hooks/);
    assert.equal(handlers(await read(path), false).length, 7);
    const off = await installer(
      ["uninstall", "--agent", "gemini", "--global"],
      home,
    );
    assert.equal(off.code, 0);
    assert.equal(await Deno.readTextFile(path), mine);
  });
});

Deno.test("install agents - --decisions: Codex's PermissionRequest and Copilot's permissionRequest run the waiting sender, with room for the wait", async () => {
  await withHome(async (home) => {
    for (
      const [agent, path, event, key, flat] of [
        [
          "codex",
          `${home}/.codex/hooks.json`,
          "PermissionRequest",
          "timeout",
          false,
        ],
        [
          "copilot",
          `${home}/.copilot/hooks/hookwatch.json`,
          "permissionRequest",
          "timeoutSec",
          true,
        ],
      ] as const
    ) {
      const out = await installer(
        [
          "install",
          "--agent",
          agent,
          "--global",
          "--decisions",
          "--decision-wait",
          "30",
        ],
        home,
      );
      assert.equal(out.code, 0, out.stderr);
      const ours = handlers(await read(path), flat);
      const decide = ours.filter(([e]) => e === event).map(([, h]) => h);
      assert.equal(decide.length, 1, `${agent}: one ${event} hook`);
      assert.equal(decide[0][key], 40);
      assert.match(decide[0].command ?? decide[0].bash, / --decide --wait 30 /);
      const rest = ours.filter(([e]) => e !== event);
      assert.ok(rest.every(([, h]) => !/--decide/.test(h.command ?? h.bash)));
    }
  });
});

Deno.test("install agents - --token-env NAME reaches every agent's hook command, and uninstall still finds them", async () => {
  await withHome(async (home) => {
    for (
      const [agent, path, flat] of [
        ["codex", `${home}/.codex/hooks.json`, false],
        ["gemini", `${home}/.gemini/settings.json`, false],
        ["copilot", `${home}/.copilot/hooks/hookwatch.json`, true],
      ] as const
    ) {
      const args = ["--agent", agent, "--global", "--decisions"];
      const out = await installer(
        ["install", ...args, "--token-env", "MY_INGEST"],
        home,
      );
      assert.equal(out.code, 0, out.stderr);
      const ours = handlers(await read(path), flat);
      assert.ok(ours.length >= 6, agent);
      for (const [event, h] of ours) {
        assert.match(
          h.command ?? h.bash,
          / --token-env MY_INGEST # hookwatch$/,
          `${agent} ${event}`,
        );
      }
      const gone = await installer(["uninstall", ...args], home);
      assert.equal(gone.code, 0, gone.stderr);
      assert.equal(await exists(path), false, `${agent}: every hook removed`);
    }
  });
});

Deno.test("install agents - --agent claude writes exactly what the installer writes without --agent", async () => {
  await withHome(async (home, project) => {
    const plain = await installer([
      "install",
      "--project",
      project,
      "--dry-run",
    ], home);
    const claude = await installer(
      ["install", "--agent", "claude", "--project", project, "--dry-run"],
      home,
    );
    assert.equal(claude.code, 0);
    assert.equal(claude.stdout, plain.stdout);
    assert.match(plain.stdout, /settings\.local\.json/);
  });
});
