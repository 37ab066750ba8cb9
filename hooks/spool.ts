/**
 * The hook sender's local spool: events that could not be delivered wait here, one NDJSON file
 * per day, until the next successful send replays them.
 *
 * Hooks run concurrently, so every writer takes an exclusive `flock` on the file it appends to
 * and then checks that the path still names the inode it locked; a replayer claims a file by
 * renaming it (only one rename of a path can succeed) and then takes the same lock, which waits
 * out any append already under way. A process killed half-way leaves at worst a claimed file
 * that a later replay picks up again; the server stores an `event_id` once, so such a second
 * replay doubles nothing.
 *
 * @module
 */
import { createClassifier } from "../common/classify.ts";

/** An ingest body as spooled: it always carries its client-generated `event_id`. */
export interface SpooledEvent {
  event_id: string;
  hook_event_type: string;
  timestamp: number;
  [field: string]: unknown;
}

/** Options for {@linkcode Spool}. */
export interface SpoolOptions {
  /** The spool directory; created on first append. */
  dir: string;
  /** Bound on the bytes of all spool files; default 32 MiB. */
  maxBytes?: number;
  /** Which events survive an overflow longest; default the server's default classification. */
  isPriority?: (hookEventType: string) => boolean;
  /** Clock, milliseconds since the epoch. */
  now?: () => number;
}

/** A spool line that could not be read back as an event. */
export interface CorruptLine {
  file: string;
  line: number;
  reason: string;
}

/** Events taken out of the spool by {@linkcode Spool.claim}, oldest first. */
export interface Claim {
  events: SpooledEvent[];
  corrupt: CorruptLine[];
  /** The claimed files, deleted by {@linkcode Spool.release}. */
  files: string[];
}

/** Events dropped because the spool was over its bound, counted since the spool was created. */
export interface SpoolStats {
  dropped_regular: number;
  dropped_priority: number;
  dropped_corrupt: number;
}

/** Default bound on the spool's size. */
export const DEFAULT_SPOOL_MAX_BYTES = 32 * 1024 * 1024;

/** A claim older than this is taken to belong to a process that died mid-replay. */
const STALE_CLAIM_MS = 10_000;
/** How long a writer keeps trying to lock a file that replayers keep renaming away. */
const LOCK_RETRY_MS = 5_000;
const SPOOL_FILE = /^spool-\d{4}-\d{2}-\d{2}(-r[0-9a-f-]+)?\.ndjson$/;
const CLAIM_FILE = /^replay-(\d+)-[0-9a-f-]+\.ndjson$/;
const TMP_FILE = /^\.tmp-[0-9a-f-]+$/;
const encoder = new TextEncoder();

function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    written += await file.write(bytes.subarray(written));
  }
}

/**
 * Opens `path`, takes an exclusive lock and returns the file only while the path still names
 * the locked inode (a replayer may have renamed it away, or a compaction replaced it).
 */
async function openLocked(
  path: string,
  create: boolean,
): Promise<Deno.FsFile | null> {
  // A replayer renames the file every few milliseconds at most, so a writer that keeps losing
  // that race (a slow, loaded machine) tries again for a while rather than lose its event.
  const deadline = Date.now() + LOCK_RETRY_MS;
  for (let attempt = 0; attempt === 0 || Date.now() < deadline; attempt++) {
    if (attempt > 0) {
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
    }
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, {
        read: true,
        append: true,
        create,
      });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return null;
      throw error;
    }
    try {
      await file.lock(true);
      const locked = await file.stat();
      const current = await Deno.stat(path).catch(() => null);
      if (current && current.ino === locked.ino) return file;
    } catch (error) {
      file.close();
      throw error;
    }
    file.close();
    if (!create) return null;
  }
  throw new Error(`could not lock ${path}: it keeps being replaced`);
}

async function readText(file: Deno.FsFile): Promise<string> {
  await file.seek(0, Deno.SeekMode.Start);
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  const buffer = new Uint8Array(64 * 1024);
  for (;;) {
    const n = await file.read(buffer);
    if (n === null) break;
    chunks.push(buffer.slice(0, n));
  }
  return new TextDecoder().decode(await new Blob(chunks).arrayBuffer());
}

