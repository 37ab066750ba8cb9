import assert from "node:assert/strict";
import fc from "fast-check";
import { type NewEvent, validateEvent } from "../../common/events.ts";
import {
  lookAlikes,
  secretCases,
  secretFields,
} from "../../tests/fixtures/secrets/corpus.ts";
import { parseRedactPatterns } from "../base/redact_config.ts";
import {
  createRedactor,
  MAX_DEPTH,
  redactEvent,
  redactValue,
} from "./redact.ts";
import { redactString } from "./redact_match.ts";
import { redacted, secretKeyKind } from "./redact_rules.ts";

const RUNS = Number(Deno.env.get("HOOKWATCH_FUZZ_RUNS") ?? 300);

function event(overrides: Partial<NewEvent> = {}): NewEvent {
  return {
    source_app: "app",
    session_id: "s-1",
    hook_event_type: "PreToolUse",
    payload: {},
    timestamp: 1,
    ...overrides,
  };
}

Deno.test("redact - every secret of the corpus is replaced by its kind", () => {
  const cases = secretCases();
  assert.ok(cases.length >= 60, `${cases.length} cases`);
  for (const c of cases) {
    const counts = new Map<string, number>();
    const out = redactString(c.text, [], counts);
    assert.ok(
      !out.includes(c.secret),
      `${c.what}: left in ${JSON.stringify(out)}`,
    );
    assert.ok(
      out.includes(redacted(c.kind)),
      `${c.what}: expected ${redacted(c.kind)} in ${JSON.stringify(out)}`,
    );
    assert.ok((counts.get(c.kind) ?? 0) >= 1, `${c.what}: counted`);
  }
});

/** Kinds found by their shape alone; the others need their context (a name, a URL, a header). */
const CONTEXT_KINDS = new Set([
  "private_key",
  "aws_secret_access_key",
  "authorization",
  "bearer_token",
  "url_password",
  "named_secret",
]);

Deno.test("redact - a token alone, at the start, at the end and in quotes is found", () => {
  const tokens = secretCases().filter((c) => !CONTEXT_KINDS.has(c.kind));
  assert.ok(tokens.length >= 35);
  for (const c of tokens) {
    for (
      const text of [c.secret, `${c.secret}\n`, ` ${c.secret}`, `"${c.secret}"`]
    ) {
      assert.equal(
        redactString(text),
        text.replace(c.secret, redacted(c.kind)),
        `${c.what} in ${JSON.stringify(text)}`,
      );
    }
  }
});

/** `secret` as it appears inside JSON text. */
const inJson = (secret: string) => JSON.stringify(secret).slice(1, -1);

Deno.test("redact - look-alikes survive unchanged: SHAs, UUIDs, hashes, base64, prose, code", () => {
  for (const [what, text] of lookAlikes()) {
    const counts = new Map<string, number>();
    assert.equal(redactString(text, [], counts), text, what);
    assert.equal(counts.size, 0, what);
  }
});

Deno.test("redact - what is kept around a secret: names, schemes, users and hosts", () => {
  assert.equal(
    redactString("postgres://app:s3cr3t-pw@db:5432/shop"),
    "postgres://app:[REDACTED:url_password]@db:5432/shop",
  );
  assert.equal(
    redactString('curl -H "Authorization: Bearer abc.DEF-123_456"'),
    'curl -H "Authorization: Bearer [REDACTED:authorization]"',
  );
  assert.equal(
    redactString("DB_PASSWORD=hunter2\nDB_HOST=localhost"),
    "DB_PASSWORD=[REDACTED:named_secret]\nDB_HOST=localhost",
  );
  assert.equal(
    redactString(`{"password": "hunter2", "user": "bob"}`),
    `{"password": "[REDACTED:named_secret]", "user": "bob"}`,
  );
  assert.equal(
    redactString(
      "a\n-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\nb",
    ),
    "a\n[REDACTED:private_key]\nb",
  );
});

Deno.test("redact - a named value that is one vendor token counts as that vendor", () => {
  const token = `ghp_${"a1B2".repeat(9)}`;
  const counts = new Map<string, number>();
  assert.equal(
    redactString(`export GITHUB_TOKEN=${token}`, [], counts),
    "export GITHUB_TOKEN=[REDACTED:github_token]",
  );
  assert.deepEqual([...counts], [["github_token", 1]]);
});

Deno.test("redact - key names are read by segment", () => {
  for (
    const key of [
      "DB_PASSWORD",
      "apiKey",
      "x-api-key",
      "client_secret",
      "GITHUB_TOKEN",
      "accesstoken",
      "SECRET_KEY_BASE",
      "private_key",
      "auth",
      "credentials",
      "passwd",
    ]
  ) {
    assert.ok(secretKeyKind(key) !== null, key);
  }
  for (
    const key of [
      "MAX_TOKENS",
      "token_type",
      "api_key_source",
      "bypass",
      "keyboard",
      "monkey",
      "author",
      "primary_key",
      "tokenizer",
      "PWD",
      "cache_key",
      "token_count",
    ]
  ) {
    assert.equal(secretKeyKind(key), null, key);
  }
  assert.equal(secretKeyKind("Authorization"), "authorization");
  assert.equal(secretKeyKind("AWS_SECRET_ACCESS_KEY"), "aws_secret_access_key");
});

