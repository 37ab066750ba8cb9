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
import { type ArchiveSource, archiveSource } from "./archive_sql.ts";
import {
  archiveFileName,
  HOUR_MS,
  parseArchiveFileName,
  TEMP_FILE,
  toArchived,
  writeDurably,
} from "./archive_file.ts";
import { log } from "../base/log.ts";

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
 * const sweeper = new RetentionSweeper(new Archiver(archiveSource(store.db), dir), options);
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
      if (TEMP_FILE.test(entry.name)) {
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
  return new Archiver(archiveSource(store.db), dir);
}