function parseLine(text: string): SpooledEvent | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return (error as Error).message;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return "not a JSON object";
  }
  const event = value as Record<string, unknown>;
  if (typeof event.event_id !== "string" || event.event_id === "") {
    return "no event_id";
  }
  if (typeof event.hook_event_type !== "string") {
    return "no hook_event_type";
  }
  if (typeof event.timestamp !== "number") return "no timestamp";
  return event as SpooledEvent;
}

/**
 * A directory of NDJSON spool files, safe to use from several processes at once.
 *
 * @example
 * ```ts
 * const spool = new Spool({ dir: "/tmp/hookwatch-spool" });
 * await spool.append({ event_id: crypto.randomUUID(), hook_event_type: "Stop", timestamp: Date.now() });
 * const claim = await spool.claim();
 * // ...send claim.events, then:
 * await spool.release(claim, []);
 * ```
 */
export class Spool {
  readonly dir: string;
  readonly maxBytes: number;
  #isPriority: (hookEventType: string) => boolean;
  #now: () => number;

  constructor(options: SpoolOptions) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes ?? DEFAULT_SPOOL_MAX_BYTES;
    this.#isPriority = options.isPriority ?? createClassifier();
    this.#now = options.now ?? Date.now;
  }

  #path(name: string): string {
    return `${this.dir}/${name}`;
  }

  async #names(): Promise<string[]> {
    const names: string[] = [];
    try {
      for await (const entry of Deno.readDir(this.dir)) {
        if (entry.isFile) names.push(entry.name);
      }
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return [];
      throw error;
    }
    return names.sort();
  }

  /**
   * Appends one event to today's file. When the spool then exceeds its bound, the oldest
   * regular events are dropped (priority ones only when nothing regular is left) down to three
   * quarters of the bound, and counted.
   *
   * @returns the events this append's compaction dropped (zeros when none).
   */
  async append(event: SpooledEvent): Promise<SpoolStats> {
    await Deno.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const line = encoder.encode(JSON.stringify(event) + "\n");
    const file = await openLocked(
      this.#path(`spool-${utcDay(this.#now())}.ndjson`),
      true,
    );
    if (!file) throw new Error("could not open the spool file");
    try {
      await writeAll(file, line);
    } finally {
      file.close();
    }
    if (await this.#size() > this.maxBytes) return await this.#compact();
    return { dropped_regular: 0, dropped_priority: 0, dropped_corrupt: 0 };
  }

  async #size(): Promise<number> {
    let total = 0;
    for (const name of await this.#names()) {
      if (!SPOOL_FILE.test(name)) continue;
      const info = await Deno.stat(this.#path(name)).catch(() => null);
      total += info?.size ?? 0;
    }
    return total;
  }

  /** Whether anything waits to be replayed. */
  async pending(): Promise<boolean> {
    return (await this.#names()).some((name) =>
      SPOOL_FILE.test(name) || CLAIM_FILE.test(name)
    );
  }

  /**
   * Takes every spooled event out of the spool for replay: the files are renamed so no other
   * process replays them too. Lines that are not events are skipped and listed in `corrupt`.
   */
  async claim(): Promise<Claim> {
    const now = this.#now();
    const claimed: { path: string; origin: string }[] = [];
    for (const name of await this.#names()) {
      const stale = CLAIM_FILE.exec(name);
      if (TMP_FILE.test(name)) {
        const info = await Deno.stat(this.#path(name)).catch(() => null);
        if (info?.mtime && now - info.mtime.getTime() > STALE_CLAIM_MS) {
          await Deno.remove(this.#path(name)).catch(() => {});
        }
        continue;
      }
      if (
        !SPOOL_FILE.test(name) &&
        !(stale && now - Number(stale[1]) > STALE_CLAIM_MS)
      ) {
        continue;
      }
      const path = this.#path(`replay-${now}-${crypto.randomUUID()}.ndjson`);
      try {
        await Deno.rename(this.#path(name), path);
        claimed.push({ path, origin: name });
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
    }
    const events: SpooledEvent[] = [];
    const corrupt: CorruptLine[] = [];
    for (const { path, origin } of claimed) {
      const file = await openLocked(path, false);
      if (!file) continue;
      let text: string;
      try {
        text = await readText(file);
      } finally {
        file.close();
      }
      text.split("\n").forEach((line, index) => {
        if (line.trim() === "") return;
        const parsed = parseLine(line);
        if (typeof parsed === "string") {
          corrupt.push({ file: origin, line: index + 1, reason: parsed });
        } else {
          events.push(parsed);
        }
      });
    }
    events.sort((a, b) => a.timestamp - b.timestamp);
    return { events, corrupt, files: claimed.map(({ path }) => path) };
  }

  /**
   * Ends a replay: `unsent` events go back into the spool (in a file of their own, written
   * atomically), then the claimed files are deleted.
   */
  async release(claim: Claim, unsent: SpooledEvent[]): Promise<void> {
    if (unsent.length > 0) {
      const text = unsent.map((event) => JSON.stringify(event)).join("\n") +
        "\n";
      await this.#writeAtomically(
        `spool-${utcDay(unsent[0].timestamp)}-r${crypto.randomUUID()}.ndjson`,
        text,
      );
    }
    for (const path of claim.files) {
      await Deno.remove(path).catch(() => {});
    }
  }

  async #writeAtomically(name: string, text: string): Promise<void> {
    await Deno.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const tmp = this.#path(`.tmp-${crypto.randomUUID()}`);
    await Deno.writeTextFile(tmp, text, { mode: 0o600 });
    await Deno.rename(tmp, this.#path(name));
  }

  /** The overflow counters. */
  async stats(): Promise<SpoolStats> {
    try {
      return JSON.parse(await Deno.readTextFile(this.#path("stats.json")));
    } catch {
      return { dropped_regular: 0, dropped_priority: 0, dropped_corrupt: 0 };
    }
  }

  async #compact(): Promise<SpoolStats> {
    const dropped: SpoolStats = {
      dropped_regular: 0,
      dropped_priority: 0,
      dropped_corrupt: 0,
    };
    // One compaction at a time; a second one waiting here finds the spool already small.
    const lock = await Deno.open(this.#path("compact.lock"), {
      write: true,
      create: true,
    });
    try {
      await lock.lock(true);
      if (await this.#size() <= this.maxBytes) return dropped;
      const files: { name: string; file: Deno.FsFile; lines: string[] }[] = [];
      try {
        for (const name of await this.#names()) {
          if (!SPOOL_FILE.test(name)) continue;
          const file = await openLocked(this.#path(name), false);
          if (!file) continue;
          files.push({ name, file, lines: (await readText(file)).split("\n") });
        }
        const entries: {
          file: number;
          line: number;
          bytes: number;
          rank: number;
          timestamp: number;
        }[] = [];
        let total = 0;
        files.forEach(({ lines }, fileIndex) => {
          lines.forEach((line, lineIndex) => {
            if (line === "") return;
            const bytes = encoder.encode(line).length + 1;
            total += bytes;
            const parsed = parseLine(line);
            // Corrupt lines go first, then regular events, then priority ones; oldest first.
            const rank = typeof parsed === "string"
              ? 0
              : this.#isPriority(parsed.hook_event_type)
              ? 2
              : 1;
            const timestamp = typeof parsed === "string" ? 0 : parsed.timestamp;
            entries.push({
              file: fileIndex,
              line: lineIndex,
              bytes,
              rank,
              timestamp,
            });
          });
        });
        entries.sort((a, b) => a.rank - b.rank || a.timestamp - b.timestamp);
        const target = Math.floor(this.maxBytes * 0.75);
        const drop = new Set<string>();
        for (const entry of entries) {
          if (total <= target) break;
          total -= entry.bytes;
          drop.add(`${entry.file}:${entry.line}`);
          if (entry.rank === 0) dropped.dropped_corrupt++;
          else if (entry.rank === 1) dropped.dropped_regular++;
          else dropped.dropped_priority++;
        }
        for (const [fileIndex, { name, lines }] of files.entries()) {
          const kept = lines.filter((line, lineIndex) =>
            line !== "" && !drop.has(`${fileIndex}:${lineIndex}`)
          );
          if (kept.length === lines.filter((line) => line !== "").length) {
            continue;
          }
          if (kept.length === 0) {
            await Deno.remove(this.#path(name));
          } else {
            await this.#writeAtomically(name, kept.join("\n") + "\n");
          }
        }
      } finally {
        for (const { file } of files) file.close();
      }
      const stats = await this.stats();
      stats.dropped_regular += dropped.dropped_regular;
      stats.dropped_priority += dropped.dropped_priority;
      stats.dropped_corrupt += dropped.dropped_corrupt;
      await this.#writeAtomically("stats.json", JSON.stringify(stats) + "\n");
      return dropped;
    } finally {
      lock.close();
    }
  }
}
