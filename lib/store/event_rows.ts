/**
 * An event's stored fields, written down once: the columns, how each is written and read back,
 * and the stream's view of an event. Both SQL stores build their statements from
 * {@linkcode EVENT_FIELDS}; the DDL lives in `event_schema.ts` (append a migration there when a
 * field is added here: `event_rows_test.ts` fails until both tables have the column).
 *
 * @module
 */
import type { ClassifiedEvent, StoredEvent } from "../../common/events.ts";
import type { EventJson, RecentQuery } from "./store.ts";
import { type AgentName, DEFAULT_AGENT } from "../../common/adapters/names.ts";

/** How one field is stored. */
interface Field {
  /** PostgreSQL type of the column (the array cast of the batch insert). */
  pg: "text" | "bigint" | "smallint";
  /** Stored as JSON text. */
  json?: true;
  /** May be absent from an event: stored and served as null. */
  nullable?: true;
  /** Left out of lists and the stream (can be large); only `get` reads it. */
  detailOnly?: true;
  /** Written (and kept) when an event leaves it out: the column's default, as a JS literal. */
  fallback?: string;
}

/**
 * Every stored field but `id`, in the order the stream serves them. Adding a field: add it here
 * (and to the event types in `common/events.ts`), then one migration per store.
 */
export const EVENT_FIELDS = {
  priority: { pg: "smallint" },
  source_app: { pg: "text" },
  session_id: { pg: "text" },
  hook_event_type: { pg: "text" },
  timestamp: { pg: "bigint" },
  received_at: { pg: "bigint" },
  model_name: { pg: "text", nullable: true },
  summary: { pg: "text", nullable: true },
  event_id: { pg: "text", nullable: true },
  agent_id: { pg: "text", nullable: true },
  agent: { pg: "text", fallback: JSON.stringify(DEFAULT_AGENT) },
  agent_event: { pg: "text", nullable: true },
  payload: { pg: "text", json: true },
  chat: { pg: "text", json: true, nullable: true, detailOnly: true },
} as const satisfies Record<
  Exclude<keyof StoredEvent, "id">,
  Field
>;

type FieldName = keyof typeof EVENT_FIELDS;
const ENTRIES = Object.entries(EVENT_FIELDS) as [FieldName, Field][];

/** The stored columns but `id`, in insert order. */
export const INSERT_COLUMNS: readonly FieldName[] = ENTRIES.map(([n]) => n);

/** PostgreSQL type of each of {@linkcode INSERT_COLUMNS}. */
export const PG_TYPES: readonly string[] = ENTRIES.map(([, f]) => f.pg);

const LISTED = ENTRIES.filter(([, f]) => !f.detailOnly).map(([n]) => n);

/** The columns served in lists and on the stream, quoted (`timestamp` is a keyword). */
export const LIST_COLUMNS: string = ["id", ...LISTED].map((c) => `"${c}"`)
  .join(", ");

/** {@linkcode LIST_COLUMNS} and the detail-only ones (`get`). */
export const ALL_COLUMNS: string = ["id", ...INSERT_COLUMNS].map((c) =>
  `"${c}"`
)
  .join(", ");

/** An `events` row as the drivers return it (JSON fields as text). */
export type EventRow = Record<string, string | number | null>;

const field = (name: FieldName): Field => EVENT_FIELDS[name];

/**
 * Compiles `(params) => expression` once. These run per event on the hot path, and an object
 * literal is about a hundred times cheaper to build than one assembled key by key; the source
 * is made only of the field names above, never of input.
 */
function compile<F>(params: string[], expression: string): F {
  return new Function(...params, `"use strict"; return ${expression};`) as F;
}

const fallback = (n: FieldName): string | undefined =>
  (field(n) as Field).fallback;

const write = (n: FieldName) =>
  fallback(n) !== undefined
    ? `e.${n} ?? ${fallback(n)}`
    : field(n).json
    ? field(n).nullable
      ? `e.${n} == null ? null : JSON.stringify(e.${n})`
      : `JSON.stringify(e.${n})`
    : field(n).nullable
    ? `e.${n} ?? null`
    : `e.${n}`;
const keep = (n: FieldName) =>
  fallback(n) !== undefined
    ? `${n}: e.${n} ?? ${fallback(n)}`
    : field(n).nullable
    ? `${n}: e.${n} ?? null`
    : `${n}: e.${n}`;
const read = (n: FieldName) =>
  n === "priority"
    ? `priority: row.priority === 1 ? 1 : 0`
    : field(n).json
    ? `${n}: row.${n} === null ? null : JSON.parse(row.${n})`
    : `${n}: row.${n}`;

/** The column values of an event, in {@linkcode INSERT_COLUMNS} order. */
export const rowValues: (e: ClassifiedEvent) => (string | number | null)[] =
  compile(["e"], `[${INSERT_COLUMNS.map(write).join(", ")}]`);

/** The stored event an insert of `e` produced (what a later read returns, without chat). */
export const storedEvent: (id: number, e: ClassifiedEvent) => StoredEvent =
  compile(["id", "e"], `({ id, ${LISTED.map(keep).join(", ")} })`);

/** The event as it travels on the stream: every listed field (not chat), absent ones null. */
export const streamView: (event: StoredEvent) => Omit<StoredEvent, "chat"> =
  compile(["e"], `({ id: e.id, ${LISTED.map(keep).join(", ")} })`);

const listedFromRow: (row: EventRow) => StoredEvent = compile(
  ["row"],
  `({ id: row.id, ${LISTED.map(read).join(", ")} })`,
);
const fullFromRow: (row: EventRow) => StoredEvent = compile(
  ["row"],
  `({ id: row.id, ${INSERT_COLUMNS.map(read).join(", ")} })`,
);

const jsonOf = (n: FieldName) =>
  n === "priority"
    ? `(row.priority === 1 ? 1 : 0)`
    : field(n).json
    ? `(row.${n} === null ? "null" : row.${n})`
    : `JSON.stringify(row.${n})`;

/**
 * A listed row's stream JSON, the stored JSON text spliced in as written: the same text as
 * `JSON.stringify(streamView(toEvent(row)))`, without parsing the payload (most of a snapshot's
 * cost at 10 M rows).
 */
export const rowJson: (row: EventRow) => string = compile(
  ["row"],
  `'{"id":' + JSON.stringify(row.id) + ${
    LISTED.map((n) => `',"${n}":' + ${jsonOf(n)}`).join(" + ")
  } + '}'`,
);

/** A row of the snapshot as {@linkcode EventJson}. */
export const eventJsonOf = (row: EventRow): EventJson => ({
  id: row.id as number,
  source_app: row.source_app as string,
  priority: row.priority === 1 ? 1 : 0,
  timestamp: row.timestamp as number,
  agent: row.agent as AgentName,
  json: rowJson(row),
});

/** A row read back as an event; `chat` only when the row carries it (`get`). */
export function toEvent(row: EventRow): StoredEvent {
  return row.chat === undefined ? listedFromRow(row) : fullFromRow(row);
}

/** The predicate of the `events_agent_id` index: the rows of every agent but Claude Code. */
export const NOT_DEFAULT_AGENT = `agent <> '${DEFAULT_AGENT}'`;

/** The equality filters of a {@linkcode RecentQuery} that are set, as column/value pairs. */
export function recentFilters(query: RecentQuery): [string, string | number][] {
  const filters: [string, string | number][] = [];
  for (
    const column of [
      "source_app",
      "session_id",
      "hook_event_type",
      "priority",
      "agent",
    ] as const
  ) {
    const value = query[column];
    if (value !== undefined) filters.push([column, value]);
  }
  return filters;
}
