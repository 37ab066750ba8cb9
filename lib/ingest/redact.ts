/**
 * Secrets never stored: at ingest, before an event is stored, streamed or logged, every value
 * that looks like a secret is replaced by `[REDACTED:<kind>]`. This module walks an event and
 * is the ingest step ({@linkcode createRedactor}); what counts as a secret is
 * `redact_rules.ts`, redacting one string `redact_match.ts`. Must not hold a rule or a pattern
 * of its own.
 *
 * What is scanned: every string of `payload` at any depth, object keys included (a key that is
 * itself a token is renamed; two renamed alike get `#2`, `#3`), `summary`, and every string of
 * `chat`, for every event type and every route (all of them call `Hookwatch.ingest`, OTLP
 * timeline events included). Left alone: the identifiers `source_app`, `session_id`,
 * `hook_event_type`, `event_id` and `model_name` — validated names that group, filter and
 * deduplicate events; rewriting them would split sessions and break idempotent retries, and none
 * of Claude Code's carries a secret. Numbers and booleans are kept, also under a secret's name.
 *
 * Cost: one pass of six small pre-checks over all of an event's strings joined; almost every
 * event stops there, returned as it came without a copy. Only a string with a hint goes through
 * the exact rules, each again behind its own hint. On the hook fixtures that is about 2.3× a
 * `JSON.stringify` of the same payload (which the store does anyway); see docs/REDACTION.md and BENCHMARKS.md, "Redaction".
 *
 * @module
 */
import type { NewEvent } from "../../common/events.ts";
import { LIMITS } from "../../common/events.ts";
import type { RedactPattern } from "../base/redact_config.ts";
import { instruments } from "../base/instruments.ts";
import {
  applyRules,
  cachedKeyKind,
  count,
  type Counts,
  mayHoldSecret,
  redactString,
  tokenKind,
} from "./redact_match.ts";
import { isPlaceholder, redacted } from "./redact_rules.ts";

/** Nesting deeper than this is replaced whole by `[REDACTED:too_deep]` (no real payload nests so). */
export const MAX_DEPTH = 1000;

const cleanKeys = new Set<string>();

/**
 * Whether an object key needs nothing: it names no secret and holds none. Remembered, since the
 * same few dozen keys come in every event (object keys are interned, so the lookup is cheap).
 */
function keyIsClean(key: string): boolean {
  if (cleanKeys.has(key)) return true;
  if (cachedKeyKind(key) !== null || applyRules(key, new Map()) !== key) {
    return false;
  }
  if (cleanKeys.size >= 4096) cleanKeys.clear();
  cleanKeys.add(key);
  return true;
}

interface Walk {
  extra: readonly RedactPattern[];
  counts: Counts;
}

function text(value: string, w: Walk): string {
  return redactString(value, w.extra, w.counts);
}

/**
 * Redacts every string in a JSON value (object keys too). Unchanged parts keep their identity,
 * so a clean value is returned as it came, without a copy.
 */
export function redactValue(
  value: unknown,
  extra: readonly RedactPattern[] = [],
  counts: Counts = new Map(),
): unknown {
  return walk(value, { extra, counts }, 0);
}

function walk(value: unknown, w: Walk, depth: number): unknown {
  if (typeof value === "string") return text(value, w);
  if (typeof value !== "object" || value === null) return value;
  if (depth >= MAX_DEPTH) {
    count(w.counts, "too_deep");
    return redacted("too_deep");
  }
  if (Array.isArray(value)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      const next = walk(item, w, depth + 1);
      if (next !== item) (out ??= value.slice())[i] = next;
    }
    return out ?? value;
  }
  const object = value as Record<string, unknown>;
  let out: Record<string, unknown> | null = null;
  let renamed = false;
  for (const key in object) {
    if (!Object.hasOwn(object, key)) continue;
    const item = object[key];
    let next: unknown;
    const kind = typeof item === "string" ? cachedKeyKind(key) : null;
    if (kind !== null && !isPlaceholder(item as string)) {
      const exact = tokenKind(item as string) ?? kind;
      count(w.counts, exact);
      next = redacted(exact);
    } else {
      next = walk(item, w, depth + 1);
    }
    if (
      !keyIsClean(key) &&
      text(key, { extra: w.extra, counts: new Map() }) !== key
    ) {
      renamed = true;
    }
    if (next !== item) define(out ??= { ...object }, key, next);
  }
  if (renamed) return renameKeys(out ?? object, w);
  return out ?? value;
}

