/**
 * Server-Sent Events frames, encoded once per event and shared by every client.
 *
 * @module
 */
import type { StoredEvent, StreamEvent } from "../../common/events.ts";
import type { EventJson, Snapshot } from "../store/store.ts";
import { streamView } from "../store/event_rows.ts";
import type { SessionSummary } from "../../common/sessions.ts";
import type { InboxItem } from "../../common/agents.ts";

const encoder = new TextEncoder();

/** Bytes of the priority metadata in one event frame (`"priority":1,`). */
export const PRIORITY_METADATA_BYTES = '"priority":1,'.length;

const json = new WeakMap<StoredEvent, string>();

/**
 * The event's stream JSON (every listed field, no chat), encoded once per stored event object:
 * the broadcaster's frame and the ingest answer share it.
 */
export function eventJson(event: StoredEvent): string {
  let text = json.get(event);
  if (text === undefined) {
    text = JSON.stringify(streamView(event));
    json.set(event, text);
  }
  return text;
}

/** One `event` frame carrying `id:` so `Last-Event-ID` can resume after it. */
export function encodeEventFrame(event: StoredEvent): Uint8Array {
  return encoder.encode(
    `id: ${event.id}\nevent: event\ndata: ${eventJson(event)}\n\n`,
  );
}

/**
 * An event of a snapshot: as the store read it (its stream JSON, from the stored text) or as the
 * feed delivered it.
 */
export type SnapshotEvent = EventJson | StoredEvent;

/** A snapshot event's stream JSON: the stored text, or encoded once from the event. */
export function jsonOf(e: SnapshotEvent): string {
  return "json" in e ? e.json : eventJson(e);
}

/** A snapshot event as the stream carries it: the feed's event itself, or its text parsed. */
export function streamEventOf(e: SnapshotEvent): StreamEvent {
  return "json" in e ? JSON.parse(e.json) : e;
}

/**
 * The snapshot as JSON, `{"priority":[…],"regular":[…]}`: the data of the `snapshot` frame and
 * the body of `/events/priority`, joined from each event's stream JSON.
 */
export function snapshotJson(snapshot: Snapshot<SnapshotEvent>): string {
  const join = (events: SnapshotEvent[]) => events.map(jsonOf).join(",");
  return `{"priority":[${join(snapshot.priority)}],"regular":[${
    join(snapshot.regular)
  }]}`;
}

/** The `snapshot` frame; its id is the highest id the snapshot accounts for. */
export function encodeSnapshotFrame(
  snapshot: Snapshot<SnapshotEvent>,
  lastId: number,
): Uint8Array {
  return encoder.encode(
    `id: ${lastId}\nevent: snapshot\ndata: ${snapshotJson(snapshot)}\n\n`,
  );
}

/**
 * The `session` stream frame: a session's summary after its aggregates changed. It carries no
 * `id:` so `Last-Event-ID` resumption is unaffected.
 */
export function encodeSessionFrame(summary: SessionSummary): Uint8Array {
  return encoder.encode(`event: session\ndata: ${JSON.stringify(summary)}\n\n`);
}

/**
 * The `inbox` stream frame: one attention-inbox item after it changed. No `id:`, like `session`
 * frames.
 */
export function encodeInboxFrame(item: InboxItem): Uint8Array {
  return encoder.encode(`event: inbox\ndata: ${JSON.stringify(item)}\n\n`);
}

/** The first bytes of every stream: the reconnect delay the browser should use. */
export const RETRY_FRAME: Uint8Array = encoder.encode("retry: 2000\n\n");

/** Keeps proxies and browsers from closing an idle stream. */
export const HEARTBEAT_FRAME: Uint8Array = encoder.encode(": heartbeat\n\n");

/** Sent before the server closes streams on shutdown: reconnect soon. */
export const SHUTDOWN_FRAME: Uint8Array = encoder.encode(
  "retry: 500\n: server restarting\n\n",
);

/** Joins chunks into one buffer (one write per client per flush). */
export function concat(chunks: Uint8Array[], total?: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(
    total ?? chunks.reduce((n, c) => n + c.byteLength, 0),
  );
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
