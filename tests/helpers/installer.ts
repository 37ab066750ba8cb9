/**
 * Runs the hook installer's command line (`hooks/install.ts`) as a user would, in a process of
 * its own, with the developer's own hookwatch settings blanked.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

const INSTALLER = fileURLToPath(
  new URL("../../hooks/install.ts", import.meta.url),
);

/** What one installer run printed, and its exit code. */
export interface InstallerRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `deno run hooks/install.ts ...args` in `cwd` (default: the hookwatch checkout, as `deno
 * task` runs it). `net`: with `--allow-net`, so the installer asks the server (as
 * `deno task hooks:install` does).
 */
export async function runInstaller(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; net?: boolean } = {},
): Promise<InstallerRun> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      ...(options.net ? ["--allow-net"] : []),
      INSTALLER,
      ...args,
    ],
    cwd: options.cwd ?? fileURLToPath(new URL("../../", import.meta.url)),
    env: {
      NO_COLOR: "1",
      HOOKWATCH_URL: "",
      HOOKWATCH_TOKEN: "",
      PORT: "",
      ...options.env,
    },
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}