Deno.test("redact - payload fields named like secrets lose their value, whatever it looks like", () => {
  const { payload, secrets } = secretFields();
  const out = redactValue(payload) as typeof payload;
  const text = JSON.stringify(out);
  for (const secret of secrets) assert.ok(!text.includes(secret), secret);
  const input = out.tool_input as Record<string, unknown>;
  assert.equal(input.password, "[REDACTED:named_secret]");
  assert.equal(input["x-api-key"], "[REDACTED:named_secret]");
  assert.deepEqual(input.headers, {
    Authorization: "[REDACTED:authorization]",
  });
  assert.equal((input.env as Record<string, string>).MAX_TOKENS, "4096");
  assert.equal(input.token_count, 5);
  assert.equal(input.api_key_source, "none");
});

Deno.test("redact - a key that is a token is renamed; two alike stay apart", () => {
  const a = `ghp_${"x".repeat(36)}`, b = `ghp_${"y".repeat(36)}`;
  const out = redactValue({ [a]: 1, [b]: 2, plain: 3 }) as Record<
    string,
    number
  >;
  assert.deepEqual(out, {
    "[REDACTED:github_token]": 1,
    "[REDACTED:github_token]#2": 2,
    plain: 3,
  });
});

Deno.test("redact - a clean event is returned as it came, without a copy", () => {
  const e = event({
    payload: { tool_name: "Bash", tool_input: { command: "npm test" } },
    summary: "ran the tests",
    chat: [{ role: "user", content: "hi" }],
  });
  assert.equal(redactEvent(e), e);
  const dirty = event({
    payload: { a: { b: "k sk-ant-api03-" + "x".repeat(95) } },
  });
  const out = redactEvent(dirty);
  assert.notEqual(out, dirty);
  assert.notEqual(out.payload, dirty.payload, "changed parts are copies");
  assert.ok(
    (dirty.payload.a as { b: string }).b.includes("sk-ant"),
    "the input is not modified",
  );
});

Deno.test("redact - summary and chat are redacted; identifiers and model_name are not", () => {
  const key = `AKIA${"ABCDEFGHIJKLMNOP"}`;
  const out = redactEvent(event({
    summary: `uploaded with ${key}`,
    chat: [{ message: { content: [{ type: "text", text: `key ${key}` }] } }],
    model_name: "claude-sonnet-4-5",
    event_id: "evt-1",
  }));
  assert.equal(out.summary, "uploaded with [REDACTED:aws_access_key_id]");
  assert.ok(!JSON.stringify(out.chat).includes(key));
  assert.equal(out.model_name, "claude-sonnet-4-5");
  assert.equal(out.event_id, "evt-1");
});

Deno.test("redact - redacting twice changes nothing more", () => {
  for (const c of secretCases()) {
    const once = redactString(c.text);
    assert.equal(redactString(once), once, c.what);
  }
});

Deno.test("redact - extra patterns from HOOKWATCH_REDACT_PATTERNS apply to every string", () => {
  const extra = parseRedactPatterns(
    '{"acme_ticket":"ACME-[0-9]{6}","internal":"/corp\\\\.example\\\\.com/i"}',
  );
  const counts = new Map<string, number>();
  const out = redactEvent(
    event({ payload: { note: "see ACME-123456 on CORP.example.com" } }),
    extra,
    counts,
  );
  assert.equal(
    out.payload.note,
    "see [REDACTED:acme_ticket] on [REDACTED:internal]",
  );
  assert.deepEqual([...counts].sort(), [["acme_ticket", 1], ["internal", 1]]);
});

Deno.test("redact - nesting deeper than MAX_DEPTH is replaced whole, not scanned or overflowed", () => {
  let deep: unknown = "sk-proj-" + "q".repeat(40);
  for (let i = 0; i < 200_000; i++) deep = [deep];
  const out = redactEvent(event({ payload: { deep } }));
  let node = out.payload.deep;
  let depth = 1;
  while (Array.isArray(node)) {
    node = node[0];
    depth++;
  }
  assert.equal(node, "[REDACTED:too_deep]");
  assert.equal(depth, MAX_DEPTH);
});

Deno.test("redact - a __proto__ key from JSON.parse stays an own property", () => {
  const payload = JSON.parse('{"__proto__": {"password": "hunter2"}, "x": 1}');
  const out = redactValue(payload) as Record<string, unknown>;
  assert.ok(Object.hasOwn(out, "__proto__"));
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
  assert.deepEqual(out["__proto__"], { password: "[REDACTED:named_secret]" });
});

