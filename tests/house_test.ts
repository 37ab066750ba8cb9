/**
 * The house rules, checked on the imports themselves (docs/ARCHITECTURE.md draws them):
 * code the browser runs never reaches server-only code, the domain never imports HTTP or the
 * OpenTelemetry SDK, and no two folders import each other, directly or round a loop.
 */
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
/** Folders of application code; tests, benchmarks, scripts and hooks/ sit outside the rules. */
const APP = [
  "common",
  "lib",
  "otel",
  "routes",
  "islands",
  "workers",
  "components",
];
const TOP = ["app.ts", "main.ts"];
const BROWSER = ["common", "islands", "workers"];
/** The npm packages code running in the browser may use. */
const BROWSER_PACKAGES = /^(preact|preact\/.*|@preact\/signals)$/;

interface Source {
  path: string;
  imports: string[];
}

const STATIC = /^\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/gms;
const BARE = /^\s*import\s*["']([^"']+)["']/gm;
const DYNAMIC = /\bimport\(\s*["']([^"']+)["']\s*\)/g;

/** The specifiers a module imports: static, side-effect and dynamic. */
export function importsOf(text: string): string[] {
  return [STATIC, BARE, DYNAMIC].flatMap((re) =>
    [...text.matchAll(re)].map((m) => m[1])
  );
}

async function walk(dir: string, out: string[]): Promise<void> {
  for await (const entry of Deno.readDir(join(ROOT, dir))) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) await walk(path, out);
    else if (/\.tsx?$/.test(entry.name)) out.push(path);
  }
}

async function sources(): Promise<Source[]> {
  const paths = [...TOP];
  for (const dir of APP) await walk(dir, paths);
  return await Promise.all(
    paths.filter((p) => !/_test\.tsx?$/.test(p)).map(async (path) => ({
      path,
      imports: importsOf(await Deno.readTextFile(join(ROOT, path))),
    })),
  );
}

/** A relative specifier as a repository path; other specifiers unchanged. */
function resolve(from: string, spec: string): string {
  return spec.startsWith(".") ? normalize(join(dirname(from), spec)) : spec;
}

function folderOf(path: string): string {
  const dir = dirname(path);
  return dir === "." ? "(top)" : dir;
}

function within(path: string, folders: string[]): boolean {
  return folders.some((f) => path === f || path.startsWith(`${f}/`));
}

const all = await sources();

Deno.test("house - code the browser runs imports no node:*, no server folder and no server package", () => {
  const broken: string[] = [];
  for (const { path, imports } of all) {
    if (!within(path, BROWSER)) continue;
    for (const spec of imports) {
      const target = resolve(path, spec);
      const ok = spec.startsWith(".")
        ? within(target, BROWSER) && (!within(path, ["common"]) ||
          within(target, ["common"]))
        : BROWSER_PACKAGES.test(spec);
      if (!ok) broken.push(`${path} imports ${spec}`);
    }
  }
  assert.deepEqual(broken, []);
});

Deno.test("house - the domain (lib/) never imports routes/, otel/, Hono, pages or the entry points", () => {
  const broken = all.filter(({ path }) => within(path, ["lib"])).flatMap((
    { path, imports },
  ) =>
    imports.map((spec) => resolve(path, spec))
      .filter((target) =>
        within(target, [
          "routes",
          "otel",
          "components",
          "islands",
          "workers",
        ]) ||
        TOP.includes(target)
      )
      .map((target) => `${path} imports ${target}`)
  );
  assert.deepEqual(broken, []);
});

/** Folder → folders it imports (relative imports of non-test modules). */
function folderEdges(): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>();
  for (const { path, imports } of all) {
    const from = folderOf(path);
    for (const spec of imports) {
      if (!spec.startsWith(".")) continue;
      const to = folderOf(resolve(path, spec));
      if (to === from) continue;
      if (!edges.has(from)) edges.set(from, new Set());
      edges.get(from)!.add(to);
    }
  }
  return edges;
}

