/**
 * Archive before delete (`HOOKWATCH_ARCHIVE_DIR`): retention writes the events it expires to
 * gzip-compressed NDJSON files, one per bucket and hour of `timestamp` (UTC), and deletes them
 * only once the file is durable.
 *
 * - A file is `events-<bucket>-<YYYY-MM-DDTHH>-<last id, 16 digits>.ndjson.gz`: names sort by
 *   bucket, then hour, then id. Each line is one event with every stored field, `id` included
 *   (`payload` and `chat` as JSON values). An hour that gains late events after it was archived
 *   gets another file, never a rewrite.
 * - Only whole hours are archived: an event is kept until its hour has expired entirely (at most
 *   one hour past its retention), so each bucket-hour is normally one file.
 * - Crash safety without a journal: a file holds exactly the rows of its bucket-hour with
 *   `id ≤ last id` (ids only grow, rows never change), and is written to a hidden temporary
 *   file, fsynced, renamed and the directory fsynced before any row is deleted. Before archiving
 *   an hour, the rows an existing file already holds are deleted first. So a crash (or a failed
 *   delete) at any point neither loses an event nor puts one in two files.
 * - On PostgreSQL one replica archives at a time (a session advisory lock); replicas that
 *   archive must share the directory.
 *
 * @module
 */
import { join } from "node:path";
import { ConfigError } from "../base/config.ts";
import type { EventStore, ExpiredCount } from "./store.ts";
import {
  type ArchiveSource,
  archiveSource,
  type FullRow,
} from "./archive_sql.ts";
import { log } from "../base/log.ts";

/** One archived event: every stored field, payload and chat as JSON values. */
export interface ArchivedEvent {
  id: number;
  source_app: string;
  session_id: string;
  hook_event_type: string;
  payload: Record<string, unknown>;
  chat: unknown[] | null;
  summary: string | null;
  model_name: string | null;
  timestamp: number;
  received_at: number;
  priority: 0 | 1;
  event_id: string | null;
  agent_id: string | null;
}

/** Archive files are per hour. */
export const HOUR_MS = 3_600_000;

const NAME =
  /^events-(priority|regular)-(\d{4}-\d{2}-\d{2}T\d{2})-(\d{16,})\.ndjson\.gz$/;
const TEMP = /^\.events-.*\.tmp$/;

/** A parsed archive file name. */
export interface ArchiveName {
  bucket: "priority" | "regular";
  /** Start of the hour, milliseconds since the epoch. */
  hour: number;
  /** The largest id in the file. */
  lastId: number;
}

/**
 * The file name for a bucket-hour's events up to `lastId`.
 *
 * @example
 * ```ts
 * archiveFileName({ bucket: "priority", hour: Date.UTC(2026, 11, 1, 19), lastId: 42 });
 * // "events-priority-2026-12-01T19-0000000000000042.ndjson.gz"
 * ```
 */
export function archiveFileName(name: ArchiveName): string {
  const hour = new Date(name.hour).toISOString().slice(0, 13);
  return `events-${name.bucket}-${hour}-${
    String(name.lastId).padStart(16, "0")
  }.ndjson.gz`;
}

/** Reads an archive file name; null for any other file. */
export function parseArchiveFileName(file: string): ArchiveName | null {
  const match = NAME.exec(file);
  if (!match) return null;
  return {
    bucket: match[1] as ArchiveName["bucket"],
    hour: Date.parse(`${match[2]}:00:00Z`),
    lastId: Number(match[3]),
  };
}

/** A stored row as an archive line's event. */
export function toArchived(row: FullRow): ArchivedEvent {
  return {
    id: Number(row.id),
    source_app: row.source_app,
    session_id: row.session_id,
    hook_event_type: row.hook_event_type,
    payload: JSON.parse(row.payload),
    chat: row.chat === null ? null : JSON.parse(row.chat),
    summary: row.summary,
    model_name: row.model_name,
    timestamp: Number(row.timestamp),
    received_at: Number(row.received_at),
    priority: Number(row.priority) === 1 ? 1 : 0,
    event_id: row.event_id,
    agent_id: row.agent_id,
  };
}

