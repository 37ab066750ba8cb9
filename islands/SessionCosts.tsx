import { useEffect, useState } from "preact/hooks";
import type { SessionSummary } from "../common/sessions.ts";
import {
  applySessions,
  costReported,
  sessionCosts,
  startSessionCosts,
  tokenCount,
  totalTokens,
  usd,
} from "./session_costs.ts";
import { clock, shortId } from "./format.ts";
import { agentLabel } from "../common/adapters/names.ts";

type Sort = "cost" | "recent";

/**
 * The sessions table: cost, tokens, requests and models of each session seen within the
 * window, sortable by cost, with the window's running total. Live through `session` frames.
 */
export default function SessionCosts(
  props: { initial: SessionSummary[]; windowMs: number },
) {
  const [sort, setSort] = useState<Sort>("cost");
  useEffect(() => {
    applySessions(props.initial);
    startSessionCosts(props.windowMs);
  }, []);
  const known = sessionCosts.value;
  const all = Object.keys(known).length > 0
    ? Object.values(known)
    : props.initial;
  const since = Date.now() - props.windowMs;
  const rows = all.filter((s) =>
    s.last_seen >= since && (s.requests > 0 || s.cost_usd > 0)
  )
    .sort((a, b) =>
      sort === "cost"
        ? b.cost_usd - a.cost_usd || b.last_seen - a.last_seen
        : b.last_seen - a.last_seen
    );
  const total = rows.reduce((n, s) => n + s.cost_usd, 0);
  const hours = Math.round(props.windowMs / 3_600_000);
  const header = (key: Sort, label: string) => (
    <th
      scope="col"
      aria-sort={sort === key ? "descending" : "none"}
    >
      <button type="button" onClick={() => setSort(key)}>{label}</button>
    </th>
  );
  return (
    <section class="session-costs" aria-label="Session costs">
      <div class="panel-head">
        <h2>Cost</h2>
        {rows.some(costReported)
          ? (
            <span class="total" data-total-usd={total}>
              {usd(total)} <span class="muted">in {hours} h</span>
            </span>
          )
          : null}
      </div>
      {rows.length === 0
        ? (
          <p class="empty">
            No agent telemetry yet (see docs/TELEMETRY.md and docs/agents.md:
            point the agent's OTLP exporter here).
          </p>
        )
        : (
          <table>
            <thead>
              <tr>
                <th scope="col">Session</th>
                {header("cost", "Cost")}
                <th scope="col">Tokens</th>
                <th scope="col">Req</th>
                {header("recent", "Last")}
              </tr>
            </thead>
            <tbody>
              {rows.map((s) => (
                <tr key={s.session_id} data-session={s.session_id}>
                  <td>
                    {s.agent
                      ? (
                        <span class="agent-kind" data-agent={s.agent}>
                          {agentLabel(s.agent)}
                        </span>
                      )
                      : null} <span class="app">{s.source_app ?? "–"}</span>
                    {" "}
                    <span class="sess" title={s.session_id}>
                      {shortId(s.session_id, 8)}
                    </span>
                    <span class="models">{s.models.join(", ")}</span>
                  </td>
                  {costReported(s)
                    ? <td class="usd">{usd(s.cost_usd)}</td>
                    : (
                      <td class="usd muted" title="its agent reports no cost">
                        –
                      </td>
                    )}
                  <td
                    class="num"
                    title={`input ${s.tokens.input}, output ${s.tokens.output}, cache read ${s.tokens.cache_read}, cache write ${s.tokens.cache_creation}`}
                  >
                    {tokenCount(totalTokens(s))}
                  </td>
                  <td class="num">
                    {s.requests}
                    {s.errors > 0
                      ? <span class="err">·{s.errors}✕</span>
                      : null}
                  </td>
                  <td class="num">{clock(s.last_seen)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
    </section>
  );
}
