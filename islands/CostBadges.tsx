import { useEffect, useState } from "preact/hooks";
import type { StoredEvent } from "../common/events.ts";
import type { PromptSummary } from "../common/sessions.ts";
import {
  costReported,
  sessionCosts,
  tokenCount,
  totalTokens,
  usd,
} from "./session_costs.ts";

/** A session's cost and tokens on the board, once its agent's telemetry reported any. */
export function LaneCost(props: { session: string }) {
  const s = sessionCosts.value[props.session];
  if (!s || (s.cost_usd === 0 && s.requests === 0)) return null;
  return (
    <span
      class="lane-cost"
      title={`${s.requests} API requests, ${totalTokens(s)} tokens${
        costReported(s) ? "" : "; its agent reports no cost"
      }`}
      data-cost-usd={s.cost_usd}
    >
      {costReported(s) ? `${usd(s.cost_usd)} · ` : ""}
      {tokenCount(totalTokens(s))} tok
    </span>
  );
}

/** In the detail drawer: what the event's prompt (`prompt_id`) cost so far. */
export function PromptCost(props: { event: StoredEvent }) {
  const promptId = props.event.payload.prompt_id;
  const session = props.event.session_id;
  const [prompt, setPrompt] = useState<PromptSummary | null>(null);
  // Refetch when the session's aggregates move (a session frame arrived).
  const version = sessionCosts.value[session]?.cost_usd;
  useEffect(() => {
    if (typeof promptId !== "string") return;
    const abort = new AbortController();
    fetch(`/sessions/${encodeURIComponent(session)}`, { signal: abort.signal })
      .then((res) => res.ok ? res.json() : null)
      .then((detail) =>
        setPrompt(
          detail?.prompts?.find((p: PromptSummary) =>
            p.prompt_id === promptId
          ) ??
            null,
        )
      )
      .catch(() => {});
    return () => abort.abort();
  }, [session, promptId, version]);
  // Without telemetry a prompt has no cost to tell: say nothing rather than $0.0000.
  if (
    typeof promptId !== "string" || !prompt ||
    (prompt.requests === 0 && prompt.cost_usd === 0)
  ) return null;
  return (
    <>
      <dt>Prompt cost</dt>
      <dd class="prompt-cost" data-cost-usd={prompt.cost_usd}>
        {usd(prompt.cost_usd)} · {prompt.requests}{" "}
        {prompt.requests === 1 ? "request" : "requests"} · {tokenCount(
          prompt.tokens.input + prompt.tokens.output +
            prompt.tokens.cache_read +
            prompt.tokens.cache_creation,
        )} tokens{prompt.errors > 0 ? ` · ${prompt.errors} API errors` : ""}
      </dd>
    </>
  );
}
