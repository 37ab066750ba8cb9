import { Component } from "preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { Signal } from "@preact/signals";
import { mergeNewestFirst } from "../common/buckets.ts";
import type { FeedRow, View } from "../common/rows.ts";
import { live } from "./live.ts";
import { endSwitch, recordLatency } from "./monitor.ts";
import { age, clock, shortId } from "./format.ts";

/** The first paint's buckets, as the worker will send them. */
export interface FeedData {
  priority: FeedRow[];
  regular: FeedRow[];
  shownRegular: number;
}

interface RowProps {
  row: FeedRow;
  selected: boolean;
}

/** One event; rows never change once drawn, so only selection re-renders them. */
class Row extends Component<RowProps> {
  override shouldComponentUpdate(next: RowProps): boolean {
    return next.row.id !== this.props.row.id ||
      next.selected !== this.props.selected;
  }

  override render({ row, selected }: RowProps) {
    const late = row.late_ms;
    return (
      <li class={row.priority ? "row pri" : "row"} data-id={row.id}>
        <a
          href={`?event=${row.id}`}
          data-id={row.id}
          aria-current={selected ? "true" : undefined}
        >
          <span class="mark" title={row.priority ? "priority" : "regular"}>
            {row.priority ? "priority" : ""}
          </span>
          <time>{clock(row.timestamp)}</time>
          <span class="type">{row.hook_event_type}</span>
          <span class="who">
            <span class="app">{row.source_app}</span>
            <span class="sid">
              {" · "}
              {shortId(row.session_id)}
              {row.agent_id ? ` · ${shortId(row.agent_id)}` : ""}
            </span>
          </span>
          <span class="text">
            {late === null ? null : (
              <span
                class="late"
                title={`arrived ${
                  age(late)
                } after it happened (replayed from the hook's spool, or a slow sender)`}
              >
                late {age(late)}
              </span>
            )}
            {row.text}
          </span>
        </a>
      </li>
    );
  }
}

function priorityCount(rows: FeedRow[]): number {
  let n = 0;
  for (const r of rows) n += r.priority;
  return n;
}

/** The rows a view shows, newest first. */
export function viewRows(data: FeedData, view: View): FeedRow[] {
  if (view === "priority") return data.priority;
  if (view === "regular") return data.regular;
  return mergeNewestFirst(
    data.priority,
    data.regular,
    data.priority.length,
    data.shownRegular,
  );
}

/** Row height in px; matches `--row` in the CSS (where the feed scrolls itself). */
const ROW_PX = 30;
/** Rows drawn at first where the page scrolls as one (a phone), and how many more per ask. */
const PAGE_ROWS = 25;

/** Highest event id drawn so far; null before the first live update. */
let drawnUpTo: number | null = null;

/**
 * The live feed: merged or one bucket, newest first, priority rows marked. Scrolling away from
 * the top pauses it; a button tells how many arrived meanwhile and goes back. Where the feed
 * scrolls itself (a wide screen) only the rows that fit are drawn; where the page scrolls as one
 * (a phone: the feed's own overflow is `visible`), the newest rows are drawn in full, more on
 * request, and the feed pauses once its top has scrolled out of view.
 */
