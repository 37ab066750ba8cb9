/**
 * What one stored event costs the SQLite store, without HTTP: `insertBatch` in a loop on a
 * fresh WAL file (the server's options, checkpoint worker included), by events per commit and
 * by the kind of `event_id` the events carry — none, a random UUID (what many senders send),
 * or the time-ordered ids of `hooks/send_event.ts` (`eventIdAt`). A random id inserts into a
 * random page of the unique index, so every commit writes more pages to the WAL.
 *
 * `deno run -A bench/insert_bench.ts [--events 20000] [--batches 1,8,100] [--runs 3]`
 *
 * @module
 */
import { SqliteStore } from "../lib/store/sqlite_store.ts";
import { deriveFields } from "../lib/ingest/derive.ts";
import { createClassifier } from "../common/classify.ts";
import { validateEvent } from "../common/events.ts";
import { eventIdAt } from "../hooks/delivery.ts";
import {
  fmt,
  parseArgs,
  printTable,
  sampleEvents,
  summarize,
  type Summary,
  writeReportPart,
} from "./lib.ts";

const ID_KINDS = {
  none: () => null,
  random: () => crypto.randomUUID(),
  "time-ordered": () =>
    eventIdAt(Date.now(), crypto.randomUUID().replaceAll("-", "")),
} as const;

type IdKind = keyof typeof ID_KINDS;

/** Mean microseconds per stored event over `events` events in commits of `batch`. */
async function microsPerEvent(
  events: number,
  batch: number,
  kind: IdKind,
): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "hookwatch-insert-" });
  const store = SqliteStore.open(`${dir}/events.db`, {
    checkpointInWorker: true,
  });
  try {
    const now = Date.now();
    const classify = createClassifier();
    const sample = deriveFields(
      sampleEvents(1000, now).map((e) => validateEvent(e, now)),
      classify,
      now,
    );
    const id = ID_KINDS[kind];
    const start = performance.now();
    for (let done = 0; done < events; done += batch) {
      const commit = [];
      for (let i = done; i < done + batch; i++) {
        commit.push({ ...sample[i % sample.length], event_id: id() });
      }
      await store.insertBatch(commit);
    }
    return (performance.now() - start) * 1000 / events;
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const args = parseArgs(Deno.args);
  const events = Number(args.get("events") ?? 20_000);
  const batches = (args.get("batches") ?? "1,8,100").split(",").map(Number);
  const runs = Number(args.get("runs") ?? 3);
  const kinds = Object.keys(ID_KINDS) as IdKind[];
  const figures: Record<string, Summary> = {};
  for (const batch of batches) {
    const samples = new Map<IdKind, number[]>(kinds.map((k) => [k, []]));
    // Interleaved, so a noisy moment on the machine hits every kind alike.
    for (let run = 0; run < runs; run++) {
      for (const kind of kinds) {
        samples.get(kind)!.push(await microsPerEvent(events, batch, kind));
      }
    }
    for (const kind of kinds) {
      figures[`${kind} batch=${batch}`] = summarize(samples.get(kind)!);
    }
  }
  printTable(
    `SQLite insertBatch, ${fmt(events)} events per run, median of ${runs}`,
    ["event_id", "events per commit", "µs per event", "min–max"],
    Object.entries(figures).map(([name, s]) => {
      const [kind, batch] = name.split(" batch=");
      return [kind, batch, fmt(s.median), `${fmt(s.min)}–${fmt(s.max)}`];
    }),
  );
  await writeReportPart("insert", { events, runs, figures });
}
