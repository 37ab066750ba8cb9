/**
 * `deno task hooks:status` (or `hookwatch-hook status`): how the hook sender's deliveries go,
 * per server it has sent to, from the status files it keeps in the spool directory
 * (`status_file.ts`): the URL, the events spooled, the last delivery, the last error in words.
 *
 * Exit status: 0 when all is well (nothing spooled, no server's last attempt failed; also when
 * no hook has run yet), 1 when something is spooled or a server's last attempt failed, 2 for a
 * usage error. So `deno task hooks:status >/dev/null || …` works in scripts.
 *
 * @module
 */

import { spoolDir } from "./config.ts";
import {
  countSpooled,
  type DeliveryStatus,
  readStatuses,
} from "./status_file.ts";

const USAGE = `usage: deno task hooks:status [--json]
  Prints, per hookwatch server the hook sender has sent to: the URL, the events spooled, the
  last delivery and the last error. Spool: HOOKWATCH_SPOOL_DIR, else $XDG_STATE_HOME/hookwatch,
  else ~/.local/state/hookwatch.
  --json   the status files and the spool's count as JSON
Exit status: 0 all is well (or no hook has run yet), 1 events are spooled or a server's last
attempt failed, 2 usage error.
`;

/** "12 s ago", "3 min ago", with the time itself. */
function ago(iso: string, now: number): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  const age = s < 60
    ? `${s} s`
    : s < 3600
    ? `${Math.floor(s / 60)} min`
    : s < 86_400
    ? `${Math.floor(s / 3600)} h`
    : `${Math.floor(s / 86_400)} d`;
  return `${age} ago (${iso})`;
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? "" : "s"}`;
}

function serverBlock(status: DeliveryStatus, now: number): string {
  const failing = status.last_error !== null;
  const lines = [
    `${status.server_url} — ${failing ? "FAILING" : "ok"}`,
    `  spooled        ${
      plural(status.spooled, "event")
    } (at the sender's last attempt)`,
    `  last delivery  ${
      status.last_delivery ? ago(status.last_delivery, now) : "never"
    }`,
  ];
  if (status.last_error) {
    lines.push(
      `  last error     ${status.last_error.message}`,
      `                 ${ago(status.last_error.at, now)}`,
    );
  } else {
    lines.push("  last error     none");
  }
  return lines.join("\n");
}

/** The report for the spool directory `dir` and its exit status. */
export async function statusReport(
  dir: string,
  now = Date.now(),
): Promise<
  { text: string; code: number; spooled: number; servers: DeliveryStatus[] }
> {
  const [servers, spooled] = await Promise.all([
    readStatuses(dir),
    countSpooled(dir),
  ]);
  const failing = servers.filter((s) => s.last_error !== null);
  const code = spooled > 0 || failing.length > 0 ? 1 : 0;
  const head = `hookwatch hook sender — spool ${dir}: ${
    spooled === 0
      ? "nothing spooled"
      : `${
        plural(spooled, "event")
      } spooled, replayed after the next successful delivery`
  }`;
  if (servers.length === 0) {
    return {
      text:
        `${head}\nno delivery recorded yet: no hook has run the sender with this spool. ` +
        "Run the agent once; if this stays empty, check that the hooks are installed " +
        "(deno task hooks:install --project DIR | --global).\n",
      code,
      spooled,
      servers,
    };
  }
  const blocks = servers.map((status) => serverBlock(status, now));
  return {
    text: `${head}\n\n${blocks.join("\n\n")}\n`,
    code,
    spooled,
    servers,
  };
}

/** The command line; returns the exit status. */
export async function main(args: string[]): Promise<number> {
  const unknown = args.filter((a) => a !== "--json" && a !== "status");
  if (args.includes("--help") || args.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  if (unknown.length > 0) {
    console.error(`unknown argument ${unknown[0]}\n${USAGE}`);
    return 2;
  }
  const dir = spoolDir((name) => Deno.env.get(name));
  if (!dir) {
    console.error("hookwatch status: set HOME or HOOKWATCH_SPOOL_DIR");
    return 2;
  }
  const report = await statusReport(dir);
  if (args.includes("--json")) {
    console.log(JSON.stringify(
      { spool: dir, spooled: report.spooled, servers: report.servers },
      null,
      2,
    ));
  } else {
    console.log(report.text.trimEnd());
  }
  return report.code;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
