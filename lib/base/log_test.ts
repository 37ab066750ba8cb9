import assert from "node:assert/strict";
import { errorFields, Logger, type LogLevel, urlPassword } from "./log.ts";

function capture(): { logger: Logger; lines: [string, LogLevel][] } {
  const lines: [string, LogLevel][] = [];
  const logger = new Logger();
  logger.configure({
    level: "info",
    write: (line, level) => lines.push([line, level]),
  });
  return { logger, lines };
}

Deno.test("log - json: one object per line with time, level, msg and the fields at the top", () => {
  const { logger, lines } = capture();
  logger.configure({ format: "json" });
  logger.warn("request failed", {
    request_id: "r1",
    status: 503,
    msg: "not overriding",
    skipped: undefined,
  });
  assert.equal(lines.length, 1);
  const [line] = lines[0];
  assert.ok(line.endsWith("\n") && !line.slice(0, -1).includes("\n"));
  const record = JSON.parse(line);
  assert.deepEqual(Object.keys(record), [
    "time",
    "level",
    "msg",
    "request_id",
    "status",
    "field_msg",
  ]);
  assert.equal(new Date(record.time).toISOString(), record.time);
  assert.equal(record.level, "warn");
  assert.equal(record.msg, "request failed");
  assert.equal(record.status, 503);
});

Deno.test("log - LOG_LEVEL drops records below it", () => {
  const { logger, lines } = capture();
  logger.configure({ format: "json", level: "warn" });
  logger.debug("a");
  logger.info("b");
  logger.warn("c");
  logger.error("d");
  assert.deepEqual(lines.map(([l]) => JSON.parse(l).msg), ["c", "d"]);
  assert.equal(logger.enabled("info"), false);
  assert.equal(logger.enabled("error"), true);
});

Deno.test("log - text: readable key=value lines, quoted when needed", () => {
  const { logger, lines } = capture();
  logger.info("listening on http://127.0.0.1:4000", {
    store: "sqlite",
    error: "disk is full",
    n: 3,
  });
  assert.deepEqual(lines, [[
    'hookwatch: listening on http://127.0.0.1:4000 store=sqlite error="disk is full" n=3\n',
    "info",
  ]]);
});

Deno.test("log - configured secrets never appear in a line", () => {
  const { logger, lines } = capture();
  logger.configure({
    format: "json",
    secrets: ["s3cret-token-value", null, "ab"],
  });
  logger.error("boom", { error: "header was Bearer s3cret-token-value" });
  assert.ok(!lines[0][0].includes("s3cret-token-value"));
  assert.match(JSON.parse(lines[0][0]).error, /Bearer \[redacted\]/);
  assert.equal(urlPassword("postgres://u:p%40ss@db/x"), "p@ss");
  assert.equal(urlPassword("sqlite:./x.db"), null);
});

Deno.test("log - errors become a message (with the cause) and, when asked, the frames", () => {
  const error = new TypeError("x is undefined", {
    cause: new Error("inner"),
  });
  const fields = errorFields(error, { stack: true });
  assert.equal(fields.error, "TypeError: x is undefined (inner)");
  assert.match(String(fields.stack), /^at /);
  assert.deepEqual(errorFields("plain"), { error: "plain" });
});
