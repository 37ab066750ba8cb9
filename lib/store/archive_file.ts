/**
 * The archive file format: names, lines, reading, and durable writing. A file is
 * `events-<bucket>-<YYYY-MM-DDTHH>-<last id, 16 digits>.ndjson.gz`, gzip-compressed NDJSON with
 * one event per line, every stored field, `id` included (`payload` and `chat` as JSON values).
 *
 * @module
 */
import { join } from "node:path";
import type { FullRow } from "./archive_sql.ts";
import { DEFAULT_AGENT } from "../../common/adapters/names.ts";

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
  /** Absent in files written before agents were told apart: Claude Code. */
  agent: string;
  agent_event: string | null;
}

/** Archive files are per hour. */
export const HOUR_MS = 3_600_000;

const NAME =
  /^events-(priority|regular)-(\d{4}-\d{2}-\d{2}T\d{2})-(\d{16,})\.ndjson\.gz$/;
/** Temporary files `writeDurably` leaves behind when killed. */
export const TEMP_FILE = /^\.events-.*\.tmp$/;

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
    agent: row.agent,
    agent_event: row.agent_event,
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
    agent: text("agent", false) ?? DEFAULT_AGENT,
    agent_event: text("agent_event", false),
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
