/**
 * The dashboard's copy of the attention inbox: seeded from the first paint, kept current by
 * `inbox` stream frames (via the bucket worker) and re-read whenever the stream (re)connects;
 * plus the session the timeline shows and the inbox actions.
 *
 * @module
 */
import { signal } from "@preact/signals";
import type { InboxItem } from "../common/agents.ts";

/** Every item known, by id. */
export const inboxItems = signal<ReadonlyMap<number, InboxItem>>(new Map());
/** Items that arrived by frame since the page loaded and were new then (for notifications). */
export const arrivals = signal<InboxItem[]>([]);
/** The session the timeline shows; null for none chosen. */
export const timelineSession = signal<string | null>(null);

/** Merges items in; an item's newer copy wins. `live`: they came from the stream. */
export function mergeInbox(items: readonly InboxItem[], live = false): void {
  const next = new Map(inboxItems.value);
  const fresh: InboxItem[] = [];
  for (const item of items) {
    const known = next.get(item.id);
    if (known && known.updated_at > item.updated_at) continue;
    if (!known && live && item.status === "open") fresh.push(item);
    next.set(item.id, item);
  }
  inboxItems.value = next;
  if (fresh.length > 0) arrivals.value = fresh;
}

/** The items needing a person now, newest first. */
export function activeItems(
  items: ReadonlyMap<number, InboxItem>,
  now: number,
): InboxItem[] {
  return [...items.values()].filter((i) =>
    i.status === "open" ||
    (i.status === "snoozed" && (i.snoozed_until ?? 0) <= now)
  ).sort((a, b) => b.since - a.since || b.id - a.id);
}

/** How long a handled item stays listed under "Needs you" with who handled it. */
export const HANDLED_SHOWN_MS = 10 * 60_000;

/**
 * Items a person handled lately (decided, acknowledged or snoozed and not due again), newest
 * first, at most `limit`: the inbox says who did it.
 */
export function handledItems(
  items: ReadonlyMap<number, InboxItem>,
  now: number,
  limit = 5,
): InboxItem[] {
  const active = new Set(activeItems(items, now).map((i) => i.id));
  return [...items.values()].filter((i) =>
    !active.has(i.id) && (i.decision !== null || i.acted_by !== null) &&
    i.updated_at >= now - HANDLED_SHOWN_MS
  ).sort((a, b) => b.updated_at - a.updated_at).slice(0, limit);
}

/** Who handled an item and how, in words: "allowed by ann", "snoozed by bob". */
export function handledBy(item: InboxItem): string {
  if (item.decision) {
    return `${
      item.decision.behavior === "allow" ? "allowed" : "denied"
    } by ${item.decision.by}`;
  }
  const how = item.status === "snoozed" ? "snoozed" : "acknowledged";
  return `${how} by ${item.acted_by ?? "someone"}`;
}

/**
 * Re-reads the open inbox: what is not in it any more is dropped (it was acknowledged,
 * snoozed or resolved while the stream was away), unless a frame since brought a newer copy.
 */
export async function refreshInbox(): Promise<void> {
  const asked = Date.now();
  const res = await fetch("/inbox?limit=1000", {
    headers: { accept: "application/json" },
  });
  if (!res.ok) return;
  const { items } = await res.json() as { items: InboxItem[] };
  const next = new Map<number, InboxItem>();
  for (const item of items) next.set(item.id, item);
  for (const [id, item] of inboxItems.value) {
    if (!next.has(id) && item.updated_at >= asked) next.set(id, item);
  }
  inboxItems.value = next;
}

/** Acknowledges or snoozes (15 minutes) an item; the answer is merged in. */
/**
 * Allows or denies a held permission request: the item leaves the inbox here and, through its
 * stream frame, in every other dashboard. Returns the error to show, or null.
 */
export async function decideOn(
  id: number,
  behavior: "allow" | "deny",
  message: string,
): Promise<string | null> {
  const res = await fetch(`/inbox/${id}/decision`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(
      message.trim() === "" ? { behavior } : { behavior, message },
    ),
  });
  const body = await res.json().catch(() => ({}));
  if (res.ok) {
    mergeInbox([body as InboxItem]);
    return null;
  }
  if (res.status === 409) {
    const item = inboxItems.value.get(id);
    if (item) mergeInbox([{ ...item, awaiting_decision: false }]);
  }
  return String((body as { error?: string }).error ?? res.status);
}

export async function actOn(
  id: number,
  action: "ack" | "snooze",
): Promise<string | null> {
  const res = await fetch(`/inbox/${id}/${action}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: action === "snooze" ? JSON.stringify({ for: "15m" }) : "{}",
  });
  const body = await res.json().catch(() => ({}));
  if (res.ok) {
    mergeInbox([body as InboxItem]);
    return null;
  }
  if (res.status === 409) {
    // Resolved meanwhile: it leaves the list either way.
    const item = inboxItems.value.get(id);
    if (item) mergeInbox([{ ...item, status: "resolved" }]);
  }
  return String((body as { error?: string }).error ?? res.status);
}
