import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const COPIED = [
  "common",
  "islands",
  "workers",
  "scripts/build.ts",
  "static/dashboard.css",
  "deno.json",
  "deno.lock",
];

async function copy(from: string, to: string): Promise<void> {
  const info = await Deno.stat(from);
  if (!info.isDirectory) return await Deno.copyFile(from, to);
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    await copy(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}

async function runBuild(dir: string): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "scripts/build.ts"],
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) +
    new TextDecoder().decode(out.stderr);
  assert.ok(out.success, text);
  return text;
}

Deno.test("build - hashed bundles and a manifest; a second run with no change does nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hookwatch-build-" });
  try {
    await Deno.mkdir(`${dir}/scripts`);
    await Deno.mkdir(`${dir}/static`);
    for (const path of COPIED) await copy(`${ROOT}${path}`, `${dir}/${path}`);

    assert.match(await runBuild(dir), /build: boot-/);
    const manifest = JSON.parse(
      await Deno.readTextFile(`${dir}/static/build/manifest.json`),
    );
    for (const key of ["boot", "worker", "css"]) {
      const content = await Deno.readFile(
        `${dir}/static/build/${manifest[key]}`,
      );
      const digest = createHash("sha256").update(content).digest("hex");
      assert.ok(
        manifest[key].includes(digest.slice(0, 16)),
        `${manifest[key]} carries its content hash`,
      );
    }
    const boot = await Deno.readTextFile(
      `${dir}/static/build/${manifest.boot}`,
    );
    assert.doesNotMatch(
      boot,
      /renderToString/,
      "no server renderer in the client",
    );

    assert.match(await runBuild(dir), /up to date/);

    await Deno.writeTextFile(
      `${dir}/islands/format.ts`,
      "\nexport const touched = 1;\n",
      { append: true },
    );
    assert.match(await runBuild(dir), /build: boot-/);
    const next = JSON.parse(
      await Deno.readTextFile(`${dir}/static/build/manifest.json`),
    );
    assert.notEqual(next.inputs, manifest.inputs);
    // The previous bundle stays for pages still open.
    await Deno.stat(`${dir}/static/build/${manifest.boot}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
