/**
 * The sender's waiting mode (`send_event.ts --decide`, which `hook.sh --decide` runs in the
 * foreground for Codex's `PermissionRequest` and Copilot's `permissionRequest`): it posts the
 * hook's input to `POST /hooks/<app>/decide?agent=…&event=…&wait=…`, where hookwatch holds it
 * as a `permission` inbox item until a person allows or denies it (`HOOKWATCH_DECISIONS=on`),
 * and hands back what the server answered: the agent's own answer as one line of JSON, or ""
 * (nobody decided, decisions are off, hookwatch is down), which leaves the agent to decide as
 * it would have. Only a JSON object is ever printed: Copilot denies the tool on any other
 * output. An input hookwatch did not get is spooled, under the same `event_id` the request
 * carried, so it is stored once however the request ended.
 *
 * @module
 */
import {
  hasSpooled,
  parseFlags,
  positiveInt,
  type SendContext,
  serverUrlOf,
  spoolDir,
  spoolMaxBytes,
} from "./config.ts";
import { prepare, Sender } from "./delivery.ts";
import { countSpooled, recordStatus } from "./status_file.ts";

/** The longest wait `--wait` may ask for, seconds. */
const MAX_WAIT_S = 3600;

/** Time left for the answer after the server's wait: the request and the response. */
export const DECIDE_SLACK_MS = 2000;

/** The wait of a `--decide` run, seconds (`--wait`, default 50). */
export function decideWaitS(wait: string | undefined): number {
  return Math.min(positiveInt(wait, 50), MAX_WAIT_S);
}

/**
 * Posts one permission request and waits for a person's decision; returns what to print on
 * stdout (the agent's answer as JSON, or ""). Never throws for a delivery problem.
 */
export async function decide(ctx: SendContext): Promise<string> {
  const flags = parseFlags(ctx.args);
  const event = await prepare(ctx.stdin, flags, ctx);
  if (!event) return "";
  const waitS = decideWaitS(flags.wait);
  const sender = new Sender(serverUrlOf(flags, ctx.env), ctx, flags);
  const query = new URLSearchParams({
    wait: String(waitS),
    event_id: String(event.event_id),
  });
  if (flags.agent) query.set("agent", flags.agent);
  if (flags.event) query.set("event", flags.event);
  const path = `/hooks/${
    encodeURIComponent(String(event.source_app))
  }/decide?${query}`;
  const result = await sender.post(
    path,
    ctx.stdin,
    Math.min(waitS * 1000 + DECIDE_SLACK_MS, sender.remainingMs() - 50),
    true,
  );
  const dir = spoolDir(ctx.env);
  if (result.outcome === "retry" && dir) {
    const { spoolEvent } = await import("./replay.ts");
    await spoolEvent(dir, spoolMaxBytes(ctx.env), event);
  }
  if (dir) {
    await recordStatus(
      dir,
      sender,
      await hasSpooled(dir) ? await countSpooled(dir) : 0,
    );
  }
  return result.outcome === "stored" ? answerOf(result.detail) : "";
}

/** The server's answer as one line of JSON when it is a JSON object, else "". */
export function answerOf(body: string): string {
  try {
    const answer = JSON.parse(body);
    return typeof answer === "object" && answer !== null &&
        !Array.isArray(answer)
      ? JSON.stringify(answer)
      : "";
  } catch {
    return "";
  }
}
