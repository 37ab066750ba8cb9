/**
 * The documentation cannot drift from the code: every route the app serves is in docs/API.md,
 * every environment variable the product code reads is in docs/CONFIGURATION.md, every
 * markdown table of the repository renders, every relative link resolves, and the README stays
 * a front door. In-process and fast: the routes come from the app itself, the variables from a
 * scan of the source (checked against what `loadConfig` really reads).
 */
import assert from "node:assert/strict";
import { createApp } from "../app.ts";
import { loadConfig } from "../lib/base/config.ts";
import { createHookwatch } from "../lib/hookwatch.ts";
import { SqliteStore } from "../lib/store/sqlite_store.ts";
import { poolSizeFromEnv } from "../lib/store/postgres_store.ts";
import { setupMetrics } from "../otel/setup.ts";
import { ROOT } from "./helpers/server.ts";
import {
  brokenLinks,
  envReads,
  envReadsInShell,
  envReadsInTs,
  markdownFiles,
  normaliseRoute,
  routesNamed,
  tableCells,
  tableProblems,
} from "./helpers/docs.ts";

const read = (file: string) => Deno.readTextFileSync(`${ROOT}${file}`);
let scanned: Map<string, string[]> | null = null;
/** The product code's environment reads, scanned once for all tests. */
const codeReads = () => scanned ??= envReads();

/** Every route the app serves, as `METHOD /path` with its parameters normalised. */
async function servedRoutes(): Promise<Set<string>> {
  // A token mounts the sign-in routes; metrics (even turned off) mount /metrics and the
  // dashboards' reports: the app with every route group it can have.
  const config = loadConfig({
    HOOKWATCH_TOKEN: "docs-test-token",
    HOOKWATCH_METRICS: "off",
  });
  const hw = createHookwatch(config, SqliteStore.open(":memory:"), {
    sweep: false,
  });
  try {
    const metrics = setupMetrics(config, {
      streamStats: () => hw.broadcaster.stats(),
    });
    const app = createApp(hw, metrics);
    return new Set(
      app.routes.filter((r) => r.method !== "ALL").map((r) =>
        normaliseRoute(r.method, r.path)
      ),
    );
  } finally {
    await hw.close();
  }
}

Deno.test("docs - every route the app serves is in docs/API.md, and API.md names no other", async () => {
  const served = await servedRoutes();
  // The lean ingest routes are mounted ahead of the chain; the app's own list has them.
  for (
    const route of [
      "POST /events",
      "POST /events/batch",
      "POST /hooks/:param",
      "POST /inbox/:param/decision",
      "GET /login",
      "GET /metrics",
    ]
  ) assert.ok(served.has(route), `the app should serve ${route}`);
  const documented = routesNamed(read("docs/API.md"));
  const missing = [...served].filter((r) => !documented.has(r));
  assert.deepEqual(missing, [], `routes missing from docs/API.md`);
  const gone = [...documented].filter((r) => !served.has(r));
  assert.deepEqual(gone, [], `docs/API.md names routes the app does not serve`);
});

Deno.test("docs - the route matcher reads every way a page writes a route", () => {
  const named = routesNamed(
    "`POST /hooks/:source_app/decide`, POST /hooks/<app>/decide?wait=5, " +
      "| `GET /inbox/{id}` | and `GET /events/recent?limit=5`; GET /",
  );
  assert.deepEqual([...named].sort(), [
    "GET /",
    "GET /events/recent",
    "GET /inbox/:param",
    "POST /hooks/:param/decide",
  ]);
});

