/**
 * Event shapes and validation of untrusted ingest bodies.
 *
 * The ingest body is the one the widely used `send_event.py` hook script sends; `event_id` is an
 * optional client-generated id that makes a retried send idempotent.
 *
 * @module
 */

import { HttpError } from "./errors.ts";
import {
  adapterOf,
  AGENT_NAMES,
  type AgentName,
  commonEvent,
  DEFAULT_AGENT,
  isAgentName,
} from "./adapters/mod.ts";

/** An event as an agent's hook sends it. */
export interface NewEvent {
  source_app: string;
  session_id: string;
  hook_event_type: string;
  payload: Record<string, unknown>;
  /** Milliseconds since the epoch; the server's clock when absent. */
  timestamp: number;
  model_name?: string | null;
  summary?: string | null;
  chat?: unknown[] | null;
  /** Client-generated id: a second event with the same id is not stored again. */
  event_id?: string | null;
  /** The agent that sent it; Claude Code when absent. */
  agent?: AgentName;
  /** The agent's own name for the event when it differs from `hook_event_type`, else null. */
  agent_event?: string | null;
}

/** An event with the fields the server derives once at ingest (`lib/ingest/derive.ts`). */
export interface ClassifiedEvent extends NewEvent {
  /** 1 for priority, 0 for regular. */
  priority: 0 | 1;
  /** Server clock at arrival, milliseconds since the epoch. */
  received_at: number;
  /** `agent_id` from the hook input, set inside subagents; null when absent. */
  agent_id?: string | null;
}

/** An event as stored and served: a classified event and its id, in commit order. */
export interface StoredEvent extends ClassifiedEvent {
  id: number;
}

/** An event as the stream carries it, and the dashboard holds it: stored, without its chat. */
export type StreamEvent = Omit<StoredEvent, "chat">;

/** A client error in an event body (400); `field` names the offending field. */
export class EventValidationError extends HttpError {
  constructor(readonly field: string, message: string) {
    super(400, message, { field });
    this.name = "EventValidationError";
  }
}

/** Limits applied while validating events, and the query parameters that filter them. */
export const LIMITS = Object.freeze({
  idLength: 256,
  typeLength: 128,
  summaryLength: 64 * 1024,
  /** Timestamps further than this ahead of the server's clock are rejected. */
  futureSkewMs: 24 * 60 * 60 * 1000,
  /** Longest tool name a filter takes. */
  toolLength: 128,
  /**
   * `limit` of each list route: what it serves without one, and the most it serves (a larger
   * `limit` is served the cap, not refused).
   */
  pages: Object.freeze({
    /** `GET /events/recent` */
    events: Object.freeze({ default: 100, max: 1000 }),
    /** `GET /sessions` */
    sessions: Object.freeze({ default: 100, max: 1000 }),
    /** `GET /sessions/:id/tools` */
    tools: Object.freeze({ default: 1000, max: 5000 }),
    /** `GET /inbox` */
    inbox: Object.freeze({ default: 200, max: 1000 }),
  }),
});

const TYPE_PATTERN = /^[A-Za-z][A-Za-z0-9_.:-]*$/;

function fail(field: string, message: string): never {
  throw new EventValidationError(field, `${field} ${message}`);
}

function requiredString(
  body: Record<string, unknown>,
  field: string,
  max: number,
): string {
  const value = body[field];
  if (value === undefined || value === null) fail(field, "is required");
  if (typeof value !== "string") fail(field, "must be a string");
  if (value.length === 0) fail(field, "must not be empty");
  if (value.length > max) fail(field, `must be at most ${max} characters`);
  return value;
}

