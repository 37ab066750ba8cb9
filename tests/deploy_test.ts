import assert from "node:assert/strict";
import { parse as parseYaml, parseAllDocuments } from "yaml";
import { ROOT, startServer } from "./helpers/server.ts";
import { openSse } from "./helpers/sse.ts";
import { familyNames, parseExposition } from "./helpers/exposition.ts";
import { clientReport, traffic } from "./helpers/metrics_traffic.ts";
import { postJson } from "./helpers/server.ts";
import { IGNORE_WITHOUT_PROMTOOL, promtool } from "./helpers/promtool.ts";

const PROMETHEUS = `${ROOT}deploy/prometheus`;
const read = (path: string) => Deno.readTextFileSync(`${ROOT}deploy/${path}`);

// deno-lint-ignore no-explicit-any -- YAML and JSON documents of any shape
type Doc = any;

const alerts: Doc = parseYaml(read("prometheus/alerts.yml"));
const alertTests: Doc = parseYaml(read("prometheus/alerts_test.yml"));
const dashboard: Doc = JSON.parse(read("grafana/hookwatch.json"));
const alertRules: { alert: string; expr: string }[] = alerts.groups
  .flatMap((g: Doc) => g.rules);
const panelTargets: { panel: string; expr: string }[] = dashboard.panels
  .flatMap((p: Doc) =>
    (p.targets ?? []).map((t: Doc) => ({ panel: p.title, expr: t.expr }))
  );

const PROMQL_WORDS = new Set([
  "and",
  "or",
  "unless",
  "bool",
  "offset",
  "inf",
  "nan",
]);

/** Metric names a PromQL expression selects (labels, functions, numbers and durations left out). */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/#.*$/gm, " ")
    .replace(/"(?:[^"\\]|\\.)*"/g, " ")
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(
      /\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g,
      " ",
    )
    .replace(/(?<![A-Za-z_])\d+(\.\d+)?(e[+-]?\d+)?/gi, " ");
  return [...bare.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)\s*(\()?/g)]
    .filter((m) => m[2] === undefined && !PROMQL_WORDS.has(m[1].toLowerCase()))
    .map((m) => m[1]);
}

/** Scrapes a real server after traffic that makes every metric appear. */
async function exportedNames(): Promise<
  { families: Set<string>; text: string }
> {
  const server = await startServer();
  const stream = await openSse(`${server.url}/stream`);
  try {
    await stream.next();
    await traffic(server.url);
    await stream.until((frames) => frames.length >= 23);
    const report = await postJson(
      `${server.url}/api/metrics/client`,
      clientReport("tab-1", 2e7),
    );
    assert.equal(report.status, 204);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    return { families: familyNames(parseExposition(text)), text };
  } finally {
    await stream.close();
    await server.stop();
  }
}

/** The exported family an expression's name refers to (`x_bucket` of a histogram is `x`). */
function family(name: string, families: Set<string>): string | undefined {
  if (families.has(name)) return name;
  const base = name.replace(/_(bucket|sum|count)$/, "");
  return families.has(base) ? base : undefined;
}

Deno.test({
  name: "deploy - promtool accepts the Prometheus config and the alert rules",
  ignore: IGNORE_WITHOUT_PROMTOOL,
  async fn() {
    for (
      const args of [
        ["check", "config", "prometheus.yml"],
        ["check", "rules", "alerts.yml"],
      ]
    ) {
      const { code, output } = await promtool(args, { cwd: PROMETHEUS });
      assert.equal(code, 0, `promtool ${args.join(" ")}:\n${output}`);
    }
  },
});

Deno.test({
  name: "deploy - promtool test rules passes: every alert fires when it should",
  ignore: IGNORE_WITHOUT_PROMTOOL,
  async fn() {
    const { code, output } = await promtool(
      ["test", "rules", "alerts_test.yml"],
      { cwd: PROMETHEUS },
    );
    assert.equal(code, 0, output);
    assert.match(output, /SUCCESS/);
  },
});