Deno.test("docs - the environment scanner finds every form the code reads a variable in", () => {
  // Each form on its own (a file with a computed read, env[variable], would catch the
  // literals of the others anyway).
  const forms: [string, string[]][] = [
    ["const a = env.DIRECT_READ?.trim();", ["DIRECT_READ"]],
    ["const b = env?.OPTIONAL_READ;", ["OPTIONAL_READ"]],
    ['const c = env["INDEXED_READ"];', ["INDEXED_READ"]],
    ['const d = Deno.env.get("DENO_GET_READ");', ["DENO_GET_READ"]],
    ["const e = ctx.env(\"GETTER_READ\") ?? env('QUOTED');", [
      "GETTER_READ",
      "QUOTED",
    ]],
    ['integer(env, "HELPER_READ", 15_000, 100, 3_600_000);', ["HELPER_READ"]],
    [
      'const g = (v: string) => env[v]; g("CLOSURE_READ");',
      ["CLOSURE_READ"],
    ],
    [
      'const v = f ? "TERNARY_READ" : "OTHER_READ"; env[v];',
      ["OTHER_READ", "TERNARY_READ"],
    ],
    ["// env.IN_A_COMMENT is not a read", []],
    ["/* env.IN_A_BLOCK */ const j = env.AFTER_A_BLOCK;", ["AFTER_A_BLOCK"]],
    [
      'const u = "http://x//y"; const re = /["\'\\`]/; // env.AFTER_A_REGEX\nenv.NEXT_LINE;',
      ["NEXT_LINE"],
    ],
    ['const s = "NOT_A_READ"; const t = env.ONLY_THIS;', ["ONLY_THIS"]],
  ];
  for (const [source, names] of forms) {
    assert.deepEqual([...envReadsInTs(source)].sort(), names, source);
  }
  assert.deepEqual(
    [
      ...envReadsInShell(
        "url=${HOOKWATCH_URL:-x}\n# $IN_A_COMMENT\nd=$HOME/.x ${XDG_STATE_HOME:?}\nlocal=$lower",
      ),
    ].sort(),
    ["HOME", "HOOKWATCH_URL", "XDG_STATE_HOME"],
  );

  // In the real code: each form's known cases, the sender's settings among them.
  const reads = codeReads();
  for (
    const name of [
      "STREAM_HEARTBEAT_MS", // integer(env, …) in lib/base/config.ts
      "BODY_TIMEOUT_MS",
      "STREAM_MAX_CLIENTS",
      "STREAM_MAX_CLIENTS_PER_IP",
      "HOST", // env.HOST
      "DATABASE_POOL_SIZE", // lib/store/postgres_store.ts
      "HOOKWATCH_STALE_AFTER", // a local helper: duration("…", …)
      "OTEL_EXPORTER_OTLP_PROTOCOL", // a name held in a variable, env[variable]
      "OTEL_METRIC_EXPORT_TIMEOUT", // positiveMs(env, …) in otel/setup.ts
      "HOOKWATCH_URL", // env("…") in hooks/, ${…} in hooks/hook.sh
      "HOOKWATCH_SOURCE_APP", // ctx.env("…")
      "HOOKWATCH_SPOOL_DIR",
      "HOOKWATCH_TOKEN",
      "HOOKWATCH_DEADLINE_MS",
      "CLAUDE_CONFIG_DIR", // hooks/hook.sh only
    ]
  ) assert.ok(reads.has(name), `the scanner misses ${name}`);

  // And everything the configuration loaders really read, whatever their form.
  const touched = new Set<string>();
  const recorder = () =>
    new Proxy({} as Record<string, string | undefined>, {
      get(_target, key) {
        if (typeof key === "string") touched.add(key);
        return undefined;
      },
    });
  loadConfig(recorder());
  poolSizeFromEnv(recorder());
  assert.ok(touched.size >= 35, `the loaders read only ${touched.size}`);
  const unseen = [...touched].filter((name) => !reads.has(name));
  assert.deepEqual(unseen, [], "read by the loaders, missed by the scanner");
});

/** Read through `Deno.env` but not settings: the shell's own working directory. */
const NOT_SETTINGS = new Set(["PWD"]);
/**
 * Read on hookwatch's behalf by code that is not in this repository: the OpenTelemetry
 * exporter and resource detectors `otel/setup.ts` uses, and `deno compile` (`hooks:compile`).
 */
const READ_FOR_US = [
  "OTEL_EXPORTER_OTLP_HEADERS",
  "OTEL_EXPORTER_OTLP_TIMEOUT",
  "OTEL_EXPORTER_OTLP_COMPRESSION",
  "OTEL_SERVICE_NAME",
  "OTEL_RESOURCE_ATTRIBUTES",
  "DENORT_BIN",
];

