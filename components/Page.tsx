import type { Signal } from "@preact/signals";
import type { StoredEvent } from "../common/events.ts";
import type { Filters as FilterValues, View } from "../common/rows.ts";
import type { BoardView } from "../common/board.ts";
import type { FilterChoices } from "../common/worker_protocol.ts";
import type { FeedData } from "../islands/Feed.tsx";
import Board from "../islands/Board.tsx";
import Drawer from "../islands/Drawer.tsx";
import Feed from "../islands/Feed.tsx";
import Filters from "../islands/Filters.tsx";
import Inbox from "../islands/Inbox.tsx";
import Onboarding, { type OnboardingProps } from "../islands/Onboarding.tsx";
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
  /** When the page was drawn (ms): the ages it shows. */
  now: number;
  feed: FeedData;
  counts: { priority: number; regular: number; display: number };
  /** The sessions board. */
  board: BoardView;
  /** The attention inbox ("Needs you"), newest first. */
  inbox: InboxItem[];
  /** The session the timeline opens on (the filtered one, else the most urgent). */
  timeline: TimelineData | null;
  /** How to connect an agent, shown while nothing arrived. */
  onboarding: OnboardingProps;
  /** A token protects the dashboard: offer to sign out. */
  signOut: boolean;
  /** The person may acknowledge, snooze and decide (an operator or admin). */
  canAct: boolean;
  choices: FilterChoices;
  hrefs: Record<View, string>;
  view: Signal<View>;
  filters: Signal<FilterValues>;
  selected: Signal<number | null>;
  event: StoredEvent | null;
  /** Sessions with Claude Code cost, and the window their total covers. */
  sessions?: { list: SessionSummary[]; windowMs: number };
}

/**
 * The dashboard page: server components around the islands. The triage column (Needs you, the
 * sessions board) comes first in the document, so a phone, where the page is one column and
 * one scroll, shows it first; a wide screen puts it beside the timeline and the feed.
 */
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
          {p.signOut
            ? (
              <form class="signout" method="post" action="/logout">
                <button type="submit">Sign out</button>
              </form>
            )
            : null}
        </header>
        <main class="layout">
          <div class="side-col">
            <Inbox initial={p.inbox} canAct={p.canAct} />
            <Board initial={p.board} now={p.now} />
            <PulseChart minutes={1} />
            {p.sessions
              ? (
                <SessionCosts
                  initial={p.sessions.list}
                  windowMs={p.sessions.windowMs}
                />
              )
              : null}
          </div>
          <div class="main-col">
            <Onboarding {...p.onboarding} />
            <Timeline
              initial={p.timeline}
              now={p.now}
              pinned={p.filters.value.session || null}
            />
            <div class="toolbar" id="feed">
              <ViewSwitch view={p.view} counts={p.counts} hrefs={p.hrefs} />
              <Filters filters={p.filters} choices={p.choices} view={p.view} />
            </div>
            <Feed initial={p.feed} view={p.view} selected={p.selected} />
          </div>
        </main>
        <Drawer selected={p.selected} initial={p.event} />
      </body>
    </html>
  );
}
