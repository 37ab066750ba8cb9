/**
 * Classification cost per event: the classifier alone, and the whole classify step the ingest
 * path runs per event (copy with `priority` and `received_at`).
 *
 * `deno run -A bench/classify_bench.ts [--runs 7] [--events 1000000]`
 *
 * @module
 */
import { CORE_HOOK_TYPES, createClassifier } from "../common/classify.ts";
import {
  fmt,
  parseArgs,
  printTable,
  sampleEvents,
  summarize,
  type Summary,
  writeReportPart,
} from "./lib.ts";

/** Figures of one classification measurement. */
export interface ClassifyFigures {
  classifier_ns: Summary;
  classify_step_ns: Summary;
}

/** Measures ns per event, `runs` times over `n` events. */
export function measureClassify(runs: number, n: number): ClassifyFigures {
  const classify = createClassifier();
  const types = [...CORE_HOOK_TYPES, "TeammateIdle", "FileChanged"];
  const inputs = Array.from(
    { length: 4096 },
    (_, i) => types[i % types.length],
  );
  const events = sampleEvents(4096);
  const classifier: number[] = [];
  const step: number[] = [];
  let sink = 0;
  for (let run = 0; run < runs + 1; run++) {
    let start = performance.now();
    for (let i = 0; i < n; i++) if (classify(inputs[i & 4095])) sink++;
    const a = (performance.now() - start) * 1e6 / n;
    start = performance.now();
    const now = Date.now();
    for (let i = 0; i < n; i++) {
      const e = events[i & 4095];
      const c = {
        ...e,
        priority: classify(e.hook_event_type as string) ? 1 : 0,
        received_at: now,
      };
      sink += c.priority;
    }
    const b = (performance.now() - start) * 1e6 / n;
    if (run === 0) continue; // warm-up
    classifier.push(a);
    step.push(b);
  }
  if (sink < 0) console.log(sink);
  return {
    classifier_ns: summarize(classifier),
    classify_step_ns: summarize(step),
  };
}

if (import.meta.main) {
  const args = parseArgs(Deno.args);
  const runs = Number(args.get("runs") ?? 7);
  const n = Number(args.get("events") ?? 1_000_000);
  const figures = measureClassify(runs, n);
  printTable(
    `classification: ns per event (${runs} runs of ${fmt(n)} events)`,
    ["what", "median ns", "min", "max", "target"],
    [
      [
        "classifier (Set lookup)",
        fmt(figures.classifier_ns.median),
        fmt(figures.classifier_ns.min),
        fmt(figures.classifier_ns.max),
        "< 1,000 ns",
      ],
      [
        "classify step (copy + priority)",
        fmt(figures.classify_step_ns.median),
        fmt(figures.classify_step_ns.min),
        fmt(figures.classify_step_ns.max),
        "< 1,000 ns",
      ],
    ],
  );
  await writeReportPart("classification", {
    runs,
    events_per_run: n,
    ...figures,
    target_ns: 1000,
    guide_target_ns: 1_000_000,
  });
}
