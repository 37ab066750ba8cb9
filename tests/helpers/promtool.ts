/**
 * Finds Debian's `promtool` for tests. Missing: the test is ignored, unless
 * `HOOKWATCH_REQUIRE_PROMTOOL=1`, where it runs and fails saying so.
 *
 * @module
 */

function find(): string | null {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    const path = `${dir || "."}/promtool`;
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch { /* not here */ }
  }
  return null;
}

/** The promtool path, or null. */
export const PROMTOOL: string | null = find();

/** `ignore` for tests that need promtool. */
export const IGNORE_WITHOUT_PROMTOOL: boolean = PROMTOOL === null &&
  Deno.env.get("HOOKWATCH_REQUIRE_PROMTOOL") !== "1";

/** Runs promtool with `args` (and `stdin`), returning its exit code and output. */
export async function promtool(
  args: string[],
  options: { stdin?: string; cwd?: string } = {},
): Promise<{ code: number; output: string }> {
  if (PROMTOOL === null) {
    throw new Error(
      "promtool is not installed (Debian package prometheus) and HOOKWATCH_REQUIRE_PROMTOOL=1",
    );
  }
  const child = new Deno.Command(PROMTOOL, {
    args,
    cwd: options.cwd,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  return {
    code,
    output: decoder.decode(stdout) + decoder.decode(stderr),
  };
}
