import { Hono } from "hono";
import { signal } from "@preact/signals";
import { renderToString } from "preact-render-to-string";
import type { Deps } from "../lib/hookwatch.ts";
import { listSessions } from "../lib/sessions/views.ts";
import { streamEventOf } from "../lib/stream/sse.ts";
import { DashboardState } from "../common/dashboard_state.ts";
import { renderWithIslands } from "../common/islands.ts";
import { filtersFromParams, type View } from "../common/rows.ts";
import type { StoredEvent } from "../common/events.ts";
import { islands } from "../islands/mod.ts";
import { param, query } from "./edge/params.ts";
import { BUILD_DIR, isolate } from "./static.ts";
import { DashboardPage } from "../components/Page.tsx";
import type { ClientConfig } from "../islands/live.ts";
import type { TimelineData } from "../islands/Timeline.tsx";

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

/** The timeline the page opens on: the filtered session, else the latest active one. */
async function firstTimeline(
  hw: Deps,
  session: string | null,
): Promise<TimelineData | null> {
  const activity = session === null
    ? (await hw.agents.activities(1))[0] ?? null
    : await hw.agents.activity(session);
  const id = session ?? activity?.session_id ?? null;
  if (id === null) return null;
  return {
    session_id: id,
    activity,
    tools: await hw.agents.tools(id, { limit: 1000 }),
  };
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

    const [{ snapshot }, options, event, manifest, inbox, timeline] =
      await Promise
        .all([
          hw.snapshots.take(),
          hw.store.filterOptions(),
          eventId === null ? null : hw.store.get(eventId),
          readManifest(),
          hw.agents.inbox({ status: "active", limit: 200 }),
          firstTimeline(hw, filters.session || null),
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
    }, now);
    state.receiveSnapshot(
      {
        priority: snapshot.priority.map(streamEventOf),
        regular: snapshot.regular.map(streamEventOf),
      },
      0,
      now,
    );
    const paint = state.view();
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
          feed={{
            priority: paint.priority,
            regular: paint.regular,
            shownRegular: paint.shownRegular,
          }}
          counts={paint.counts}
          lanes={paint.lanes}
          inbox={inbox}
          timeline={timeline}
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