Deno.test("redact - HOOKWATCH_REDACT=off stores events as they came", () => {
  const e = event({ payload: { key: "AKIAABCDEFGHIJKLMNOP" } });
  assert.equal(createRedactor({ enabled: false })([e])[0], e);
  assert.notEqual(createRedactor({ enabled: true })([e])[0], e);
});

Deno.test("redact - long pathological strings take linear time, not quadratic", () => {
  const inputs = [
    "token:".repeat(100_000),
    'password:"'.repeat(60_000),
    "sk-".repeat(200_000),
    "a.eyJ".repeat(100_000),
    "Authorization: ".repeat(40_000),
    "Bearer ".repeat(80_000),
    "x://a:".repeat(100_000),
    "-----BEGIN PRIVATE KEY-----".repeat(20_000),
    "ghp_".repeat(150_000),
    "AKIA".repeat(150_000),
  ];
  for (const input of inputs) {
    const start = performance.now();
    const out = redactEvent(event({ payload: { stdout: input } }));
    const ms = performance.now() - start;
    assert.equal(typeof out.payload.stdout, "string");
    assert.ok(ms < 3000, `${input.slice(0, 20)}…: ${ms.toFixed(0)} ms`);
  }
});

// --- fuzz ---

/** Same structure: every non-string leaf identical, every string still a string, keys in order. */
function assertSameShape(before: unknown, after: unknown, path = "$"): void {
  if (typeof before === "string") {
    assert.equal(typeof after, "string", path);
    return;
  }
  if (Array.isArray(before)) {
    assert.ok(Array.isArray(after), path);
    assert.equal(after.length, before.length, path);
    before.forEach((v, i) => assertSameShape(v, after[i], `${path}[${i}]`));
    return;
  }
  if (typeof before === "object" && before !== null) {
    assert.equal(typeof after, "object", path);
    assert.ok(after !== null && !Array.isArray(after), path);
    const a = Object.values(before), b = Object.values(after as object);
    assert.equal(b.length, a.length, `${path}: keys`);
    a.forEach((v, i) => assertSameShape(v, b[i], `${path}.${i}`));
    return;
  }
  assert.equal(after, before, path);
}

const secrets = secretCases();
const token = fc.constantFrom(...secrets);
const delimiter = fc.constantFrom(" ", "\n", '"', "'", "\t", " (", ") ");
/** Strings that sometimes carry a corpus secret between delimiters, inside random text. */
const text = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.tuple(
    fc.string({ maxLength: 20 }),
    delimiter,
    token,
    delimiter,
    fc.string({ maxLength: 20 }),
  )
    .map(([a, d1, c, d2, b]) => `${a}${d1}${c.text}${d2}${b}`),
);
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    text,
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(
      fc.oneof(
        text,
        fc.constantFrom("password", "api_key", "__proto__", "token"),
      ),
      tie("value"),
      { maxKeys: 4 },
    ),
  ),
})).value;
const events = fc.record({
  payload: fc.dictionary(fc.string({ maxLength: 12 }), json, { maxKeys: 6 }),
  summary: fc.option(text),
  chat: fc.option(fc.array(json, { maxLength: 3 })),
});

Deno.test("redact - fuzz: never throws, the event stays valid and keeps its shape", () => {
  fc.assert(
    fc.property(events, ({ payload, summary, chat }) => {
      const body = JSON.parse(
        JSON.stringify(event({ payload, summary, chat })),
      );
      const before = validateEvent(body, 10);
      const after = redactEvent(before);
      const again = validateEvent(JSON.parse(JSON.stringify(after)), 10);
      assert.equal(again.session_id, before.session_id);
      assertSameShape(before.payload, after.payload);
      assertSameShape(before.chat, after.chat);
      assert.equal(typeof after.summary, typeof before.summary);
      assert.deepEqual(redactEvent(after), after, "idempotent");
    }),
    { numRuns: RUNS },
  );
});

Deno.test("redact - fuzz: no corpus secret placed in random text survives", () => {
  fc.assert(
    fc.property(
      fc.string({ maxLength: 30 }),
      delimiter,
      token,
      delimiter,
      fc.string({ maxLength: 30 }),
      fc.constantFrom("payload", "key", "summary", "chat"),
      (before, d1, c, d2, after, where) => {
        const s = `${before}${d1}${c.text}${d2}${after}`;
        const e = where === "payload"
          ? event({ payload: { tool_response: { stdout: s } } })
          : where === "key"
          ? event({ payload: { env: { [s]: true } } })
          : where === "summary"
          ? event({ summary: s })
          : event({ chat: [{ content: [s] }] });
        const out = JSON.stringify(redactEvent(e));
        assert.ok(
          !out.includes(inJson(c.secret)),
          `${c.what} survived in ${out}`,
        );
      },
    ),
    { numRuns: RUNS },
  );
});