export default function Feed(
  props: {
    initial: FeedData;
    view: Signal<View>;
    selected: Signal<number | null>;
  },
) {
  const update = live.value;
  const data: FeedData = update ?? props.initial;
  const view = props.view.value;
  const rows = viewRows(data, view);
  const [frozen, setFrozen] = useState<FeedRow[] | null>(null);
  // The first paint holds every row; once live, only the rows that fit are drawn while at the
  // top (a spacer keeps the scrollbar honest), and a paused feed draws all of its rows.
  const [capacity, setCapacity] = useState<number | null>(null);
  const [pageMode, setPageMode] = useState(false);
  const [pageRows, setPageRows] = useState(PAGE_ROWS);
  const scroller = useRef<HTMLDivElement>(null);
  const section = useRef<HTMLElement>(null);
  // The latest render's values, for the window's scroll listener.
  const current = useRef({ rows, frozen });
  current.current = { rows, frozen };

  useEffect(() => {
    const el = scroller.current!;
    const measure = () => {
      const page = getComputedStyle(el).overflowY === "visible";
      setPageMode(page);
      setCapacity(page ? null : Math.ceil(el.clientHeight / ROW_PX) + 4);
    };
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  const pause = (paused: boolean) => {
    const { rows, frozen } = current.current;
    if (paused && !frozen) setFrozen(rows);
    else if (!paused && frozen) setFrozen(null);
  };
  useEffect(() => {
    if (!pageMode) return;
    const onScroll = () =>
      pause((section.current?.getBoundingClientRect().top ?? 0) < -8);
    addEventListener("scroll", onScroll, { passive: true });
    return () => removeEventListener("scroll", onScroll);
  }, [pageMode]);

  const shown = frozen ?? rows;
  const drawn = pageMode
    ? shown.slice(0, pageRows)
    : frozen || capacity === null
    ? shown
    : shown.slice(0, capacity);
  const rest = pageMode ? 0 : shown.length - drawn.length;
  const hidden = pageMode ? shown.length - drawn.length : 0;
  const newer = frozen
    ? rows.filter((r) => r.id > (frozen[0]?.id ?? 0)).length
    : 0;

  useLayoutEffect(() => endSwitch(view), [view]);

  useLayoutEffect(() => {
    if (!update || frozen || drawn.length === 0) return;
    if (drawnUpTo === null) {
      drawnUpTo = drawn[0].id; // the snapshot: not live events
      return;
    }
    const fresh: FeedRow[] = [];
    for (const r of drawn) {
      if (r.id <= drawnUpTo) break; // newest first: the rest were drawn before
      fresh.push(r);
    }
    if (fresh.length === 0) return;
    drawnUpTo = fresh[0].id;
    // Live updates are applied inside an animation frame: this commit is painted by it.
    const now = Date.now();
    for (const r of fresh) recordLatency(now - r.received_at);
  });

  const onScroll = () => {
    if (!pageMode) pause((scroller.current?.scrollTop ?? 0) > 8);
  };
  const backToTop = () => {
    if (pageMode) section.current?.scrollIntoView();
    else scroller.current?.scrollTo({ top: 0 });
    setFrozen(null);
  };
  const onClick = (e: MouseEvent) => {
    const link = (e.target as Element).closest<HTMLAnchorElement>("a[data-id]");
    if (!link || e.ctrlKey || e.metaKey || e.shiftKey) return;
    e.preventDefault();
    props.selected.value = Number(link.dataset.id);
  };
  const selected = props.selected.value;
  return (
    <section
      class="feed"
      ref={section}
      aria-label="Live events"
      data-total={shown.length}
      data-priority={priorityCount(shown)}
      data-paused={frozen ? "true" : undefined}
    >
      <div class="feed-head">
        <span>
          {shown.length} shown
          {view === "all" ? ` · ${data.priority.length} priority` : ""}
        </span>
        {frozen
          ? (
            <button type="button" class="newer" onClick={backToTop}>
              Paused · {newer} new {newer === 1 ? "event" : "events"} ↑
            </button>
          )
          : null}
      </div>
      <div
        class="feed-scroll"
        ref={scroller}
        onScroll={onScroll}
        tabIndex={0}
        aria-label="Event list"
      >
        <ol class="rows" onClick={onClick}>
          {drawn.map((row) => (
            <Row key={row.id} row={row} selected={row.id === selected} />
          ))}
        </ol>
        {rest > 0
          ? (
            <div
              class="rest"
              aria-hidden="true"
              style={{ height: `${rest * ROW_PX}px` }}
            />
          )
          : null}
        {hidden > 0
          ? (
            <button
              type="button"
              class="more-rows"
              onClick={() => setPageRows(pageRows + 100)}
            >
              {hidden <= 100
                ? `Show the other ${hidden}`
                : `Show 100 more of ${hidden}`}
            </button>
          )
          : null}
        {shown.length === 0 ? <p class="empty">No events yet.</p> : null}
      </div>
    </section>
  );
}