Deno.test("deploy - every alert has a firing and a non-firing unit test", () => {
  const names = alertRules.map((r) => r.alert);
  for (
    const required of [
      "ClientMemoryLimitExceeded",
      "DatabaseQueryTooSlow",
      "EventProcessingStalled",
      "MemoryLeakDetected",
      "HighPriorityEventRatio",
      "StreamOverheadHigh",
      "LowEventThroughput",
      "HighConnectionCount",
    ]
  ) assert.ok(names.includes(required), `the guide's ${required}`);
  const cases = alertTests.tests.flatMap((t: Doc) => t.alert_rule_test ?? []);
  for (const name of names) {
    const mine = cases.filter((c: Doc) => c.alertname === name);
    assert.ok(
      mine.some((c: Doc) => (c.exp_alerts ?? []).length > 0),
      `${name} has no firing test`,
    );
    assert.ok(
      mine.some((c: Doc) => (c.exp_alerts ?? []).length === 0),
      `${name} has no non-firing test`,
    );
  }
  for (const c of cases) {
    assert.ok(names.includes(c.alertname), `test of unknown ${c.alertname}`);
  }
  for (const rule of alertRules) {
    assert.ok(
      ["critical", "warning"].includes((rule as Doc).labels?.severity),
      `${rule.alert} severity`,
    );
  }
});

Deno.test("deploy - the Grafana dashboard is importable and has the guide's panels", () => {
  assert.equal(typeof dashboard.title, "string");
  assert.equal(dashboard.uid, "hookwatch");
  assert.equal(typeof dashboard.schemaVersion, "number");
  const variable = dashboard.templating.list.find((v: Doc) =>
    v.type === "datasource"
  );
  assert.equal(variable?.query, "prometheus");
  const ids = new Set<number>();
  for (const panel of dashboard.panels) {
    assert.ok(!ids.has(panel.id), `duplicate panel id ${panel.id}`);
    ids.add(panel.id);
    assert.deepEqual(panel.datasource, {
      type: "prometheus",
      uid: `\${${variable.name}}`,
    });
    for (const key of ["x", "y", "w", "h"]) {
      assert.equal(
        typeof panel.gridPos[key],
        "number",
        `${panel.title}.${key}`,
      );
    }
    assert.ok(panel.gridPos.x + panel.gridPos.w <= 24, panel.title);
    assert.ok(panel.targets.length > 0, `${panel.title} has no query`);
  }
  const exprs = panelTargets.map((t) => t.expr).join("\n");
  for (
    const metric of [
      "client_memory_usage_bytes",
      "database_query_duration_seconds_bucket",
      "priority_events_total",
      "regular_events_total",
      "sse_message_overhead_ratio",
      "sse_broadcast_latency_seconds_bucket",
      "sse_connections_active",
      "event_end_to_end_latency_seconds",
    ]
  ) assert.ok(exprs.includes(metric), `no panel shows ${metric}`);
  assert.match(exprs, /histogram_quantile\(0\.95, [^\n]*database_query/);
  assert.match(exprs, /histogram_quantile\(0\.50, [^\n]*database_query/);
});

Deno.test({
  name: "deploy - every dashboard query is valid PromQL (promtool)",
  ignore: IGNORE_WITHOUT_PROMTOOL,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "hookwatch-deploy-" });
    try {
      const rules = {
        groups: [{
          name: "dashboard",
          rules: panelTargets.map((t, i) => ({
            record: `dashboard:panel_query:${i}`,
            expr: t.expr,
          })),
        }],
      };
      await Deno.writeTextFile(`${dir}/dashboard.json`, JSON.stringify(rules));
      const { code, output } = await promtool(
        ["check", "rules", "dashboard.json"],
        { cwd: dir },
      );
      assert.equal(code, 0, output);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("deploy - every dashboard and alert expression names a metric a real /metrics scrape exports", async () => {
  const { families, text } = await exportedNames();
  const sources = [
    ...panelTargets.map((t) => ({ where: `panel "${t.panel}"`, expr: t.expr })),
    ...alertRules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })),
  ];
  for (const { where, expr } of sources) {
    const names = metricNames(expr);
    assert.ok(names.length > 0, `${where}: no metric in ${expr}`);
    for (const name of names) {
      assert.ok(
        family(name, families),
        `${where} uses ${name}, which /metrics does not export:\n${text}`,
      );
    }
  }
  // The extractor itself: labels, functions and numbers are not metric names.
  assert.deepEqual(
    metricNames(
      'histogram_quantile(0.95, sum by (le, query) (rate(a_bucket{x="y"}[5m]))) * 1e6 > b',
    ),
    ["a_bucket", "b"],
  );
});

