import { useEffect, useRef } from "preact/hooks";
import type { Signal } from "@preact/signals";
import type { Filters as FilterValues, View } from "../common/rows.ts";
import type { FilterChoices } from "../common/worker_protocol.ts";
import { choices as liveChoices, tell } from "./live.ts";
import { shortId } from "./format.ts";
import { AGENT_NAMES, agentLabel } from "../common/adapters/names.ts";

function union(a: string[], b: string[] | undefined): string[] {
  if (!b) return a;
  return [...new Set([...a, ...b])].sort();
}

/** The server's choices at first paint plus every value the worker has seen since. */
function merged(
  first: FilterChoices,
  seen: FilterChoices | null,
): FilterChoices {
  return {
    source_apps: union(first.source_apps, seen?.source_apps),
    session_ids: union(first.session_ids, seen?.session_ids),
    hook_event_types: union(first.hook_event_types, seen?.hook_event_types),
  };
}

function Choice(
  props: {
    name: keyof FilterValues;
    label: string;
    all: string;
    options: string[];
    value: string;
    short?: boolean;
    /** The text shown for an option (its value by default). */
    text?: (value: string) => string;
    onChange: (name: keyof FilterValues, value: string) => void;
  },
) {
  const options = props.value && !props.options.includes(props.value)
    ? [props.value, ...props.options]
    : props.options;
  return (
    <label>
      <span>{props.label}</span>
      <select
        name={props.name}
        value={props.value}
        onChange={(e) =>
          props.onChange(props.name, (e.target as HTMLSelectElement).value)}
      >
        <option value="">{props.all}</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {props.text?.(o) ?? (props.short ? shortId(o, 12) : o)}
          </option>
        ))}
      </select>
    </label>
  );
}

/** Filters by app, session, event type and free text; a plain GET form without JavaScript. */
export default function Filters(
  props: {
    filters: Signal<FilterValues>;
    choices: FilterChoices;
    view: Signal<View>;
  },
) {
  const f = props.filters.value;
  const c = merged(props.choices, liveChoices.value);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const first = useRef(true);

  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    tell({ type: "filters", filters: f });
    const url = new URL(location.href);
    for (const [key, value] of Object.entries(f)) {
      if (value) url.searchParams.set(key, value);
      else url.searchParams.delete(key);
    }
    history.replaceState(null, "", url);
  }, [f.app, f.session, f.type, f.q, f.agent]);

  const set = (name: keyof FilterValues, value: string) => {
    props.filters.value = { ...props.filters.peek(), [name]: value };
  };
  const onText = (e: Event) => {
    const value = (e.target as HTMLInputElement).value;
    clearTimeout(timer.current);
    timer.current = setTimeout(() => set("q", value.trim()), 120);
  };
  const view = props.view.value;
  return (
    <form
      class="filters"
      method="get"
      action="/"
      role="search"
      onSubmit={(e) => e.preventDefault()}
    >
      {view !== "all" ? <input type="hidden" name="view" value={view} /> : null}
      <Choice
        name="agent"
        label="Agent"
        all="All agents"
        options={AGENT_NAMES as string[]}
        value={f.agent ?? ""}
        text={agentLabel}
        onChange={set}
      />
      <Choice
        name="app"
        label="App"
        all="All apps"
        options={c.source_apps}
        value={f.app}
        onChange={set}
      />
      <Choice
        name="session"
        label="Session"
        all="All sessions"
        options={c.session_ids}
        value={f.session}
        short
        onChange={set}
      />
      <Choice
        name="type"
        label="Type"
        all="All types"
        options={c.hook_event_types}
        value={f.type}
        onChange={set}
      />
      <label class="q">
        <span>Search</span>
        <input
          type="search"
          name="q"
          value={f.q}
          placeholder="text in any field"
          onInput={onText}
        />
      </label>
      <button type="submit" class="apply">Apply</button>
    </form>
  );
}
