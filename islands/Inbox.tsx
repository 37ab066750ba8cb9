import { useEffect, useRef, useState } from "preact/hooks";
import type { InboxItem } from "../common/agents.ts";
import { live } from "./live.ts";
import {
  activeItems,
  actOn,
  arrivals,
  decideOn,
  handledBy,
  handledItems,
  inboxItems,
  mergeInbox,
  refreshInbox,
  timelineSession,
} from "./inbox_state.ts";
import { age, clock, shortId } from "./format.ts";

const OPT_IN = "hookwatch.notify";
/** Items a phone shows before "Show all" (the sessions board is right below); keep in step with the CSS. */
const PHONE_ITEMS = 3;

const KIND_LABEL: Record<string, string> = {
  permission: "permission",
  elicitation: "question",
  idle: "idle",
  failure: "failed",
  failure_streak: "failing",
  stale: "silent",
  orphaned: "hanging",
  loop: "loop",
  dangerous: "dangerous",
  budget: "budget",
};

/**
 * "Needs you": the attention inbox. Acknowledge (a) and snooze 15 min (s) with the buttons or
 * the keyboard (↑/↓ or j/k to move, t for the timeline), counts in the page title, opt-in
 * browser notifications for items new since the page opened. A permission request held for a
 * decision has Allow (y) and Deny (n, with the message typed beside it) and shows how long the
 * agent has waited. `canAct` false (a viewer) shows no button that acts: the server refuses
 * them anyway. Items handled in the last minutes say who handled them.
 */
