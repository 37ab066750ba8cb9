/**
 * Builds the browser side: `deno bundle` of the client entry (`islands/boot.ts`) and the bucket
 * worker into `static/build/` with content-hashed names, the CSS beside them, and
 * `manifest.json` naming them for the server. Does nothing when no input changed.
 *
 * `deno task build` (add `--force` to rebuild anyway).
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { createHash } from "node:crypto";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const OUT = `${ROOT}static/build/`;
// Everything the bundles can reach (tests/house_test.ts holds them to these folders).
const INPUT_DIRS = ["common", "islands", "workers"];
const INPUT_FILES = [
  "deno.json",
  "deno.lock",
  "scripts/build.ts",
  "static/dashboard.css",
];
const ENTRIES = { boot: "islands/boot.ts", worker: "workers/bucket_worker.ts" };

interface Manifest {
  inputs: string;
  boot: string;
  worker: string;
  css: string;
}

async function* files(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(`${ROOT}${dir}`)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* files(path);
    else if (
      /\.(ts|tsx)$/.test(entry.name) && !/_test\.tsx?$/.test(entry.name)
    ) {
      yield path;
    }
  }
}

async function fingerprint(): Promise<string> {
  const paths = [...INPUT_FILES];
  for (const dir of INPUT_DIRS) for await (const p of files(dir)) paths.push(p);
  paths.sort();
  const hash = createHash("sha256").update(Deno.version.deno);
  for (const path of paths) {
    hash.update(`\0${path}\0`);
    try {
      hash.update(await Deno.readFile(`${ROOT}${path}`));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return hash.digest("hex");
}

async function readManifest(): Promise<Manifest | null> {
  try {
    return JSON.parse(await Deno.readTextFile(`${OUT}manifest.json`));
  } catch {
    return null;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

function hashed(name: string, ext: string, content: Uint8Array): string {
  const digest = createHash("sha256").update(content).digest("hex");
  return `${name}-${digest.slice(0, 16)}.${ext}`;
}

/** Writes atomically, so a server or a parallel build never reads half a file. */
async function writeAtomic(path: string, content: Uint8Array): Promise<void> {
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  await Deno.writeFile(tmp, content);
  await Deno.rename(tmp, path);
}

/** Builds when inputs changed; returns the manifest and whether it rebuilt. */
export async function build(
  options: { force?: boolean } = {},
): Promise<{ manifest: Manifest; rebuilt: boolean }> {
  const inputs = await fingerprint();
  const previous = await readManifest();
  if (
    !options.force && previous?.inputs === inputs &&
    (await Promise.all(
      [previous.boot, previous.worker, previous.css].map((f) =>
        exists(`${OUT}${f}`)
      ),
    )).every(Boolean)
  ) {
    return { manifest: previous, rebuilt: false };
  }

  await Deno.mkdir(OUT, { recursive: true });
  const tmp = await Deno.makeTempDir({ dir: OUT, prefix: ".bundle-" });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--platform=browser",
        "--minify",
        "--outdir",
        tmp,
        ENTRIES.boot,
        ENTRIES.worker,
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(
        `deno bundle failed:\n${new TextDecoder().decode(out.stderr)}`,
      );
    }
    const boot = await Deno.readFile(`${tmp}/islands/boot.js`);
    const worker = await Deno.readFile(`${tmp}/workers/bucket_worker.js`);
    const css = await Deno.readFile(`${ROOT}static/dashboard.css`);
    const manifest: Manifest = {
      inputs,
      boot: hashed("boot", "js", boot),
      worker: hashed("bucket_worker", "js", worker),
      css: hashed("dashboard", "css", css),
    };
    await writeAtomic(`${OUT}${manifest.boot}`, boot);
    await writeAtomic(`${OUT}${manifest.worker}`, worker);
    await writeAtomic(`${OUT}${manifest.css}`, css);
    await writeAtomic(
      `${OUT}manifest.json`,
      new TextEncoder().encode(JSON.stringify(manifest, null, 2) + "\n"),
    );
    // Keep this build's files and the previous build's (pages already open may still load them).
    const keep = new Set([
      "manifest.json",
      manifest.boot,
      manifest.worker,
      manifest.css,
    ]);
    if (previous) {
      [previous.boot, previous.worker, previous.css].forEach((f) =>
        keep.add(f)
      );
    }
    for await (const entry of Deno.readDir(OUT)) {
      if (
        entry.isFile && !keep.has(entry.name) && !entry.name.endsWith(".tmp")
      ) {
        await Deno.remove(`${OUT}${entry.name}`).catch(() => {});
      }
    }
    return { manifest, rebuilt: true };
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const started = performance.now();
  const { manifest, rebuilt } = await build({
    force: Deno.args.includes("--force"),
  });
  const ms = Math.round(performance.now() - started);
  console.log(
    rebuilt
      ? `build: ${manifest.boot}, ${manifest.worker}, ${manifest.css} in ${ms} ms`
      : `build: up to date (${ms} ms)`,
  );
}
