/**
 * Records Claude Code spend on `claude_cost_usd_total{model}` and
 * `claude_tokens_total{model,type}`. The model label comes from untrusted telemetry, so it is
 * bounded: Claude model ids only, at most {@linkcode MAX_MODELS} distinct, the rest `other`.
 *
 * @module
 */
import type { SpendDelta } from "../sessions/sessions.ts";
import { instruments } from "../base/instruments.ts";

/** Distinct model label values before new ones are folded into `other`. */
export const MAX_MODELS = 32;

const MODEL = /^(?:[a-z0-9-]+\.)?claude-[a-z0-9.@:-]{1,80}$/;
const known = new Set<string>();

/** The bounded `model` label for a model id. */
export function modelLabel(model: string): string {
  if (known.has(model)) return model;
  if (!MODEL.test(model) || known.size >= MAX_MODELS) return "other";
  known.add(model);
  return model;
}

const TYPE_LABEL = {
  input: "input",
  output: "output",
  cacheRead: "cache_read",
  cacheCreation: "cache_creation",
} as const;

/** Adds newly counted spend to the counters. */
export function recordSpend(deltas: readonly SpendDelta[]): void {
  for (const d of deltas) {
    const model = modelLabel(d.model);
    if (d.kind === "cost") {
      instruments.claudeCostUsdTotal.add(d.amount, { model });
    } else {
      instruments.claudeTokensTotal.add(d.amount, {
        model,
        type: TYPE_LABEL[d.kind],
      });
    }
  }
}