/** Sets an own property, also one named `__proto__` (JSON.parse makes those). */
function define(target: Record<string, unknown>, key: string, value: unknown) {
  if (key === "__proto__") {
    Object.defineProperty(target, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  } else target[key] = value;
}

/** A copy with redacted key names, in order; keys that redact alike get `#2`, `#3`, …. */
function renameKeys(
  object: Record<string, unknown>,
  w: Walk,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(object)) {
    const base = text(key, w);
    let name = base;
    for (let n = 2; Object.hasOwn(out, name); n++) name = `${base}#${n}`;
    define(out, name, object[key]);
  }
  return out;
}

/**
 * Collects every string value of a JSON value into `parts`, for one pre-check per event;
 * false when a key needs a closer look (it names a secret or holds one).
 */
function collect(value: unknown, parts: string[], depth: number): boolean {
  if (typeof value === "string") {
    parts.push(value);
    return true;
  }
  if (typeof value !== "object" || value === null) return true;
  if (depth >= MAX_DEPTH) return false;
  let clean = true;
  if (Array.isArray(value)) {
    for (const item of value) clean = collect(item, parts, depth + 1) && clean;
    return clean;
  }
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    clean = keyIsClean(key) && clean;
    clean =
      collect((value as Record<string, unknown>)[key], parts, depth + 1) &&
      clean;
  }
  return clean;
}

/**
 * The event with its secrets redacted: `payload` (values and keys, at any depth), `summary`
 * and `chat`. The same object when nothing was found.
 */
export function redactEvent(
  event: NewEvent,
  extra: readonly RedactPattern[] = [],
  counts: Counts = new Map(),
): NewEvent {
  // One pre-check over all the event's strings: almost every event stops here. Keys are
  // checked one by one, and remembered.
  const parts: string[] = [];
  let clean = collect(event.payload, parts, 0);
  if (typeof event.summary === "string") parts.push(event.summary);
  if (Array.isArray(event.chat)) clean = collect(event.chat, parts, 0) && clean;
  if (clean && extra.length === 0 && !mayHoldSecret(parts.join("\n"))) {
    return event;
  }
  const w: Walk = { extra, counts };
  const payload = walk(event.payload, w, 0) as Record<string, unknown>;
  let summary = event.summary;
  if (typeof summary === "string") {
    summary = text(summary, w);
    if (summary.length > LIMITS.summaryLength) {
      summary = summary.slice(0, LIMITS.summaryLength);
    }
  }
  const chat = Array.isArray(event.chat)
    ? walk(event.chat, w, 0) as unknown[]
    : event.chat;
  if (
    payload === event.payload && summary === event.summary &&
    chat === event.chat
  ) {
    return event;
  }
  return { ...event, payload, summary, chat };
}

/** Options for {@linkcode createRedactor}. */
export interface RedactorOptions {
  /** false (`HOOKWATCH_REDACT=off`) stores events as they came. */
  enabled: boolean;
  /** `HOOKWATCH_REDACT_PATTERNS`. */
  extra?: readonly RedactPattern[];
}

/**
 * The ingest step: redacts a batch of events and counts what it replaced in
 * `redactions_total{kind}`.
 *
 * @example
 * ```ts
 * const redact = createRedactor({ enabled: true });
 * await committer.submit(deriveFields(redact(events), classify, Date.now()));
 * ```
 */
export function createRedactor(
  options: RedactorOptions,
): (events: NewEvent[]) => NewEvent[] {
  if (!options.enabled) return (events) => events;
  const extra = options.extra ?? [];
  return (events) => {
    const counts: Counts = new Map();
    const out = events.map((e) => redactEvent(e, extra, counts));
    for (const [kind, n] of counts) {
      instruments.redactionsTotal.add(n, { kind });
    }
    return out;
  };
}
