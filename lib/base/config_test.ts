import assert from "node:assert/strict";
import { ConfigError, loadConfig, parseDuration } from "./config.ts";

Deno.test("config - defaults", () => {
  const config = loadConfig({});
  assert.equal(config.port, 4000);
  assert.equal(config.host, "127.0.0.1");
  assert.equal(config.databaseUrl, "sqlite:./data/hookwatch.db");
  assert.equal(config.token, null);
  assert.equal(config.retentionPriorityMs, 24 * 3600_000);
  assert.equal(config.retentionRegularMs, 4 * 3600_000);
  assert.ok(config.priorityEventTypes.includes("PermissionRequest"));
  assert.equal(config.metricsEnabled, true);
});

Deno.test("config - durations and lists", () => {
  assert.equal(parseDuration("90m", "X"), 5_400_000);
  assert.equal(parseDuration("500ms", "X"), 500);
  assert.equal(parseDuration("1500", "X"), 1500);
  const config = loadConfig({
    PRIORITY_EVENT_TYPES: " Stop , PreToolUse ,",
    CORS_ORIGINS: "http://a",
  });
  assert.deepEqual(config.priorityEventTypes, ["Stop", "PreToolUse"]);
  assert.deepEqual(config.corsOrigins, ["http://a"]);
});

Deno.test("config - each bad value names its variable", () => {
  const bad: Record<string, string> = {
    PORT: "99999",
    RETENTION_PRIORITY: "forever",
    RETENTION_REGULAR: "0h",
    DATABASE_URL: "mysql://db",
    HOOKWATCH_TOKEN: "short",
    PRIORITY_EVENT_TYPES: "Stop,<script>",
    OTEL_EXPORTER_OTLP_ENDPOINT: "not a url",
    HOOKWATCH_METRICS: "maybe",
    MAX_BODY_BYTES: "-1",
    HOST: "bad host!",
  };
  for (const [variable, value] of Object.entries(bad)) {
    assert.throws(
      () => loadConfig({ [variable]: value }),
      (error: unknown) =>
        error instanceof ConfigError && error.variable === variable,
      variable,
    );
  }
});

Deno.test("config - log, archive and sweep settings, each bad value naming its variable", () => {
  const defaults = loadConfig({});
  assert.equal(defaults.logFormat, "text");
  assert.equal(defaults.logLevel, "info");
  assert.equal(defaults.archiveDir, null);
  assert.equal(defaults.retentionSweepIntervalMs, 60_000);
  const set = loadConfig({
    LOG_FORMAT: "JSON",
    LOG_LEVEL: "warn",
    HOOKWATCH_ARCHIVE_DIR: " /var/lib/hookwatch/archive ",
    RETENTION_SWEEP_INTERVAL: "5m",
  });
  assert.equal(set.logFormat, "json");
  assert.equal(set.logLevel, "warn");
  assert.equal(set.archiveDir, "/var/lib/hookwatch/archive");
  assert.equal(set.retentionSweepIntervalMs, 300_000);
  for (
    const [variable, value, message] of [
      ["LOG_FORMAT", "xml", /not one of text, json/],
      ["LOG_LEVEL", "verbose", /not one of debug, info, warn, error/],
      ["RETENTION_SWEEP_INTERVAL", "soon", /not a duration/],
      ["RETENTION_SWEEP_INTERVAL", "10ms", /at least 100ms/],
    ] as [string, string, RegExp][]
  ) {
    assert.throws(
      () => loadConfig({ [variable]: value }),
      (error: unknown) =>
        error instanceof ConfigError && error.variable === variable &&
        message.test(error.message),
      variable,
    );
  }
});
