/**
 * Runs the hook sender the way Claude Code runs a command hook (a real subprocess, the hook's
 * JSON on stdin) and reads what it left in its spool, for the end-to-end sender tests.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

const SENDER = fileURLToPath(
  new URL("../../hooks/send_event.ts", import.meta.url),
);
const FIXTURES = fileURLToPath(
  new URL("../fixtures/hooks/", import.meta.url),
);

/**
 * Where a test needs the server to answer, a busy CI machine must not turn a slow answer into
 * a spooled event: these runs get more time (the default bound is tested with the server down
 * and hanging).
 */
export const PATIENT = {
  HOOKWATCH_TIMEOUT_MS: "5000",
  HOOKWATCH_DEADLINE_MS: "10000",
};

/** One finished run of the sender. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** A recorded Claude Code hook input from `tests/fixtures/hooks/`. */
export async function fixture(type: string): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(`${FIXTURES}${type}.json`));
}

/**
 * Runs `hooks/send_event.ts` as Claude Code would, `input` on stdin; the developer's own
 * hookwatch settings are blanked so they cannot leak in.
 */
export async function runSender(
  input: string | Record<string, unknown>,
  args: string[],
  env: Record<string, string>,
): Promise<Run> {
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-config",
      "--quiet",
      "--allow-net",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      SENDER,
      ...args,
    ],
    // Empty values count as unset, so the developer's own settings cannot leak in.
    env: {
      HOOKWATCH_URL: "",
      HOOKWATCH_SOURCE_APP: "",
      HOOKWATCH_TOKEN: "",
      NO_COLOR: "1",
      ...env,
    },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(
    new TextEncoder().encode(
      typeof input === "string" ? input : JSON.stringify(input),
    ),
  );
  await writer.close();
  const out = await child.output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
    ms: performance.now() - started,
  };
}

/** The lines in the spool's files (claimed ones too); none when there is no spool. */
export async function spoolLines(dir: string): Promise<string[]> {
  const lines: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!/^(spool|replay)-.*\.ndjson$/.test(entry.name)) continue;
      const text = await Deno.readTextFile(`${dir}/${entry.name}`);
      lines.push(...text.split("\n").filter((line) => line !== ""));
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return lines;
}
