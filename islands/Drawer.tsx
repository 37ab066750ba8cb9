import { useEffect, useRef, useState } from "preact/hooks";
import type { Signal } from "@preact/signals";
import type { StoredEvent } from "../common/events.ts";
import { age, clock } from "./format.ts";
import { lateBy } from "../common/rows.ts";
import { PromptCost } from "./CostBadges.tsx";

/** When an event that arrived late reached hookwatch; nothing for one that arrived in time. */
function LateArrival({ event }: { event: StoredEvent }) {
  const late = lateBy(event);
  if (late === null) return null;
  return (
    <>
      <dt>Arrived</dt>
      <dd class="late-arrival">
        {clock(event.received_at)}, {age(late)}{" "}
        late: replayed from the hook's spool, or a slow sender
      </dd>
    </>
  );
}

type Loaded =
  | { state: "none" }
  | { state: "loading"; id: number }
  | { state: "error"; id: number; message: string }
  | { state: "ready"; event: StoredEvent };

interface ChatLine {
  role: string;
  text: string;
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content.map((part) =>
      typeof part === "string"
        ? part
        : part && typeof part === "object" && "text" in part &&
            typeof part.text === "string"
        ? part.text
        : JSON.stringify(part)
    ).join("\n");
  }
  return JSON.stringify(content, null, 2);
}

/** One chat transcript entry as role + text, whatever shape the hook sent. */
export function chatLine(entry: unknown): ChatLine {
  if (typeof entry === "string") return { role: "", text: entry };
  if (entry && typeof entry === "object") {
    const e = entry as Record<string, unknown>;
    const message =
      (e.message && typeof e.message === "object" ? e.message : e) as Record<
        string,
        unknown
      >;
    const role = String(message.role ?? e.role ?? e.type ?? "");
    const content = message.content ?? e.content ?? e.text;
    return {
      role,
      text: content === undefined
        ? JSON.stringify(e, null, 2)
        : textOf(content),
    };
  }
  return { role: "", text: String(entry) };
}

/** The event detail drawer: summary, model, full payload as JSON and the chat transcript. */
export default function Drawer(
  props: { selected: Signal<number | null>; initial: StoredEvent | null },
) {
  const id = props.selected.value;
  const [loaded, setLoaded] = useState<Loaded>(
    props.initial ? { state: "ready", event: props.initial } : id !== null
      // Asked for by URL and not stored: the server found nothing.
      ? { state: "error", id, message: "no such event" }
      : { state: "none" },
  );
  const heading = useRef<HTMLHeadingElement>(null);
  const opener = useRef<Element | null>(null);

  useEffect(() => {
    if (id === null) {
      setLoaded({ state: "none" });
      return;
    }
    if (
      (loaded.state === "ready" && loaded.event.id === id) ||
      (loaded.state === "error" && loaded.id === id)
    ) return;
    const abort = new AbortController();
    setLoaded({ state: "loading", id });
    fetch(`/events/${id}`, { signal: abort.signal })
      .then(async (res) => {
        if (!res.ok) throw new Error(`the server answered ${res.status}`);
        setLoaded({ state: "ready", event: await res.json() });
      })
      .catch((error) => {
        if (!abort.signal.aborted) {
          setLoaded({
            state: "error",
            id,
            message: String(error.message ?? error),
          });
        }
      });
    return () => abort.abort();
  }, [id]);

  useEffect(() => {
    if (id === null) return;
    opener.current ??= document.activeElement;
    heading.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") close();
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [id]);

  const close = (e?: Event) => {
    e?.preventDefault();
    props.selected.value = null;
    const back = opener.current as HTMLElement | null;
    opener.current = null;
    back?.focus?.();
    const url = new URL(location.href);
    if (url.searchParams.has("event")) {
      url.searchParams.delete("event");
      history.replaceState(null, "", url);
    }
  };

  if (id === null) {
    return <aside class="drawer" hidden aria-label="Event detail" />;
  }
  const event = loaded.state === "ready" && loaded.event.id === id
    ? loaded.event
    : null;
  return (
    <aside class="drawer" aria-label="Event detail" data-event-id={id}>
      <div class="drawer-head">
        <h2 tabIndex={-1} ref={heading}>
          {event ? event.hook_event_type : `Event ${id}`}
          {event?.priority ? <span class="badge">priority</span> : null}
        </h2>
        <a class="close" href="?" onClick={close} aria-label="Close detail">
          ✕
        </a>
      </div>
      {loaded.state === "error" && loaded.id === id
        ? <p class="error">Could not load event {id}: {loaded.message}</p>
        : null}
      {!event && loaded.state !== "error" ? <p>Loading…</p> : null}
      {event
        ? (
          <div class="detail">
            <dl>
              <dt>App</dt>
              <dd>{event.source_app}</dd>
              <dt>Session</dt>
              <dd>{event.session_id}</dd>
              {event.agent_id ? <dt>Agent</dt> : null}
              {event.agent_id ? <dd>{event.agent_id}</dd> : null}
              <dt>Time</dt>
              <dd>
                {clock(event.timestamp)} · id {event.id}
              </dd>
              <LateArrival event={event} />
              <dt>Model</dt>
              <dd class="model">{event.model_name ?? "–"}</dd>
              <dt>Summary</dt>
              <dd class="summary">{event.summary ?? "–"}</dd>
              <PromptCost event={event} />
            </dl>
            <h3>Payload</h3>
            <pre class="payload">{JSON.stringify(event.payload, null, 2)}</pre>
            <h3>Chat transcript</h3>
            {event.chat && event.chat.length > 0
              ? (
                <ol class="chat">
                  {event.chat.map((entry, i) => {
                    const line = chatLine(entry);
                    return (
                      <li key={i}>
                        {line.role
                          ? <span class="role">{line.role}</span>
                          : null}
                        <pre>{line.text}</pre>
                      </li>
                    );
                  })}
                </ol>
              )
              : <p class="empty">No transcript sent with this event.</p>}
          </div>
        )
        : null}
    </aside>
  );
}