Deno.test("deploy - Kubernetes: one SQLite replica, the guide's probes and resources, consistent names", () => {
  const docs: Doc[] = [];
  for (const dir of ["base", "sqlite"]) {
    for (const entry of Deno.readDirSync(`${ROOT}deploy/k8s/${dir}`)) {
      if (!entry.name.endsWith(".yaml")) continue;
      for (const doc of parseAllDocuments(read(`k8s/${dir}/${entry.name}`))) {
        assert.deepEqual(doc.errors, [], `${dir}/${entry.name}`);
        docs.push({ file: `${dir}/${entry.name}`, ...doc.toJS() });
      }
    }
  }
  const kind = (k: string) => docs.filter((d) => d.kind === k);
  const [deployment] = kind("Deployment");
  assert.equal(deployment.spec.replicas, 1, "SQLite allows one replica");
  assert.equal(deployment.spec.strategy.type, "Recreate");
  const pod = deployment.spec.template;
  assert.deepEqual(
    deployment.spec.selector.matchLabels,
    pod.metadata.labels,
  );
  const [container] = pod.spec.containers;
  const port = container.ports.find((p: Doc) => p.name === "http");
  assert.equal(port.containerPort, 4000);
  assert.equal(container.livenessProbe.httpGet.path, "/health/live");
  assert.equal(container.readinessProbe.httpGet.path, "/health/ready");
  assert.deepEqual(
    [
      container.readinessProbe.initialDelaySeconds,
      container.readinessProbe.periodSeconds,
      container.readinessProbe.timeoutSeconds,
      container.readinessProbe.failureThreshold,
    ],
    [10, 5, 3, 3],
  );
  assert.deepEqual(
    [
      container.livenessProbe.initialDelaySeconds,
      container.livenessProbe.periodSeconds,
      container.livenessProbe.timeoutSeconds,
      container.livenessProbe.failureThreshold,
    ],
    [30, 10, 5, 3],
  );
  assert.deepEqual(container.resources, {
    requests: { memory: "512Mi", cpu: "250m" },
    limits: { memory: "1Gi", cpu: "500m" },
  });
  const databaseUrl = container.env.find((e: Doc) => e.name === "DATABASE_URL");
  assert.match(databaseUrl.value, /^sqlite:\/data\//);
  const mount = container.volumeMounts.find((m: Doc) =>
    m.mountPath === "/data"
  );
  const volume = pod.spec.volumes.find((v: Doc) => v.name === mount.name);
  const [claim] = kind("PersistentVolumeClaim");
  assert.equal(volume.persistentVolumeClaim.claimName, claim.metadata.name);
  assert.deepEqual(claim.spec.accessModes, ["ReadWriteOnce"]);

  const [configMap] = kind("ConfigMap");
  assert.equal(
    container.envFrom.find((e: Doc) => e.configMapRef)?.configMapRef.name,
    configMap.metadata.name,
  );
  assert.equal(configMap.data.PORT, String(port.containerPort));
  assert.equal(configMap.data.HOST, "0.0.0.0", "reachable from the Service");
  const [secret] = kind("Secret");
  assert.equal(
    container.envFrom.find((e: Doc) => e.secretRef)?.secretRef.name,
    secret.metadata.name,
  );
  const [service] = kind("Service");
  assert.deepEqual(service.spec.selector, pod.metadata.labels);
  assert.equal(service.spec.ports[0].targetPort, "http");
  for (const file of ["base/kustomization.yaml", "sqlite/kustomization.yaml"]) {
    const k = parseYaml(read(`k8s/${file}`));
    for (const resource of k.resources) {
      const path = `${ROOT}deploy/k8s/${file.split("/")[0]}/${resource}`;
      assert.ok(Deno.statSync(path), `${file} lists missing ${resource}`);
    }
  }
});

Deno.test("deploy - the probes and the ConfigMap's settings work on a real server", async () => {
  const configMap = parseYaml(read("k8s/base/configmap.yaml"));
  const env = { ...configMap.data, HOST: "127.0.0.1", PORT: "0" };
  const server = await startServer({ env });
  try {
    for (const path of ["/health/live", "/health/ready", "/metrics"]) {
      const res = await fetch(`${server.url}${path}`);
      await res.body?.cancel();
      assert.equal(res.status, 200, path);
    }
  } finally {
    await server.stop();
  }
});
