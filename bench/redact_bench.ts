/**
 * What secret redaction costs per event at ingest (`lib/ingest/redact.ts`), on the hook
 * fixtures and on heavier realistic payloads, next to what the store pays anyway to serialize
 * the same payloads.
 *
 * `deno run -A bench/redact_bench.ts [--runs 7] [--events 200000] [--claude-fixtures DIR]`
 *
 * `--ingest` also measures what it costs a real server: its CPU time per event ingested over
 * HTTP (`--ingest-events` 30,000 in batches of 100, a tenth as single events) with
 * `HOOKWATCH_REDACT` on and off, interleaved over `--rounds` (5); the ratio is the median of
 * the rounds'.
 *
 * `--secretlint` also measures `@secretlint/core` with the recommended preset on the same
 * events (fetched from npm on first use; add `--no-lock` so deno.lock is left alone), the
 * comparison behind the module's choice of its own patterns.
 *
 * @module
 */
import { cpuUsage } from "node:process";
import type { NewEvent } from "../common/events.ts";
import { redactEvent } from "../lib/ingest/redact.ts";
import {
  cpuSeconds,
  fmt,
  parseArgs,
  printTable,
  ROOT,
  sampleEvents,
  startHookwatch,
  summarize,
  type Summary,
  writeReportPart,
} from "./lib.ts";

/** The events of one case, cycled through. */
interface Case {
  name: string;
  events: NewEvent[];
  /** Measured events per run (the heavy cases run fewer). */
  n: number;
}

function asEvents(bodies: Record<string, unknown>[]): NewEvent[] {
  return bodies.map((b) => ({
    ...(b as unknown as NewEvent),
    timestamp: 0,
    payload: structuredClone(b.payload as Record<string, unknown>),
  }));
}

const GITHUB_TOKEN = `ghp_${"Zq7".repeat(12)}`;

/** The fixture mix, each tenth event's command carrying a token in an `export` line. */
function withSecrets(events: NewEvent[]): NewEvent[] {
  return events.map((e, i) =>
    i % 10 === 0
      ? {
        ...e,
        payload: {
          ...e.payload,
          tool_input: {
            command: `export GITHUB_TOKEN=${GITHUB_TOKEN} && gh pr list`,
          },
        },
      }
      : e
  );
}

/** A `Read` result carrying real source files of this repository (about 21 KB). */
function readEvents(): NewEvent[] {
  const content = [
    "lib/store/sqlite_store.ts",
    "lib/stream/broadcaster.ts",
  ].map((p) => Deno.readTextFileSync(`${ROOT}${p}`)).join("\n");
  const base = JSON.parse(
    Deno.readTextFileSync(`${ROOT}tests/fixtures/hooks/PostToolUse.json`),
  );
  return [{
    source_app: "app",
    session_id: base.session_id,
    hook_event_type: "PostToolUse",
    timestamp: 0,
    payload: {
      ...base,
      tool_name: "Read",
      tool_input: { file_path: "/home/dev/app/src/store.ts" },
      tool_response: {
        type: "text",
        file: { filePath: "/home/dev/app/src/store.ts", content },
      },
    },
  }];
}

/** The real hook inputs of Claude Code 2.1.328 (`tests/fixtures/claude-2.1.328`), if present. */
function claudeEvents(dir: string): NewEvent[] {
  let names: string[];
  try {
    names = [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".json"))
      .map((e) => e.name).sort();
  } catch {
    return [];
  }
  return names.map((name) => {
    const payload = JSON.parse(Deno.readTextFileSync(`${dir}/${name}`));
    return {
      source_app: "claude-code",
      session_id: payload.session_id,
      hook_event_type: payload.hook_event_name,
      timestamp: 0,
      payload,
    };
  });
}

/** A Stop event with the transcript fixture as `chat` (what `--add-chat` sends). */
function chatEvents(): NewEvent[] {
  const chat = Deno.readTextFileSync(
    `${ROOT}tests/fixtures/hooks/transcript.jsonl`,
  ).trim().split("\n").map((l) => JSON.parse(l));
  const stop = JSON.parse(
    Deno.readTextFileSync(`${ROOT}tests/fixtures/hooks/Stop.json`),
  );
  return [{
    source_app: "app",
    session_id: stop.session_id,
    hook_event_type: "Stop",
    timestamp: 0,
    payload: stop,
    chat,
  }];
}

function cpuMicros(since: ReturnType<typeof cpuUsage>): number {
  const used = cpuUsage(since);
  return used.user + used.system;
}