Deno.test("house - no two folders import each other, directly or round a loop", () => {
  const edges = folderEdges();
  const cycles: string[] = [];
  const state = new Map<string, "open" | "done">();
  const visit = (node: string, trail: string[]) => {
    if (state.get(node) === "done") return;
    if (state.get(node) === "open") {
      cycles.push([...trail.slice(trail.indexOf(node)), node].join(" → "));
      return;
    }
    state.set(node, "open");
    for (const next of edges.get(node) ?? []) visit(next, [...trail, node]);
    state.set(node, "done");
  };
  for (const node of edges.keys()) visit(node, []);
  assert.deepEqual(cycles, []);
  assert.ok(edges.get("lib")?.has("lib/store"), "the graph was read");
});

Deno.test("house - the bundle entries reach only common/, islands/, workers/ and preact", async () => {
  for (const entry of ["islands/boot.ts", "workers/bucket_worker.ts"]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", entry],
      cwd: ROOT,
      stdout: "piped",
      stderr: "inherit",
    }).output();
    assert.ok(out.success, `deno info ${entry}`);
    const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      modules: { specifier: string }[];
    };
    const local = graph.modules.map((m) => m.specifier)
      .filter((s) => s.startsWith("file:"))
      .map((s) => relative(ROOT, fileURLToPath(s)));
    assert.ok(local.includes(entry));
    assert.deepEqual(
      local.filter((p) => !within(p, BROWSER)),
      [],
      `${entry} reaches server code`,
    );
    assert.deepEqual(
      graph.modules.map((m) => m.specifier).filter((s) =>
        s.startsWith("node:")
      ),
      [],
      `${entry} reaches node:*`,
    );
  }
});

Deno.test("house - docs/ARCHITECTURE.md draws the folder imports there are, arrow for arrow", async () => {
  const doc = await Deno.readTextFile(join(ROOT, "docs/ARCHITECTURE.md"));
  const graph = /```mermaid\n([\s\S]*?)```/.exec(doc)?.[1] ?? "";
  const drawn = new Set(
    [...graph.matchAll(/^\s*(\w+)(?:\[[^\]]*\])?\s*-->\s*(\w+)/gm)]
      .map((m) => `${m[1]} --> ${m[2]}`),
  );
  // Node ids are folder names with "_" for "/"; main.ts and app.ts are "top". Imports of
  // common/ (and its folders) are left out of the picture except from the browser folders;
  // from outside lib/, any lib folder is drawn as lib.
  const id = (folder: string) =>
    folder === "(top)" ? "top" : folder.replaceAll("/", "_");
  // common/'s own folders (common/adapters/) are drawn as common.
  const common = (folder: string) =>
    within(folder, ["common"]) ? "common" : folder;
  const actual = new Set<string>();
  for (const [source, tos] of folderEdges()) {
    const from = common(source);
    for (const to of new Set([...tos].map(common))) {
      if (to === from) continue;
      if (to === "common" && !BROWSER.includes(from)) continue;
      const target = within(to, ["lib"]) && !within(from, ["lib"]) ? "lib" : to;
      actual.add(`${id(from)} --> ${id(target)}`);
    }
  }
  assert.deepEqual([...drawn].sort(), [...actual].sort());
});

/** Every source file of the repository outside tests/, bench/ and what is built or stored. */
async function allSources(dir = ""): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(join(ROOT, dir))) {
    const path = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory) {
      if (!LONG_FILES_EXEMPT.has(path)) found.push(...await allSources(path));
    } else if (/\.(ts|tsx|mjs|js|sh)$/.test(entry.name)) {
      found.push(path);
    }
  }
  return found;
}
const LONG_FILES_EXEMPT = new Set([
  "tests",
  "bench",
  "node_modules",
  "data",
  "static/build",
  ".git",
]);

Deno.test("house - no source file outside tests/ and bench/ is over 450 lines", async () => {
  const long: string[] = [];
  for (const path of await allSources()) {
    const text = await Deno.readTextFile(join(ROOT, path));
    const lines = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
    if (lines > 450) long.push(`${path}: ${lines} lines`);
  }
  assert.deepEqual(long, [], "split these by what they own");
});