/** The variables a page's tables name in their first column. */
function tableNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split("\n")) {
    if (!line.startsWith("|")) continue;
    for (const m of tableCells(line)[0].matchAll(/`([A-Z][A-Z0-9_]+)`/g)) {
      names.add(m[1]);
    }
  }
  return names;
}

Deno.test("docs - every setting the code reads is in docs/CONFIGURATION.md, and it lists no other", () => {
  const reads = codeReads();
  const page = read("docs/CONFIGURATION.md");
  const listed = tableNames(page);
  const missing = [...reads.keys(), ...READ_FOR_US].filter((name) =>
    !NOT_SETTINGS.has(name) && !listed.has(name)
  ).map((name) => `${name} (${reads.get(name)?.join(", ") ?? "read for us"})`);
  assert.deepEqual(
    missing,
    [],
    "read by the code, not in a table of docs/CONFIGURATION.md",
  );
  const stale = [...listed].filter((name) =>
    !reads.has(name) && !READ_FOR_US.includes(name)
  );
  assert.deepEqual(stale, [], "in docs/CONFIGURATION.md, read by nothing");
});

Deno.test("docs - the table checker knows what GitHub renders", () => {
  const table = "| a | b |\n| - | - |\n";
  assert.deepEqual(tableProblems(table + "| `x \\| y` | z |\n"), []);
  assert.deepEqual(tableCells('| `{"behavior": "allow" \\| "deny"}` | ok |'), [
    '`{"behavior": "allow" \\| "deny"}`',
    "ok",
  ]);
  // A bare pipe in a code span splits the cell on GitHub.
  assert.equal(tableProblems(table + "| `x | y` | z |\n").length, 1);
  // The README's old decision row: a table row with no header or delimiter.
  assert.equal(
    tableProblems("text\n\n| `POST /x` | what\nmore words |\n").length,
    1,
  );
  // A stray delimiter row in the middle of a table.
  assert.equal(tableProblems(table + "| 1 | 2 |\n| --- | --- |\n").length, 1);
  // Text right under a table becomes one more row.
  assert.equal(tableProblems(table + "| 1 | 2 |\nnot a row\n").length, 1);
  assert.equal(tableProblems("| a | b |\n| - | - | - |\n").length, 1);
  assert.equal(tableProblems("a | b\n--- | ---\n").length, 1);
  // Tables in code blocks are code.
  assert.deepEqual(tableProblems("```\n| a |\n```\n"), []);
});

Deno.test("docs - every markdown table in the repository renders (header, delimiter row, whole rows)", () => {
  const files = markdownFiles();
  assert.ok(files.includes("README.md") && files.includes("docs/API.md"));
  const problems = files.flatMap((file) =>
    tableProblems(read(file)).map((p) => `${file} ${p}`)
  );
  assert.deepEqual(problems, []);
});

Deno.test("docs - every relative link of every markdown file resolves, anchors included", () => {
  const broken = markdownFiles().flatMap((file) =>
    brokenLinks(file, read(file))
  );
  assert.deepEqual(broken, []);
  assert.deepEqual(
    brokenLinks("docs/X.md", "[a](API.md#no-such-heading) [b](../nothing.md)")
      .length,
    2,
  );
});

Deno.test("docs - the README is a front door: short, the two commands, the quick start, the pages", () => {
  const readme = read("README.md");
  const lines = readme.split("\n").length;
  assert.ok(
    lines <= 300,
    `README.md has ${lines} lines; the rest goes to docs/`,
  );
  for (
    const must of [
      "deno task start",
      "deno task test",
      "npx -y deno@2.9.6 task start",
      "deno task hooks:install --project ",
      "deno task hooks:status",
      "HOOKWATCH_TOKEN",
      "](docs/dashboard.png)",
      "## Other agents",
    ]
  ) assert.ok(readme.includes(must), `README.md should say ${must}`);
  for (
    const page of [
      "docs/API.md",
      "docs/CONFIGURATION.md",
      "docs/REDACTION.md",
      "docs/DECISIONS.md",
      "docs/REPLICAS.md",
      "docs/TELEMETRY.md",
      "docs/RUNBOOK.md",
      "BENCHMARKS.md",
    ]
  ) assert.ok(readme.includes(`](${page})`), `README.md should link ${page}`);
});