function optionalString(
  body: Record<string, unknown>,
  field: string,
  max: number,
): string | null {
  const value = body[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") fail(field, "must be a string");
  if (value.length > max) fail(field, `must be at most ${max} characters`);
  return value;
}

/** Checks a hook event type name (shared by ingest and query parameters). */
export function validateHookEventType(value: unknown, field: string): string {
  if (typeof value !== "string" || value.length === 0) {
    fail(field, "must be a non-empty string");
  }
  if (value.length > LIMITS.typeLength) {
    fail(field, `must be at most ${LIMITS.typeLength} characters`);
  }
  if (!TYPE_PATTERN.test(value)) {
    fail(field, "must be a hook event name such as PreToolUse");
  }
  return value;
}

/**
 * Checks an agent's name (`agent`, of a body or a query); absent means Claude Code.
 *
 * @throws {EventValidationError} naming `field` for an agent hookwatch does not know.
 */
export function validateAgent(value: unknown, field = "agent"): AgentName {
  if (value === undefined || value === null) return DEFAULT_AGENT;
  if (!isAgentName(value)) {
    fail(field, `must be one of ${AGENT_NAMES.join(", ")}`);
  }
  return value;
}

/** Checks a timestamp in milliseconds since the epoch. */
export function validateTimestamp(value: unknown, now: number): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    fail(
      "timestamp",
      "must be a finite number of milliseconds since the epoch",
    );
  }
  if (!Number.isInteger(value) || value < 0) {
    fail("timestamp", "must be a non-negative integer of milliseconds");
  }
  if (value > now + LIMITS.futureSkewMs) {
    fail("timestamp", "is too far in the future");
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Validates one untrusted ingest body and returns a clean event. `at` prefixes the field an
 * error names (`events[3].` for the fourth event of a batch).
 *
 * @throws {EventValidationError} naming the first bad field.
 * @example
 * ```ts
 * const event = validateEvent({
 *   source_app: "my-repo", session_id: "abc", hook_event_type: "Stop", payload: {},
 * }, Date.now());
 * ```
 */
export function validateEvent(
  body: unknown,
  now: number,
  at = "",
): NewEvent {
  try {
    return validateOne(body, now);
  } catch (error) {
    if (at === "" || !(error instanceof EventValidationError)) throw error;
    throw new EventValidationError(at + error.field, at + error.message);
  }
}

function validateOne(body: unknown, now: number): NewEvent {
  if (!isPlainObject(body)) fail("body", "must be a JSON object");
  const source_app = requiredString(body, "source_app", LIMITS.idLength);
  const session_id = requiredString(body, "session_id", LIMITS.idLength);
  let hook_event_type = validateHookEventType(
    body.hook_event_type,
    "hook_event_type",
  );
  const payload = body.payload ?? {};
  if (!isPlainObject(payload)) fail("payload", "must be a JSON object");
  const agent = validateAgent(body.agent);
  let agent_event = body.agent_event === undefined || body.agent_event === null
    ? null
    : validateHookEventType(body.agent_event, "agent_event");
  if (agent !== DEFAULT_AGENT) {
    // A native name (`BeforeTool`, `preToolUse`) is stored under its common one.
    ({ hook_event_type, agent_event } = commonEvent(
      agent,
      hook_event_type,
      payload,
      agent_event,
    ));
  }
  const timestamp = body.timestamp === undefined || body.timestamp === null
    ? now
    : validateTimestamp(body.timestamp, now);
  const chat = body.chat ?? null;
  if (chat !== null && !Array.isArray(chat)) fail("chat", "must be an array");
  return {
    source_app,
    session_id,
    hook_event_type,
    payload,
    timestamp,
    model_name: optionalString(body, "model_name", LIMITS.idLength),
    summary: optionalString(body, "summary", LIMITS.summaryLength),
    chat,
    event_id: optionalString(body, "event_id", LIMITS.idLength),
    agent,
    agent_event,
  };
}

/**
 * Turns a raw hook input into an event: what Claude Code posts itself (`type: "http"` hooks),
 * or another agent's (`agent`), read by its adapter. `event` names the event when the input
 * does not (Copilot's camelCase inputs); the agent's own name is mapped to the common one.
 * The event's time is the input's where it carries a sound one, else `now`.
 *
 * @throws {EventValidationError} when the event name or the session id is missing.
 */
export function eventFromHookInput(
  sourceApp: string,
  input: unknown,
  now: number,
  agent: AgentName = DEFAULT_AGENT,
  event: string | null = null,
): NewEvent {
  if (!isPlainObject(input)) fail("body", "must be a JSON object");
  if (sourceApp.length === 0 || sourceApp.length > LIMITS.idLength) {
    fail("source_app", `must be 1 to ${LIMITS.idLength} characters`);
  }
  const read = adapterOf(agent).hookInput(input, event);
  const native = validateHookEventType(read.event, read.eventField);
  const { hook_event_type, agent_event } = commonEvent(agent, native, input);
  const at = read.timestamp;
  return {
    source_app: sourceApp,
    session_id: requiredString(
      { [read.sessionField]: read.session_id },
      read.sessionField,
      LIMITS.idLength,
    ),
    hook_event_type,
    payload: input,
    timestamp: at !== null && at <= now + LIMITS.futureSkewMs ? at : now,
    model_name: read.model_name?.slice(0, LIMITS.idLength) ?? null,
    summary: null,
    chat: null,
    event_id: null,
    agent,
    agent_event,
  };
}
