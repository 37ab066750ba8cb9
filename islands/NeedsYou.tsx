import { useEffect, useRef, useState } from "preact/hooks";
import type { Signal } from "@preact/signals";
import type { NeedsItem } from "../common/worker_protocol.ts";
import { needs as liveNeeds } from "./live.ts";
import { clock, shortId } from "./format.ts";

const OPT_IN = "hookwatch.notify";

/** Sessions whose latest event asks for their user, with opt-in browser notifications. */
export default function NeedsYou(
  props: { initial: NeedsItem[]; selected: Signal<number | null> },
) {
  const needs = liveNeeds.value ?? props.initial;
  const [notify, setNotify] = useState(false);
  const notified = useRef(0);

  useEffect(() => {
    setNotify(
      typeof Notification !== "undefined" &&
        Notification.permission === "granted" &&
        localStorage.getItem(OPT_IN) === "1",
    );
    notified.current = needs.reduce((m, n) => Math.max(m, n.id), 0);
  }, []);

  useEffect(() => {
    if (!notify) return;
    for (const n of needs) {
      if (n.id <= notified.current) continue;
      // Text only: the Notification API never interprets markup.
      new Notification(`${n.app}: ${n.type}`, {
        body: n.text || `session ${shortId(n.session)}`,
        tag: n.key,
      });
    }
    notified.current = needs.reduce(
      (m, n) => Math.max(m, n.id),
      notified.current,
    );
  }, [needs, notify]);

  const toggle = async () => {
    if (notify) {
      localStorage.removeItem(OPT_IN);
      setNotify(false);
      return;
    }
    if (typeof Notification === "undefined") return;
    const permission = await Notification.requestPermission();
    if (permission === "granted") {
      localStorage.setItem(OPT_IN, "1");
      setNotify(true);
    }
  };
  const open = (e: MouseEvent, id: number) => {
    if (e.ctrlKey || e.metaKey || e.shiftKey) return;
    e.preventDefault();
    props.selected.value = id;
  };

  return (
    <section class="needs" aria-label="Needs you">
      <div class="panel-head">
        <h2>
          Needs you <span class="count">{needs.length}</span>
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
      {needs.length === 0 ? <p class="empty">No agent is waiting.</p> : (
        <ul>
          {needs.map((n) => (
            <li key={n.key}>
              <a href={`?event=${n.id}`} onClick={(e) => open(e, n.id)}>
                <span class="type">{n.type}</span>
                <span class="who">{n.app} · {shortId(n.session)}</span>
                <time>{clock(n.ts)}</time>
                <span class="text">{n.text}</span>
              </a>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
