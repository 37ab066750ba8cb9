/**
 * What an agent adapter is: the one place where an agent's own hook input is read. At ingest it
 * says which common (Claude Code) event a hook input is, with its session, time and model
 * ({@linkcode HookInput}); downstream every reader of the event's tool, prompt, message … goes
 * through {@linkcode CommonFields}, which the adapter fills from the payload as the agent sent
 * it. And for the agents that can take one, it writes a person's decision in the agent's own
 * answer format. Pure and browser-safe.
 *
 * @module
 */
import type { AgentName } from "./names.ts";

/** What a hook input says about itself, read by the agent's adapter. */
export interface HookInput {
  /** The session id, as found (validated by the caller). */
  session_id: unknown;
  /** The field the session id was looked for in, for a 400 naming it. */
  sessionField: string;
  /** The agent's own name for the event (the given name, else the input's), as found. */
  event: unknown;
  /** The field the event name was looked for in (`event` when only the caller can say). */
  eventField: string;
  /** The event's time in milliseconds, when the input carries one. */
  timestamp: number | null;
  model_name: string | null;
}

/**
 * The fields of an event everything downstream reads (the fold, patterns, the dashboard's rows),
 * whatever agent sent it. Null where the event has none.
 */
export interface CommonFields {
  /** The tool, under Claude Code's name where it has a counterpart (`Bash`, `Read`, `Edit` …). */
  tool_name: string | null;
  /** The tool's arguments as the agent sent them. */
  tool_input: Record<string, unknown> | null;
  /** What the tool returned, as the agent sent it. */
  tool_response: unknown;
  /** The model's id of the tool call; null for the agents that pass none. */
  tool_use_id: string | null;
  /** A failure's text (a failed tool, a failed turn). */
  error: string | null;
  /** The tool's own running time (Claude Code's `duration_ms`). */
  duration_ms: number | null;
  /** The user's prompt. */
  prompt: string | null;
  /** `prompt_id` (Claude Code), the prompt an event belongs to. */
  prompt_id: string | null;
  /** A notification's or an elicitation's message. */
  message: string | null;
  /** A notification's title. */
  title: string | null;
  /** What kind of notification (`permission_prompt`, `idle_prompt`, …). */
  notification_type: string | null;
  /** The agent's final answer of the turn, where it gives one that can be trusted. */
  last_assistant_message: string | null;
  /** Why a session ended or a turn stopped. */
  reason: string | null;
  /** How a session started (`startup`, `resume`, `new` …). */
  source: string | null;
  cwd: string | null;
  transcript_path: string | null;
}

/** A person's answer to a held permission request. */
export interface Decision {
  behavior: "allow" | "deny";
  message: string | null;
}

/** One agent's reading of its own hook inputs. */
export interface Adapter {
  readonly name: AgentName;
  /**
   * Reads a raw hook input. `event` is the event name the caller knows (the installed hook's
   * `--event`, `?event=`): Copilot's camelCase inputs carry none.
   */
  hookInput(input: Record<string, unknown>, event?: string | null): HookInput;
  /** The common (Claude Code) event type of one of the agent's events; the name itself when none. */
  commonType(native: string, payload: Record<string, unknown>): string;
  /** The common fields of one of its events (`type`: the common type). */
  fields(payload: Record<string, unknown>, type: string): CommonFields;
  /** A person's decision in the agent's answer format; null for an agent that takes none. */
  decisionOutput(decision: Decision): unknown;
  /** Whether its `transcript_path` is a Claude Code transcript (the sender reads the model from it). */
  readonly claudeTranscript: boolean;
}

/** A non-empty string, or null. */
export function str(value: unknown): string | null {
  return typeof value === "string" && value.length > 0 ? value : null;
}

/** A JSON object, or null. */
export function obj(value: unknown): Record<string, unknown> | null {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? value as Record<string, unknown>
    : null;
}

/** A finite non-negative number, or null. */
export function num(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) && value >= 0
    ? value
    : null;
}

/** Milliseconds since the epoch from a number of milliseconds or an ISO string; null otherwise. */
export function millis(value: unknown): number | null {
  if (typeof value === "number") {
    return Number.isFinite(value) && value >= 0 ? Math.floor(value) : null;
  }
  if (typeof value !== "string" || value.length < 10) return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) && ms >= 0 ? ms : null;
}

/** The text of an error value: a string, or an object's `message`. */
export function errorText(value: unknown): string | null {
  return str(value) ?? str(obj(value)?.message);
}

/**
 * The fields as Claude Code names them (and Codex, which sends Claude Code's inputs): the
 * payload read as it is.
 */
export function claudeFields(p: Record<string, unknown>): CommonFields {
  return {
    tool_name: str(p.tool_name),
    tool_input: obj(p.tool_input),
    tool_response: p.tool_response ?? null,
    tool_use_id: str(p.tool_use_id),
    error: str(p.error),
    duration_ms: num(p.duration_ms),
    prompt: str(p.prompt),
    prompt_id: str(p.prompt_id),
    message: str(p.message),
    title: str(p.title),
    notification_type: str(p.notification_type),
    last_assistant_message: str(p.last_assistant_message),
    reason: str(p.reason),
    source: str(p.source),
    cwd: str(p.cwd),
    transcript_path: str(p.transcript_path),
  };
}

/** Claude Code's answer to a `PermissionRequest` (Codex takes the same). */
export function claudeDecision(decision: Decision): unknown {
  return {
    hookSpecificOutput: {
      hookEventName: "PermissionRequest",
      decision: decision.behavior === "deny"
        ? {
          behavior: "deny",
          message: decision.message ?? "denied in hookwatch",
        }
        : { behavior: "allow" },
    },
  };
}

/** Reads a Claude Code-shaped hook input (`session_id`, `hook_event_name`, `model`). */
export function claudeHookInput(
  input: Record<string, unknown>,
  event?: string | null,
): HookInput {
  return {
    session_id: input.session_id,
    sessionField: "session_id",
    event: event || input.hook_event_name,
    eventField: "hook_event_name",
    timestamp: null,
    model_name: str(input.model),
  };
}
