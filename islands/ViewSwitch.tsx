import type { Signal } from "@preact/signals";
import type { View } from "../common/rows.ts";
import { live } from "./live.ts";
import { startSwitch } from "./monitor.ts";

const VIEWS: [View, string][] = [
  ["all", "All"],
  ["priority", "Priority"],
  ["regular", "Regular"],
];

/** All / Priority / Regular: the bucket switch. Links without JavaScript. */
export default function ViewSwitch(
  props: {
    view: Signal<View>;
    counts: { priority: number; regular: number; display: number };
    hrefs: Record<View, string>;
  },
) {
  const counts = live.value?.counts ?? props.counts;
  const current = props.view.value;
  const count: Record<View, number> = {
    all: counts.display,
    priority: counts.priority,
    regular: counts.regular,
  };
  const choose = (e: MouseEvent, view: View) => {
    if (e.ctrlKey || e.metaKey || e.shiftKey) return;
    e.preventDefault();
    if (view === props.view.peek()) return;
    startSwitch(view);
    props.view.value = view;
    const url = new URL(location.href);
    if (view === "all") url.searchParams.delete("view");
    else url.searchParams.set("view", view);
    history.replaceState(null, "", url);
  };
  return (
    <nav class="views" aria-label="Bucket">
      {VIEWS.map(([view, label]) => (
        <a
          key={view}
          href={props.hrefs[view]}
          class={view === current ? "view on" : "view"}
          aria-current={view === current ? "page" : undefined}
          data-view={view}
          onClick={(e) => choose(e, view)}
        >
          {label} <span class="count">{count[view]}</span>
        </a>
      ))}
    </nav>
  );
}
