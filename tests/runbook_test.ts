/** docs/RUNBOOK.md covers every alert rule hookwatch ships, and every rule links to it. */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { ROOT } from "./helpers/server.ts";

const runbook = Deno.readTextFileSync(`${ROOT}docs/RUNBOOK.md`);
const rules = (parse(
  Deno.readTextFileSync(`${ROOT}deploy/prometheus/alerts.yml`),
) as {
  groups: {
    rules: {
      alert: string;
      labels: { severity: string };
      annotations: Record<string, string>;
    }[];
  }[];
}).groups.flatMap((g) => g.rules);

Deno.test("runbook - every alert has a section with meaning, confirmation, action and its severity; its runbook_url points there", () => {
  assert.ok(rules.length >= 21);
  const sections = new Map(
    runbook.split(/^### /m).slice(1).map((s) => [s.split("\n")[0].trim(), s]),
  );
  for (const rule of rules) {
    const section = sections.get(rule.alert);
    assert.ok(section, `no runbook section for ${rule.alert}`);
    for (const part of ["**Means**", "**Confirm**", "**Do**"]) {
      assert.ok(section.includes(part), `${rule.alert}: ${part}`);
    }
    assert.match(
      section,
      new RegExp(`\\*\\*Severity\\*\\*: ${rule.labels.severity}\\.`),
      `${rule.alert}: severity ${rule.labels.severity}`,
    );
    assert.equal(
      rule.annotations.runbook_url,
      `docs/RUNBOOK.md#${rule.alert.toLowerCase()}`,
    );
  }
  assert.ok(runbook.includes("\n## Alerts\n"));
});