/** A line of an archive file that is not an archived event. */
export class ArchiveFormatError extends Error {
  constructor(readonly file: string, readonly line: number, message: string) {
    super(`${file}:${line}: ${message}`);
    this.name = "ArchiveFormatError";
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Checks one parsed archive line and returns it as a row to import.
 *
 * @throws {Error} naming the first bad field.
 */
export function fromArchived(value: unknown): FullRow {
  if (!isObject(value)) throw new Error("not a JSON object");
  const integer = (field: string, min: number) => {
    const v = value[field];
    if (!Number.isSafeInteger(v) || (v as number) < min) {
      throw new Error(`${field} must be an integer ≥ ${min}`);
    }
    return v as number;
  };
  const text = (field: string, required: boolean) => {
    const v = value[field];
    if (v === null || v === undefined) {
      if (required) throw new Error(`${field} is required`);
      return null;
    }
    if (typeof v !== "string" || (required && v === "")) {
      throw new Error(
        `${field} must be a${required ? " non-empty" : ""} string`,
      );
    }
    return v;
  };
  if (!isObject(value.payload)) throw new Error("payload must be an object");
  const chat = value.chat ?? null;
  if (chat !== null && !Array.isArray(chat)) {
    throw new Error("chat must be an array or null");
  }
  const priority = value.priority;
  if (priority !== 0 && priority !== 1) {
    throw new Error("priority must be 0 or 1");
  }
  return {
    id: integer("id", 1),
    source_app: text("source_app", true)!,
    session_id: text("session_id", true)!,
    hook_event_type: text("hook_event_type", true)!,
    payload: JSON.stringify(value.payload),
    chat: chat === null ? null : JSON.stringify(chat),
    summary: text("summary", false),
    model_name: text("model_name", false),
    timestamp: integer("timestamp", 0),
    received_at: integer("received_at", 0),
    priority,
    event_id: text("event_id", false),
    agent_id: text("agent_id", false),
  };
}

/**
 * The events of an archive file, in file order.
 *
 * @throws {ArchiveFormatError} at the first line that is not an archived event.
 */
export async function* readArchive(path: string): AsyncGenerator<FullRow> {
  const file = await Deno.open(path);
  const lines = file.readable
    .pipeThrough(new DecompressionStream("gzip"))
    .pipeThrough(new TextDecoderStream());
  let buffer = "";
  let number = 0;
  const parse = (line: string) => {
    number++;
    try {
      return fromArchived(JSON.parse(line));
    } catch (error) {
      throw new ArchiveFormatError(path, number, (error as Error).message);
    }
  };
  try {
    for await (const text of lines) {
      buffer += text;
      let end;
      while ((end = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 1);
        if (line.trim() !== "") yield parse(line);
      }
    }
  } catch (error) {
    if (error instanceof ArchiveFormatError) throw error;
    throw new ArchiveFormatError(
      path,
      number + 1,
      `not a gzip NDJSON archive: ${(error as Error).message}`,
    );
  }
  if (buffer.trim() !== "") yield parse(buffer);
}

/** fsync of a directory, so a rename in it survives a power loss. */
async function syncDir(dir: string): Promise<void> {
  const handle = await Deno.open(dir, { read: true });
  try {
    await handle.sync();
  } finally {
    handle.close();
  }
}

/**
 * Writes `chunks`, gzip-compressed, to `dir/name` durably: a hidden temporary file, fsync,
 * rename, fsync of the directory. Returns the compressed size.
 */
export async function writeDurably(
  dir: string,
  name: string,
  chunks: AsyncIterable<Uint8Array<ArrayBuffer>>,
): Promise<number> {
  const temp = join(dir, `.${name}.tmp`);
  const file = await Deno.open(temp, {
    write: true,
    create: true,
    truncate: true,
  });
  let bytes = 0;
  try {
    const gzip = ReadableStream.from(chunks).pipeThrough(
      new CompressionStream("gzip"),
    );
    for await (const chunk of gzip) {
      let rest = chunk;
      while (rest.length > 0) rest = rest.subarray(await file.write(rest));
      bytes += chunk.length;
    }
    await file.sync();
  } catch (error) {
    file.close();
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
  file.close();
  const path = join(dir, name);
  if (await Deno.lstat(path).then(() => true, () => false)) {
    await Deno.remove(temp);
    throw new Error(`archive file ${name} exists already`);
  }
  await Deno.rename(temp, path);
  await syncDir(dir);
  return bytes;
}

/**
 * Creates `dir` when needed and checks hookwatch can write files into it.
 *
 * @throws {ConfigError} naming `HOOKWATCH_ARCHIVE_DIR` when it cannot.
 */
export async function ensureArchiveDir(dir: string): Promise<void> {
  try {
    await Deno.mkdir(dir, { recursive: true });
    const probe = join(dir, ".hookwatch-probe.tmp");
    await Deno.writeTextFile(probe, "");
    await Deno.remove(probe);
  } catch (error) {
    throw new ConfigError(
      "HOOKWATCH_ARCHIVE_DIR",
      `cannot write to ${dir}: ${(error as Error).message}`,
    );
  }
}

const encoder = new TextEncoder();

/**
 * Retention's delete step with archiving: {@linkcode Archiver.deleteExpired} archives every
 * whole bucket-hour before the cut-offs, then deletes it.
 *
 * @example
 * ```ts
 * const sweeper = new RetentionSweeper(new Archiver(archiveSource(store), dir), options);
 * ```
 */
export class Archiver implements Pick<EventStore, "deleteExpired"> {
  readonly #source: ArchiveSource;
  readonly #dir: string;

  constructor(source: ArchiveSource, dir: string) {
    this.#source = source;
    this.#dir = dir;
  }

  /** Archives and deletes every whole hour older than the cut-offs; returns what it deleted. */
  async deleteExpired(
    priorityBefore: number,
    regularBefore: number,
    batchSize: number,
  ): Promise<ExpiredCount> {
    const done = await this.#source.exclusive(async (source) => {
      const archived = await this.#scan();
      const bucket = (priority: 0 | 1, before: number) =>
        this.#bucket(source, priority, before, batchSize, archived);
      return {
        priority: await bucket(1, priorityBefore),
        regular: await bucket(0, regularBefore),
      };
    });
    return done ?? { priority: 0, regular: 0 };
  }

  /** The largest archived id per bucket-hour; removes temporary files a crash left. */
  async #scan(): Promise<Map<string, number>> {
    const archived = new Map<string, number>();
    for await (const entry of Deno.readDir(this.#dir)) {
      if (!entry.isFile) continue;
      if (TEMP.test(entry.name)) {
        await Deno.remove(join(this.#dir, entry.name)).catch(() => {});
        continue;
      }
      const name = parseArchiveFileName(entry.name);
      if (!name) continue;
      const key = `${name.bucket}|${name.hour}`;
      archived.set(key, Math.max(archived.get(key) ?? 0, name.lastId));
    }
    return archived;
  }

  async #bucket(
    source: ArchiveSource,
    priority: 0 | 1,
    before: number,
    batchSize: number,
    archived: Map<string, number>,
  ): Promise<number> {
    const bucket = priority === 1 ? "priority" : "regular";
    const cutoff = Math.floor(before / HOUR_MS) * HOUR_MS;
    let deleted = 0;
    let previous = NaN;
    let repeats = 0;
    while (true) {
      const oldest = await source.oldest(priority, cutoff);
      if (oldest === null) break;
      const hour = Math.floor(oldest / HOUR_MS) * HOUR_MS;
      // The same hour again means rows were not deleted (locked elsewhere) or keep arriving
      // late: leave them to the next sweep rather than loop.
      repeats = hour === previous ? repeats + 1 : 0;
      if (repeats > 2) break;
      previous = hour;
      const key = `${bucket}|${hour}`;
      const end = hour + HOUR_MS;
      const known = archived.get(key);
      if (known !== undefined) {
        // Already in a file (a crash or failed delete after writing it): finish the delete.
        deleted += await deleteUpTo(
          source,
          priority,
          hour,
          end,
          known,
          batchSize,
        );
      }
      const range = await source.idRange(priority, hour, end);
      if (range === null) continue;
      // Archived rows that could not be deleted yet (locked by another replica's delete).
      if (known !== undefined && range.hi <= known) break;
      const file = archiveFileName({ bucket, hour, lastId: range.hi });
      const start = performance.now();
      let events = 0;
      const bytes = await writeDurably(
        this.#dir,
        file,
        (async function* () {
          let after = range.lo - 1;
          while (true) {
            const rows = await source.page(
              priority,
              hour,
              end,
              after,
              range.hi,
              batchSize,
            );
            if (rows.length === 0) return;
            events += rows.length;
            after = Number(rows[rows.length - 1].id);
            yield encoder.encode(
              rows.map((row) => JSON.stringify(toArchived(row)) + "\n").join(
                "",
              ),
            );
          }
        })(),
      );
      archived.set(key, range.hi);
      const removed = await deleteUpTo(
        source,
        priority,
        hour,
        end,
        range.hi,
        batchSize,
      );
      deleted += removed;
      log.info("events archived", {
        file,
        bucket,
        hour: new Date(hour).toISOString(),
        events,
        deleted: removed,
        bytes,
        duration_ms: Math.round(performance.now() - start),
      });
    }
    return deleted;
  }
}

/** Deletes the bucket-hour's rows up to `upTo` in batches, yielding between them. */
async function deleteUpTo(
  source: ArchiveSource,
  priority: 0 | 1,
  from: number,
  to: number,
  upTo: number,
  batchSize: number,
): Promise<number> {
  let total = 0;
  while (true) {
    const n = await source.deleteUpTo(priority, from, to, upTo, batchSize);
    total += n;
    if (n < batchSize) return total;
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

/** Retention's delete step for `store` with archiving into `dir`. */
export function archivingStore(store: EventStore, dir: string): Archiver {
  return new Archiver(archiveSource(store), dir);
}
