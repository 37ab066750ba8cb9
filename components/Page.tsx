import type { Signal } from "@preact/signals";
import type { StoredEvent } from "../common/events.ts";
import type { Filters as FilterValues, Lane, View } from "../common/rows.ts";
import type { FilterChoices } from "../common/worker_protocol.ts";
import type { FeedData } from "../islands/Feed.tsx";
import Drawer from "../islands/Drawer.tsx";
import Feed from "../islands/Feed.tsx";
import Filters from "../islands/Filters.tsx";
import Lanes from "../islands/Lanes.tsx";
import Inbox from "../islands/Inbox.tsx";
import Timeline, { type TimelineData } from "../islands/Timeline.tsx";
import type { InboxItem } from "../common/agents.ts";
import PulseChart from "../islands/PulseChart.tsx";
import SessionCosts from "../islands/SessionCosts.tsx";
import type { SessionSummary } from "../common/sessions.ts";
import StatusBar from "../islands/StatusBar.tsx";
import ViewSwitch from "../islands/ViewSwitch.tsx";

/** Built asset URLs. */
export interface PageAssets {
  css: string;
}

/** Everything the dashboard's first paint shows. */
export interface DashboardProps {
  assets: PageAssets;
  /** JSON for the client entry (`<body data-hw-config>`); absent without a client build. */
  clientConfig?: string;
  feed: FeedData;
  counts: { priority: number; regular: number; display: number };
  lanes: Lane[];
  /** The attention inbox ("Needs you"), newest first. */
  inbox: InboxItem[];
  /** The session the timeline opens on (the latest active one). */
  timeline: TimelineData | null;
  choices: FilterChoices;
  hrefs: Record<View, string>;
  view: Signal<View>;
  filters: Signal<FilterValues>;
  selected: Signal<number | null>;
  event: StoredEvent | null;
  /** Sessions with Claude Code cost, and the window their total covers. */
  sessions?: { list: SessionSummary[]; windowMs: number };
}

/** The dashboard page: server components around the islands. */
export function DashboardPage(p: DashboardProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>hookwatch</title>
        <link rel="icon" href="/static/icon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href={p.assets.css} />
      </head>
      <body data-hw-config={p.clientConfig}>
        <a class="skip" href="#feed">Skip to events</a>
        <header class="top">
          <h1>hookwatch</h1>
          <StatusBar counts={p.counts} />
        </header>
        <main class="layout">
          <div class="main-col" id="feed">
            <div class="toolbar">
              <ViewSwitch view={p.view} counts={p.counts} hrefs={p.hrefs} />
              <Filters filters={p.filters} choices={p.choices} view={p.view} />
            </div>
            <Timeline initial={p.timeline} />
            <Feed initial={p.feed} view={p.view} selected={p.selected} />
          </div>
          <div class="side-col">
            <Inbox initial={p.inbox} />
            <PulseChart minutes={1} />
            <Lanes initial={p.lanes} />
            {p.sessions
              ? (
                <SessionCosts
                  initial={p.sessions.list}
                  windowMs={p.sessions.windowMs}
                />
              )
              : null}
          </div>
        </main>
        <Drawer selected={p.selected} initial={p.event} />
      </body>
    </html>
  );
}