/** CPU time (user + system) per call: on a shared machine, waiting for a core is not counted. */
function time(events: NewEvent[], n: number, step: (e: NewEvent) => unknown) {
  let sink = 0;
  const start = cpuUsage();
  for (let i = 0; i < n; i++) {
    if (step(events[i % events.length]) === null) sink++;
  }
  const micros = cpuMicros(start);
  if (sink < 0) console.log(sink);
  return micros * 1e3 / n;
}

/** Figures of one case. */
export interface CaseFigures {
  bytes_per_event: number;
  redact_ns: Summary;
  stringify_ns: Summary;
}

/** Measures ns per event for each case, `runs` times after one warm-up run. */
export function measureRedaction(
  runs: number,
  n: number,
  claudeDir = `${ROOT}tests/fixtures/claude-2.1.328`,
): Record<string, CaseFigures> {
  const mix = asEvents(sampleEvents(4096));
  const claude = claudeEvents(claudeDir);
  const cases: Case[] = [
    { name: "hook fixtures, no secret", events: mix, n },
    ...(claude.length
      ? [{ name: "Claude Code 2.1.328 hook inputs", events: claude, n }]
      : []),
    {
      name: "hook fixtures, 1 in 10 with a token",
      events: withSecrets(mix),
      n,
    },
    { name: "Read of a 21 KB source file", events: readEvents(), n: n / 100 },
    { name: "Stop with chat (4 records)", events: chatEvents(), n: n / 10 },
  ];
  const out: Record<string, CaseFigures> = {};
  for (const c of cases) {
    const redact: number[] = [];
    const stringify: number[] = [];
    for (let run = 0; run < runs + 1; run++) {
      const a = time(c.events, c.n, (e) => redactEvent(e));
      const b = time(
        c.events,
        c.n,
        (e) =>
          JSON.stringify(e.payload) + (e.chat ? JSON.stringify(e.chat) : ""),
      );
      if (run === 0) continue;
      redact.push(a);
      stringify.push(b);
    }
    const bytes = c.events.reduce(
      (sum, e) =>
        sum + JSON.stringify(e.payload).length +
        (e.chat ? JSON.stringify(e.chat).length : 0),
      0,
    ) / c.events.length;
    out[c.name] = {
      bytes_per_event: Math.round(bytes),
      redact_ns: summarize(redact),
      stringify_ns: summarize(stringify),
    };
  }
  return out;
}

/** `@secretlint/core` with the recommended preset: µs per event, async and direct. */
async function measureSecretlint(
  runs: number,
): Promise<Record<string, Summary>> {
  // Specifiers held in variables so `deno check` does not fetch them.
  const core = "npm:@secretlint/core@13.0.7";
  const preset = "npm:@secretlint/secretlint-rule-preset-recommend@13.0.7";
  const { lintSource } = await import(core);
  const { creator, rules } = await import(preset);
  const config = {
    rules: [{
      id: "@secretlint/secretlint-rule-preset-recommend",
      rule: creator,
    }],
  };
  const texts = sampleEvents(4096).map((b) => JSON.stringify(b.payload));
  const handlers = (rules as { create: (c: unknown, o: unknown) => unknown }[])
    .map((rule) =>
      rule.create({
        sharedOptions: {},
        createTranslator: () => () => ({}),
        report: () => {},
        ignore: () => {},
        getSourceFilePath: () => undefined,
      }, {}) as { file?: (source: unknown) => void }
    );
  const asyncRuns: number[] = [];
  const directRuns: number[] = [];
  for (let run = 0; run < runs + 1; run++) {
    const n = 1000;
    let start = cpuUsage();
    for (let i = 0; i < n; i++) {
      await lintSource({
        source: { content: texts[i], filePath: "/e.json", contentType: "text" },
        options: { config, noPhysicFilePath: true },
      });
    }
    const a = cpuMicros(start) / n;
    start = cpuUsage();
    for (let i = 0; i < n * 10; i++) {
      const source = { content: texts[i % 4096], ext: "", contentType: "text" };
      for (const h of handlers) h.file?.(source);
    }
    const b = cpuMicros(start) / (n * 10);
    if (run === 0) continue;
    asyncRuns.push(a);
    directRuns.push(b);
  }
  return {
    lint_source_us: summarize(asyncRuns),
    rule_handlers_us: summarize(directRuns),
  };
}

/** Posts `bodies` with `concurrency` requests in flight. */
async function postAll(
  url: string,
  bodies: string[],
  concurrency: number,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++];
        const res = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        });
        await res.body?.cancel();
        if (!res.ok) throw new Error(`${url}: ${res.status}`);
      }
    }),
  );
}