export default function Inbox(
  props: { initial: InboxItem[]; canAct?: boolean },
) {
  const canAct = props.canAct ?? true;
  const [now, setNow] = useState(() => Date.now());
  const [notify, setNotify] = useState(false);
  const [cursor, setCursor] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [messages, setMessages] = useState<Record<number, string>>({});
  const [all, setAll] = useState(false);
  const list = useRef<HTMLUListElement>(null);
  const seeded = useRef(false);
  // Module state is the browser's: on the server every page renders from its props.
  const browser = typeof document !== "undefined";
  if (browser && !seeded.current) {
    seeded.current = true;
    if (inboxItems.peek().size === 0) mergeInbox(props.initial);
  }
  const held = browser
    ? inboxItems.value
    : new Map(props.initial.map((i) => [i.id, i]));
  const items = activeItems(held, now);
  const handled = handledItems(held, now);
  const conn = live.value?.conn;

  useEffect(() => {
    setNotify(
      typeof Notification !== "undefined" &&
        Notification.permission === "granted" &&
        localStorage.getItem(OPT_IN) === "1",
    );
    // Snoozes come due and waits grow without a frame.
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);

  // Frames sent while the stream was away are missed: read the inbox again on (re)connect.
  useEffect(() => {
    if (conn === "live") void refreshInbox();
  }, [conn]);

  useEffect(() => {
    document.title = items.length > 0
      ? `(${items.length}) hookwatch`
      : "hookwatch";
  }, [items.length]);

  const fresh = arrivals.value;
  useEffect(() => {
    if (!notify) return;
    for (const item of fresh) {
      // Text only: the Notification API never interprets markup.
      new Notification(`${item.source_app ?? "agent"}: ${item.kind}`, {
        body: item.reason,
        tag: `inbox-${item.id}`,
      });
    }
  }, [fresh, notify]);

  const toggle = async () => {
    if (notify) {
      localStorage.removeItem(OPT_IN);
      setNotify(false);
      return;
    }
    if (typeof Notification === "undefined") return;
    if (await Notification.requestPermission() === "granted") {
      localStorage.setItem(OPT_IN, "1");
      setNotify(true);
    }
  };

  const act = async (item: InboxItem, action: "ack" | "snooze") => {
    setError(await actOn(item.id, action));
  };

  const decide = async (item: InboxItem, behavior: "allow" | "deny") => {
    setError(await decideOn(item.id, behavior, messages[item.id] ?? ""));
  };

  const focusRow = (i: number) => {
    const rows = list.current?.querySelectorAll<HTMLElement>("li");
    if (!rows || rows.length === 0) return;
    const at = Math.max(0, Math.min(rows.length - 1, i));
    setCursor(at);
    rows[at].focus();
  };

  const onKey = (e: KeyboardEvent) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    // Typing a deny message is not a shortcut.
    if ((e.target as HTMLElement).tagName === "INPUT") return;
    const item = items[cursor];
    if (!canAct && "aynsm".includes(e.key)) return;
    switch (e.key) {
      case "ArrowDown":
      case "j":
        focusRow(cursor + 1);
        break;
      case "ArrowUp":
      case "k":
        focusRow(cursor - 1);
        break;
      case "a":
        if (item) void act(item, "ack");
        break;
      case "y":
        if (item?.awaiting_decision) void decide(item, "allow");
        break;
      case "n":
        if (item?.awaiting_decision) void decide(item, "deny");
        break;
      case "s":
        if (item) void act(item, "snooze");
        break;
      case "t":
      case "Enter":
        if (item) timelineSession.value = item.session_id;
        break;
      default:
        return;
    }
    e.preventDefault();
  };

  return (
    <section
      class={all ? "needs inbox show-all" : "needs inbox"}
      aria-label="Needs you"
    >
      <div class="panel-head">
        <h2>
          Needs you{" "}
          {items.length > 0 ? <span class="count">{items.length}</span> : null}
        </h2>
        <button
          type="button"
          class="notify"
          aria-pressed={notify}
          onClick={toggle}
        >
          {notify ? "Notifying" : "Notify me"}
        </button>
      </div>
      {error ? <p class="error" role="alert">{error}</p> : null}
      {items.length === 0
        ? <p class="empty">Nothing needs you.</p>
        : (
          <ul ref={list} onKeyDown={onKey}>
            {items.map((item, i) => (
              <li
                key={item.id}
                data-id={item.id}
                data-kind={item.kind}
                tabIndex={0}
                class={i === cursor ? "current" : undefined}
                onFocus={() => setCursor(i)}
              >
                <span class={`type kind-${item.kind}`}>
                  {KIND_LABEL[item.kind] ?? item.kind}
                </span>
                <span class="who">
                  {item.source_app ?? "?"} · {shortId(item.session_id)}
                  {item.agent_id ? ` · ${shortId(item.agent_id)}` : ""}
                </span>
                <time>{clock(item.since)}</time>
                <span class="text">{item.reason}</span>
                {item.awaiting_decision && canAct
                  ? (
                    <span class="decide">
                      <span class="waited">
                        waiting{" "}
                        {Math.max(0, Math.round((now - item.since) / 1000))} s
                      </span>
                      <button
                        type="button"
                        class="allow"
                        onClick={() => decide(item, "allow")}
                      >
                        Allow
                      </button>
                      <input
                        type="text"
                        class="deny-message"
                        aria-label="Deny message"
                        placeholder="why (optional)"
                        maxLength={2000}
                        value={messages[item.id] ?? ""}
                        onInput={(e) =>
                          setMessages({
                            ...messages,
                            [item.id]: (e.target as HTMLInputElement).value,
                          })}
                      />
                      <button
                        type="button"
                        class="deny"
                        onClick={() => decide(item, "deny")}
                      >
                        Deny
                      </button>
                    </span>
                  )
                  : null}
                {item.awaiting_decision && !canAct
                  ? <span class="waited">waiting for an operator</span>
                  : null}
                <span class="actions">
                  {canAct
                    ? (
                      <>
                        <button
                          type="button"
                          class="ack"
                          onClick={() => act(item, "ack")}
                        >
                          Ack
                        </button>
                        <button
                          type="button"
                          class="snooze"
                          onClick={() => act(item, "snooze")}
                        >
                          Snooze 15m
                        </button>
                      </>
                    )
                    : null}
                  <button
                    type="button"
                    class="show"
                    onClick={() => (timelineSession.value = item.session_id)}
                  >
                    Timeline
                  </button>
                </span>
              </li>
            ))}
          </ul>
        )}
      {handled.length > 0
        ? (
          <ul class="handled" aria-label="Handled lately">
            {handled.map((item) => (
              <li key={item.id} data-id={item.id}>
                <span class="text">{item.reason}</span>{" "}
                <span class="by">
                  {handledBy(item)}{" "}
                  {age(now - (item.decision?.at ?? item.updated_at))} ago
                </span>
              </li>
            ))}
          </ul>
        )
        : null}
      {items.length > PHONE_ITEMS && !all
        ? (
          <button type="button" class="show-all" onClick={() => setAll(true)}>
            Show all {items.length}
          </button>
        )
        : null}
    </section>
  );
}
