/**
 * The hookwatch hook sender's entry point: Claude Code runs it as a command hook with the hook's
 * JSON on stdin; it posts the event to hookwatch and exits 0, always, within a hard bound,
 * printing nothing on stdout (Claude Code reads some hooks' stdout as a decision). An event it
 * cannot deliver is spooled and replayed, in order, after the next successful send.
 *
 * Usage: `send_event.ts [--source-app NAME] [--server-url URL] [--event-type TYPE] [--add-chat]`
 * with the hook's JSON on stdin; `--decide --wait S --agent NAME [--event NAME]` to hold a
 * permission request for a person and print the agent's answer (`decide.ts`; the one path that
 * prints anything); `--drain --run DIR --server-url URL` to deliver the hook inputs
 * that `hook.sh` wrote to the spool's inbox (how the installed hooks run it: detached, after
 * Claude Code has moved on; see `drain.ts`); `send_event.ts install|uninstall [...]` for the
 * installer (see `install.ts`); or `send_event.ts status` for the delivery status (`status.ts`).
 *
 * This module owns the command line: which path runs, the hard deadline, the signal, and the
 * one-event path from stdin. Flags and environment are `config.ts`'s, the event and the HTTP
 * side `delivery.ts`'s, the spool's use `replay.ts`'s, the status file `status_file.ts`'s.
 * Start-up time is most of the hook's
 * cost, so only the modules every run needs are imported at load time; the spool, drain,
 * transcript, installer and status modules are imported only on the paths that need them.
 *
 * @module
 */

import {
  DEFAULT_DEADLINE_MS,
  hasSpooled,
  log,
  parseFlags,
  positiveInt,
  type SendContext,
  serverUrlOf,
  spoolDir,
  spoolMaxBytes,
} from "./config.ts";
import { prepare, Sender } from "./delivery.ts";
import { countSpooled, recordStatus } from "./status_file.ts";

/** Runs one hook invocation. Never throws for a delivery problem; the caller exits 0. */
export async function sendEvent(ctx: SendContext): Promise<void> {
  const flags = parseFlags(ctx.args);
  const event = await prepare(ctx.stdin, flags, ctx);
  if (!event) return;
  const maxBytes = spoolMaxBytes(ctx.env);
  const sender = new Sender(serverUrlOf(flags, ctx.env), ctx, flags);
  const dir = spoolDir(ctx.env);
  const post = () =>
    sender.post(
      "/events",
      JSON.stringify(event),
      Math.min(sender.timeoutMs, sender.remainingMs() - 50),
    );
  let result = await post();
  if (result.detail.startsWith("413") && event.chat) {
    log(
      "the event with its transcript is over the server's limit; sent without it",
    );
    delete event.chat;
    result = await post();
  }
  if (result.outcome === "rejected") {
    log(`the server refused the event: ${result.detail}`);
  }
  if (!dir) {
    if (result.outcome === "retry") {
      log(
        `could not deliver the event (${result.detail}) and there is no spool directory`,
      );
    }
    return;
  }
  if (result.outcome === "retry") {
    const { spoolEvent } = await import("./replay.ts");
    await spoolEvent(dir, maxBytes, event);
  } else if (result.outcome === "stored") {
    if (!await hasSpooled(dir)) {
      await recordStatus(dir, sender, 0);
      return;
    }
    const { replay } = await import("./replay.ts");
    await replay(sender, dir, maxBytes);
  }
  await recordStatus(dir, sender, await countSpooled(dir));
}

async function main(): Promise<void> {
  const startedAt = performance.now();
  const command = Deno.args[0];
  if (command === "install" || command === "uninstall") {
    const { main: installMain } = await import("./install.ts");
    Deno.exit(await installMain(Deno.args));
  }
  if (command === "status") {
    const { main: statusMain } = await import("./status.ts");
    Deno.exit(await statusMain(Deno.args.slice(1)));
  }
  const env = (name: string) => {
    try {
      return Deno.env.get(name);
    } catch {
      return undefined;
    }
  };
  const { drain: draining, run, decide: deciding, wait } = parseFlags(
    Deno.args,
  );
  const drainer = draining && run ? await import("./drain.ts") : null;
  const decider = deciding ? await import("./decide.ts") : null;
  const deadline = setTimeout(
    async () => {
      if (drainer && run) await drainer.releaseRun(run);
      Deno.exit(0);
    },
    // A held decision waits for a person; everything else is bounded tightly.
    decider
      ? decider.decideWaitS(wait) * 1000 + 2 * decider.DECIDE_SLACK_MS
      : positiveInt(env("HOOKWATCH_DEADLINE_MS"), DEFAULT_DEADLINE_MS),
  );
  Deno.unrefTimer(deadline);
  if (drainer && run) {
    // The hook ignores SIGTERM (Claude Code's cancel) and so would this process: listen
    // instead, let go of the run directory and exit; what is left in the inbox stays there.
    Deno.addSignalListener("SIGTERM", async () => {
      await drainer.releaseRun(run);
      Deno.exit(0);
    });
  }
  try {
    if (drainer && run) {
      await drainer.drain({ args: Deno.args, env, stdin: "", startedAt }, run);
    } else if (decider) {
      const stdin = await new Response(Deno.stdin.readable).text();
      const answer = await decider.decide({
        args: Deno.args,
        env,
        stdin,
        startedAt,
        deadlineMs: decider.decideWaitS(wait) * 1000 +
          2 * decider.DECIDE_SLACK_MS,
      });
      // The agent's answer, the only thing this sender ever prints.
      if (answer) await writeAll(`${answer}\n`);
    } else {
      const stdin = await new Response(Deno.stdin.readable).text();
      await sendEvent({ args: Deno.args, env, stdin, startedAt });
    }
  } catch (error) {
    log(`unexpected error: ${(error as Error).stack ?? error}`);
  }
  Deno.exit(0);
}

async function writeAll(text: string): Promise<void> {
  const bytes = new TextEncoder().encode(text);
  for (let at = 0; at < bytes.length;) {
    at += await Deno.stdout.write(bytes.subarray(at));
  }
}

if (import.meta.main) await main();