/**
 * The server's CPU time per ingested event (its own user + system time from /proc, so a busy
 * machine slows it down but does not inflate it), with redaction on and off, interleaved.
 */
async function measureIngestCost(rounds: number, events: number) {
  const shapes = [
    { name: "batches of 100", path: "/events/batch", batch: 100 },
    { name: "single events", path: "/events", batch: 1 },
  ];
  const cpu: Record<string, { on: number[]; off: number[]; ratio: number[] }> =
    {};
  for (let round = 0; round < rounds; round++) {
    const got: Record<string, Record<string, number>> = {};
    for (const mode of round % 2 ? ["off", "on"] : ["on", "off"]) {
      const server = await startHookwatch({ env: { HOOKWATCH_REDACT: mode } });
      try {
        for (const shape of shapes) {
          const n = shape.batch === 1 ? events / 10 : events;
          const bodies = sampleEvents(n).reduce<string[]>((out, e, i) => {
            if (i % shape.batch === 0) out.push("");
            out[out.length - 1] = shape.batch === 1
              ? JSON.stringify(e)
              : out[out.length - 1] + (out.at(-1) ? "\n" : "") +
                JSON.stringify(e);
            return out;
          }, []);
          const url = server.url + shape.path;
          await postAll(url, bodies.slice(0, 20), 4); // warm-up
          const before = cpuSeconds(server.pid);
          await postAll(url, bodies, 4);
          const used = cpuSeconds(server.pid) - before;
          (got[shape.name] ??= {})[mode] = used * 1e6 / n;
        }
      } finally {
        await server.stop();
      }
    }
    for (const [name, g] of Object.entries(got)) {
      const c = cpu[name] ??= { on: [], off: [], ratio: [] };
      c.on.push(g.on);
      c.off.push(g.off);
      c.ratio.push(g.on / g.off);
    }
  }
  return Object.fromEntries(
    Object.entries(cpu).map(([name, c]) => [name, {
      on_us: summarize(c.on),
      off_us: summarize(c.off),
      ratio: summarize(c.ratio),
    }]),
  );
}

if (import.meta.main) {
  const args = parseArgs(Deno.args);
  const runs = Number(args.get("runs") ?? 7);
  const n = Number(args.get("events") ?? 200_000);
  const figures = measureRedaction(runs, n, args.get("claude-fixtures"));
  printTable(
    `redaction: CPU ns per event (median of ${runs} runs)`,
    [
      "payload",
      "bytes",
      "redact ns",
      "min",
      "max",
      "JSON.stringify ns",
      "redact ÷ stringify",
    ],
    Object.entries(figures).map(([name, f]) => [
      name,
      fmt(f.bytes_per_event),
      fmt(f.redact_ns.median),
      fmt(f.redact_ns.min),
      fmt(f.redact_ns.max),
      fmt(f.stringify_ns.median),
      (f.redact_ns.median / f.stringify_ns.median).toFixed(2),
    ]),
  );
  const part: Record<string, unknown> = { runs, events_per_run: n, figures };
  if (args.has("secretlint")) {
    const sl = await measureSecretlint(Math.min(runs, 5));
    printTable(
      "secretlint 13.0.7, recommended preset, hook fixtures: CPU µs per event",
      ["how", "median µs", "min", "max"],
      [
        ["lintSource (async, whole payload JSON)", sl.lint_source_us],
        ["the preset's rule handlers called directly", sl.rule_handlers_us],
      ].map(([what, s]) => {
        const v = s as Summary;
        return [what as string, fmt(v.median), fmt(v.min), fmt(v.max)];
      }),
    );
    part.secretlint = sl;
  }
  if (args.has("ingest")) {
    const rounds = Number(args.get("rounds") ?? 5);
    const events = Number(args.get("ingest-events") ?? 30_000);
    const ingest = await measureIngestCost(rounds, events);
    printTable(
      `server CPU µs per ingested event, HOOKWATCH_REDACT on and off (${rounds} interleaved rounds, ${
        fmt(events)
      } events in batches, a tenth as single events)`,
      ["shape", "on µs", "off µs", "on ÷ off (median)", "min", "max"],
      Object.entries(ingest).map(([name, f]) => [
        name,
        fmt(f.on_us.median),
        fmt(f.off_us.median),
        f.ratio.median.toFixed(3),
        f.ratio.min.toFixed(3),
        f.ratio.max.toFixed(3),
      ]),
    );
    part.ingest_cpu = ingest;
  }
  await writeReportPart("redaction", part);
}
