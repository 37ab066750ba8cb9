/**
 * The pattern alerts' counters (`agent_*_total`), counted by the replica whose transaction
 * raised them: every series starts from zero, so the first alert is an increase Prometheus
 * can see.
 *
 * @module
 */
import type { AgentConfig } from "../base/agent_config.ts";
import { instruments } from "../base/instruments.ts";
import { rulesOf } from "./patterns.ts";
import type { WriteResult } from "./writes.ts";

const ALERT_COUNTERS = [
  "agentToolFailuresTotal",
  "agentFailureStreaksTotal",
  "agentLoopsTotal",
  "agentBudgetExceededTotal",
  "agentStaleSessionsTotal",
  "agentOrphanedToolCallsTotal",
] as const;

/** Counts what one fold or sweep raised. */
export function recordAlerts(result: WriteResult): void {
  if (result.failures > 0) {
    instruments.agentToolFailuresTotal.add(result.failures);
  }
  for (const r of result.raised) {
    switch (r.kind) {
      case "failure_streak":
        instruments.agentFailureStreaksTotal.add(1);
        break;
      case "loop":
        instruments.agentLoopsTotal.add(1);
        break;
      case "dangerous":
        instruments.agentDangerousCommandsTotal.add(1, { rule: r.rule ?? "" });
        break;
      case "budget":
        instruments.agentBudgetExceededTotal.add(1);
        break;
      case "stale":
        instruments.agentStaleSessionsTotal.add(1);
        break;
      case "orphaned":
        instruments.agentOrphanedToolCallsTotal.add(1);
        break;
    }
  }
}

/** Exports every alert series from zero (one per dangerous-command rule). */
export function startAlertCounters(config: AgentConfig): void {
  for (const counter of ALERT_COUNTERS) instruments[counter].add(0);
  for (const rule of rulesOf(config)) {
    instruments.agentDangerousCommandsTotal.add(0, { rule: rule.name });
  }
}
