import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "./config.ts";
import { MAX_EXTRA_PATTERNS, parseRedactPatterns } from "./redact_config.ts";

Deno.test("redact config - on by default, HOOKWATCH_REDACT=off turns it off", () => {
  assert.equal(loadConfig({}).redact, true);
  assert.deepEqual(loadConfig({}).redactPatterns, []);
  assert.equal(loadConfig({ HOOKWATCH_REDACT: "off" }).redact, false);
  assert.equal(loadConfig({ HOOKWATCH_REDACT: "ON" }).redact, true);
});

Deno.test("redact config - extra patterns: plain or /literal/flags, compiled global", () => {
  const [ticket, host] = loadConfig({
    HOOKWATCH_REDACT_PATTERNS:
      '{"acme_ticket": "ACME-[0-9]{6}", "internal_host": "/corp\\\\.example\\\\.com/i"}',
  }).redactPatterns;
  assert.equal(ticket.kind, "acme_ticket");
  assert.equal(ticket.regex.flags, "g");
  assert.equal(host.regex.flags, "gi");
  assert.ok(host.regex.test("CORP.EXAMPLE.COM"));
});

Deno.test("redact config - a bad setting stops start-up naming the variable and the pattern", () => {
  const bad: [Record<string, string>, RegExp][] = [
    [
      { HOOKWATCH_REDACT: "maybe" },
      /HOOKWATCH_REDACT: "maybe" is not on or off/,
    ],
    [{ HOOKWATCH_REDACT_PATTERNS: "acme_[a-z]+" }, /must be a JSON object/],
    [{ HOOKWATCH_REDACT_PATTERNS: '["x"]' }, /must be a JSON object/],
    [
      { HOOKWATCH_REDACT_PATTERNS: '{"acme": "acme_(["}' },
      /pattern for "acme" is not a valid regular expression/,
    ],
    [
      { HOOKWATCH_REDACT_PATTERNS: '{"Bad Kind": "x+"}' },
      /kind "Bad Kind" must be lower case/,
    ],
    [
      { HOOKWATCH_REDACT_PATTERNS: '{"empty": "a*"}' },
      /pattern for "empty" matches the empty string/,
    ],
    [
      { HOOKWATCH_REDACT_PATTERNS: '{"sticky": "/x/y"}' },
      /pattern for "sticky" has flags "y"/,
    ],
    [
      { HOOKWATCH_REDACT_PATTERNS: '{"n": 5}' },
      /pattern for "n" must be a non-empty string/,
    ],
  ];
  for (const [env, message] of bad) {
    assert.throws(
      () => loadConfig(env),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.variable === Object.keys(env)[0] && message.test(error.message),
      JSON.stringify(env),
    );
  }
});

Deno.test("redact config - the number of extra kinds (metric labels) is bounded", () => {
  const many = Object.fromEntries(
    Array.from(
      { length: MAX_EXTRA_PATTERNS + 1 },
      (_, i) => [`k${i}`, `x${i}`],
    ),
  );
  assert.throws(() => parseRedactPatterns(JSON.stringify(many)), /at most 32/);
  assert.equal(
    parseRedactPatterns(
      JSON.stringify(Object.fromEntries(Object.entries(many).slice(1))),
    )
      .length,
    MAX_EXTRA_PATTERNS,
  );
});
