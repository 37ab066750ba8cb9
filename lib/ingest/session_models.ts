/**
 * The model each session was last seen using, learnt from committed events (a command hook reads
 * it from the transcript, Claude Code's telemetry names it on every request), so that an event
 * arriving without one (a native `http` hook, a `SessionStart` that carries none) is stored with
 * its session's model. Bounded: the least recently seen sessions are forgotten first.
 *
 * @module
 */

/** Sessions remembered at most. */
export const SESSION_MODELS_LIMIT = 10_000;

/** The last known model per session. */
export class SessionModels {
  readonly #models = new Map<string, string>();
  readonly #limit: number;

  constructor(limit = SESSION_MODELS_LIMIT) {
    this.#limit = limit;
  }

  /** The session's last known model, or null. */
  get(sessionId: string): string | null {
    return this.#models.get(sessionId) ?? null;
  }

  /** Learns from events (in commit order) that name a model. */
  observe(
    events: Iterable<{ session_id: string; model_name?: string | null }>,
  ): void {
    for (const e of events) {
      if (!e.model_name) continue;
      this.#models.delete(e.session_id);
      this.#models.set(e.session_id, e.model_name);
      if (this.#models.size > this.#limit) {
        this.#models.delete(this.#models.keys().next().value!);
      }
    }
  }
}
