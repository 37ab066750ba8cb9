import { Hono } from "hono";
import { signal } from "@preact/signals";
import { renderToString } from "preact-render-to-string";
import { fileURLToPath } from "node:url";
import type { Deps } from "../lib/hookwatch.ts";
import { allows } from "../common/access.ts";
import { listSessions } from "../lib/sessions/views.ts";
import { streamEventOf } from "../lib/stream/sse.ts";
import { DashboardState } from "../common/dashboard_state.ts";
import { BOARD_LIMITS, urgentSession } from "../common/board.ts";
import { TIMELINE_CALLS } from "../common/timeline.ts";
import { renderWithIslands } from "../common/islands.ts";
import { filtersFromParams, type View } from "../common/rows.ts";
import type { StoredEvent } from "../common/events.ts";
import { islands } from "../islands/mod.ts";
import { param, query } from "./edge/params.ts";
import { BUILD_DIR, isolate } from "./static.ts";
import { DashboardPage } from "../components/Page.tsx";
import type { ClientConfig } from "../islands/live.ts";
import type { TimelineData } from "../islands/Timeline.tsx";

/** The hookwatch checkout, where `deno task hooks:install` runs (the onboarding says so). */
const CHECKOUT = fileURLToPath(new URL("../", import.meta.url)).replace(
  /\/$/,
  "",
);

/** The build's manifest: hashed file names. */
export interface BuildManifest {
  inputs: string;
  boot: string;
  worker: string;
  css: string;
}

async function readManifest(): Promise<BuildManifest | null> {
  try {
    return JSON.parse(await Deno.readTextFile(`${BUILD_DIR}manifest.json`));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

// The filter form submits every field, so an empty one is no value; app, session, type and
// q are the worker's own filters (filtersFromParams).
const pageQuery = query({
  view: param.oneOf(
    ["all", "priority", "regular"],
    "must be all, priority or regular",
  ),
  event: param.integer(1),
  metricsInterval: param.integer(1000, 3_600_000),
}, { blankIsAbsent: true });

const CHOICES_SHOWN = 500;

/** The timeline the page opens on: the filtered session, else the board's most urgent. */
async function firstTimeline(
  hw: Deps,
  session: string | null,
): Promise<TimelineData | null> {
  if (session === null) return null;
  const [activity, tools] = await Promise.all([
    hw.agents.activity(session),
    hw.agents.tools(session, { limit: TIMELINE_CALLS, newest: true }),
  ]);
  return { session_id: session, activity, tools };
}

/**
 * `GET /`: the dashboard's server-rendered first paint of the dual-bucket snapshot, with its
 * islands (their files are `static.ts`'s).
 */
export function dashboardRoutes(hw: Deps): Hono {
  const app = new Hono();

  app.get("/", pageQuery, async (c) => {
    const params = new URL(c.req.url).searchParams;
    const page = c.req.valid("query");
    const view: View = page.view ?? "all";
    const eventId = page.event ?? null;
    const metricsIntervalMs = page.metricsInterval ?? 60_000;
    const filters = filtersFromParams(params);

    const [{ snapshot }, options, event, manifest, inbox, known] = await Promise
      .all([
        hw.snapshots.take(),
        hw.store.filterOptions(),
        eventId === null ? null : hw.store.get(eventId),
        readManifest(),
        hw.agents.inbox({ status: "active", limit: 200 }),
        // The board's seeds: what the worker reads from GET /sessions when it connects.
        listSessions(hw, {
          limit: BOARD_LIMITS.kept,
          sort: "last_seen",
          order: "desc",
        }),
      ]);
    // The worker's own state, fed the snapshot: the first paint is what the worker will draw.
    const now = Date.now();
    const state = new DashboardState({
      priorityTypes: hw.config.priorityEventTypes,
      retention: {
        priority: hw.config.retentionPriorityMs,
        regular: hw.config.retentionRegularMs,
      },
      filters,
      staleAfterMs: hw.config.agents.staleAfterMs,
    }, now);
    state.receiveSnapshot(
      {
        priority: snapshot.priority.map(streamEventOf),
        regular: snapshot.regular.map(streamEventOf),
      },
      0,
      now,
    );
    state.seedSessions(known);
    const paint = state.view(now);
    const timeline = await firstTimeline(
      hw,
      filters.session || urgentSession(paint.board),
    );
    const hrefs = {} as Record<View, string>;
    for (const v of ["all", "priority", "regular"] as const) {
      const next = new URLSearchParams(params);
      next.delete("event");
      if (v === "all") next.delete("view");
      else next.set("view", v);
      const search = next.toString();
      hrefs[v] = search ? `/?${search}` : "/";
    }
    const clientConfig: ClientConfig | null = manifest && {
      workerUrl: `/static/build/${manifest.worker}`,
      streamUrl: "/stream",
      priorityTypes: hw.config.priorityEventTypes,
      retention: {
        priority: hw.config.retentionPriorityMs,
        regular: hw.config.retentionRegularMs,
      },
      metricsIntervalMs,
      filters,
      staleAfterMs: hw.config.agents.staleAfterMs,
      sessionsUrl: `/sessions?limit=${BOARD_LIMITS.kept}`,
    };

    const sessions = await listSessions(hw, {
      limit: 200,
      sort: "cost_usd",
      order: "desc",
      since: Date.now() - hw.config.retentionPriorityMs,
    });
    const { html, islands: count } = renderWithIslands(
      () => (
        <DashboardPage
          assets={{
            css: manifest
              ? `/static/build/${manifest.css}`
              : "/static/dashboard.css",
          }}
          clientConfig={clientConfig ? JSON.stringify(clientConfig) : undefined}
          now={now}
          feed={{
            priority: paint.priority,
            regular: paint.regular,
            shownRegular: paint.shownRegular,
          }}
          counts={paint.counts}
          board={paint.board}
          inbox={inbox}
          timeline={timeline}
          onboarding={{
            serverUrl: new URL(c.req.url).origin,
            tokenSet: hw.access.hasTokens,
            checkout: CHECKOUT,
            empty: paint.counts.display === 0 &&
              paint.board.sessions.length + paint.board.endedCount === 0,
          }}
          signOut={hw.access.hasTokens}
          canAct={allows(c.get("identity").role, "act")}
          choices={{
            source_apps: options.source_apps.slice(0, CHOICES_SHOWN),
            session_ids: options.session_ids.slice(0, CHOICES_SHOWN),
            hook_event_types: options.hook_event_types.slice(0, CHOICES_SHOWN),
          }}
          hrefs={hrefs}
          view={signal(view)}
          filters={signal(filters)}
          selected={signal(eventId)}
          event={event as StoredEvent | null}
          sessions={{
            list: sessions,
            windowMs: hw.config.retentionPriorityMs,
          }}
        />
      ),
      islands,
      renderToString,
    );
    // Only a page with islands loads the client.
    const script = count > 0 && manifest
      ? `<script type="module" src="/static/build/${manifest.boot}"></script>`
      : "";
    isolate(c);
    c.header("cache-control", "no-store");
    if (eventId !== null && !event) c.status(404);
    return c.html(
      `<!DOCTYPE html>${html.replace("</body>", `${script}</body>`)}`,
    );
  });

  return app;
}
