/**
 * Secrets never stored: at ingest, before an event is stored, streamed or logged, every value
 * that looks like a secret is replaced by `[REDACTED:<kind>]`.
 *
 * What is scanned: every string of `payload` at any depth, object keys included (a key that is
 * itself a token is renamed; two renamed alike get `#2`, `#3`), `summary`, and every string of
 * `chat`, for every event type and every route (all of them call `Hookwatch.ingest`, OTLP
 * timeline events included). Left alone: the identifiers `source_app`, `session_id`,
 * `hook_event_type`, `event_id` and `model_name` — validated names that group, filter and
 * deduplicate events; rewriting them would split sessions and break idempotent retries, and none
 * of Claude Code's carries a secret. Numbers and booleans are kept, also under a secret's name.
 *
 * Two kinds of rule:
 * - token shapes, found anywhere in a string: vendor API keys, JWTs, private key blocks,
 *   passwords in URLs, `Authorization:` and `Bearer` values;
 * - names: a value whose key names a secret (`…PASSWORD`, `…SECRET`, `…TOKEN`, `…API_KEY`,
 *   `…PRIVATE_KEY`, `Authorization`, …), as `KEY=value` / `KEY: value` / `"key": "value"` text
 *   (`.env` lines, shell commands, config files a tool printed) or as a payload field
 *   (`{"api_key": "…"}`). Names are read by segment (`MAX_TOKENS`, `token_type`,
 *   `api_key_source` are not secrets); lower-case `key: value` and `key = value` text is
 *   redacted only when quoted or when the value is not a plain word, so `password: string` in
 *   TypeScript and "password: must be long" in prose survive.
 *
 * Why these patterns and not secretlint's engine: `@secretlint/secretlint-rule-preset-recommend`
 * (13.0.7, MIT, 2.7M downloads a month) is the well-kept npm rule set, and its token rules are
 * the reference here: each rule below names the one it follows, widened where the preset misses
 * real tokens (Anthropic OAuth tokens, OpenAI keys without the T3BlbkFJ marker, Slack app
 * tokens longer than its 40-character segments). Its engine does give positions (`range`), but
 * it is async and slow per event: `lintSource` took 882 µs of CPU per hook event (the payload's
 * JSON as one source), and even calling the preset's 28 rule handlers directly and
 * synchronously took 36 µs — against a whole ingest budget of about 13–23 µs per event at
 * 43–75k events/s. The preset also has no JWT, `Authorization`/`Bearer`, Google API key or
 * `KEY=value` rule. (`deno run -A --no-lock bench/redact_bench.ts --secretlint`, same run,
 * same events: this module 5.3 µs; a machine at load 13 on 2 cores, so read the ratios.)
 *
 * Cost: one pass of six small pre-checks over all of an event's strings joined; almost every
 * event stops there, returned as it came without a copy. Only a string with a hint goes through
 * the exact rules, each again behind its own hint. On the hook fixtures that is about 2.3× a
 * `JSON.stringify` of the same payload (which the store does anyway); see README, "Secrets".
 *
 * @module
 */
import type { NewEvent } from "../../common/events.ts";
import { LIMITS } from "../../common/events.ts";
import type { RedactPattern } from "../base/redact_config.ts";
import { instruments } from "../base/instruments.ts";

/** The text that replaces a secret of `kind`. */
export function redacted(kind: string): string {
  return `[REDACTED:${kind}]`;
}

/** Nesting deeper than this is replaced whole by `[REDACTED:too_deep]` (no real payload nests so). */
export const MAX_DEPTH = 1000;

const PLACEHOLDER =
  /^(?:\$|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|\$\(.*\)|\{\{.*\}\}|<[^<>]*>|\*+|x{3,}|\.{3,}|…|\[REDACTED:[a-z0-9_]+\]|null|none|nil|undefined|true|false|redacted|your[_-]?\w*)$/i;

/** Markers already in place, and escaped line ends next to them. */
const ALREADY_REDACTED = /\[REDACTED:[a-z0-9_]+\]|\\[nrt]/g;

/** A value that stands for a secret rather than being one: `$TOKEN`, `${X}`, `<password>`, `***`, … */
export function isPlaceholder(value: string): boolean {
  return PLACEHOLDER.test(value) ||
    value.replace(ALREADY_REDACTED, "").trim().length === 0;
}

const KEY_SUFFIXES = new Set(["BASE", "VALUE", "B64", "BASE64", "RAW", "ENC"]);
const SECRET_WORDS = new Set([
  "PASSWORD",
  "PASSWD",
  "PASSPHRASE",
  "PASS",
  "SECRET",
  "TOKEN",
  "APIKEY",
  "AUTH",
  "AUTHORIZATION",
  "CREDENTIAL",
  "CREDENTIALS",
  "PRIVATEKEY",
  "ACCESSKEY",
  "SECRETKEY",
]);
const KEY_QUALIFIERS = new Set([
  "API",
  "PRIVATE",
  "ACCESS",
  "SECRET",
  "SIGNING",
  "ENCRYPTION",
  "MASTER",
  "AUTH",
  "ACCOUNT",
  "CLIENT",
  "SSH",
  "APP",
  "LICENSE",
]);
const GLUED = /(?:PASSWORD|PASSWD|SECRET|TOKEN|APIKEY)$/;

/**
 * The kind of secret a key name stands for, or null: `DB_PASSWORD`, `apiKey`, `x-api-key`,
 * `client_secret`, `GITHUB_TOKEN`, `accesstoken` name secrets; `MAX_TOKENS`, `token_type`,
 * `api_key_source`, `bypass` do not.
 */
export function secretKeyKind(key: string): string | null {
  if (key.length > 128 || !/^[A-Za-z0-9_.$-]+$/.test(key)) return null;
  const segments = key
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .filter((s) => s.length > 0);
  if (segments.length > 1 && KEY_SUFFIXES.has(segments.at(-1)!)) {
    segments.pop();
  }
  const last = segments.at(-1);
  if (last === undefined) return null;
  const prev = segments.at(-2);
  const secret = SECRET_WORDS.has(last) ||
    (last === "KEY" && prev !== undefined && KEY_QUALIFIERS.has(prev)) ||
    (last.length > 6 && GLUED.test(last));
  if (!secret) return null;
  if (last === "AUTHORIZATION") return "authorization";
  if (last === "KEY" && prev === "ACCESS" && segments.at(-3) === "SECRET") {
    return "aws_secret_access_key";
  }
  return "named_secret";
}

/** A token rule: `lead` (its first literal characters) is checked before anything else. */
interface TokenRule {
  kind: string;
  source: string;
}

const NOT_AFTER = String.raw`(?<![A-Za-z0-9_-])`; // not inside a longer token
const E = String.raw`(?![A-Za-z0-9_-])`;
// A lookahead on the first characters before the lookbehind: measured 2.4× faster than leading
// with the lookbehind, which the engine would try at every position.
const token = (kind: string, lead: string, rest: string): TokenRule => ({
  kind,
  source: `(?=${lead})${NOT_AFTER}${rest}`,
});

/** Token shapes: the whole match is the secret. Order matters where two start at one place. */
const TOKEN_RULES: TokenRule[] = [
  // secretlint-rule-privatekey (PEM_CONTENT_PATTERN); a block cut off before its END line is
  // redacted to the end of the string.
  {
    kind: "private_key",
    source: String
      .raw`-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----|$)`,
  },
  // secretlint-rule-anthropic; widened to every sk-ant-<type><nn>- key (api03, admin01, and the
  // oat01/ort01 OAuth tokens Claude Code itself holds).
  token(
    "anthropic_key",
    "sk-a",
    String.raw`sk-ant-[a-z]{2,10}\d{2}-[A-Za-z0-9_-]{20,}`,
  ),
  // secretlint-rule-openai; widened: project/service/admin keys of any length, and legacy
  // sk-<32+ letters and digits> without the T3BlbkFJ marker.
  token(
    "openai_key",
    "sk-",
    String
      .raw`sk-(?:(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{20,}|[A-Za-z0-9]{32,}${E})`,
  ),
  // secretlint-rule-aws (AWSAccessKeyIDPattern).
  {
    kind: "aws_access_key_id",
    source: String
      .raw`\b(?:A3T[A-Z0-9]|AKIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ASIA)[A-Z0-9]{16}\b`,
  },
  // secretlint-rule-github: app installation tokens first, then classic and fine-grained.
  token(
    "github_token",
    "g[hi]",
    String
      .raw`(?:ghs_[0-9]{1,20}_[A-Za-z0-9_-]{1,1000}\.[A-Za-z0-9_-]{1,10000}\.[A-Za-z0-9_-]{1,1000}|(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9_]{36,251}|github_pat_[A-Za-z0-9_]{22,255})${E}`,
  ),
  // secretlint-rule-gitlab (personal access tokens).
  token("gitlab_token", "gl", String.raw`glpat-[A-Za-z0-9_-]{20,}`),
  // secretlint-rule-slack: tokens and incoming webhooks.
  token(
    "slack_token",
    "xo|xa",
    String
      .raw`(?:xoxb|xoxp|xapp|xoxa|xoxo|xoxr|xoxe)-(?:\d-)?(?:[A-Za-z0-9]+-)+[A-Za-z0-9]+${E}`,
  ),
  token(
    "slack_webhook",
    "ht",
    String
      .raw`https://hooks\.slack\.com/services/T[A-Za-z0-9]{1,40}/B[A-Za-z0-9]{1,40}/[A-Za-z0-9]{1,40}`,
  ),
  // Not in the preset (its GCP rule finds service-account key files): Google API keys, the
  // documented AIza + 35 characters, as gitleaks' gcp-api-key rule has it.
  token("google_api_key", "AI", String.raw`AIza[0-9A-Za-z_-]{35}${E}`),
  // secretlint-rule-stripe.
  token(
    "stripe_key",
    "[sr]k",
    String.raw`(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{24,}`,
  ),
  // secretlint-rule-npm (access tokens; `_authToken=` lines are named secrets).
  token("npm_token", "np", String.raw`npm_[A-Za-z0-9]{36}${E}`),
  // The preset's other vendor rules, one each.
  token(
    "sendgrid_key",
    "SG",
    String.raw`SG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{16,64}${E}`,
  ),
  token(
    "shopify_token",
    "sh",
    String.raw`(?:shppa|shpca|shpat|shpss)_[A-Za-z0-9]{32,64}${E}`,
  ),
  token("groq_key", "gs", String.raw`gsk_[A-Za-z0-9]{52}${E}`),
  token("huggingface_token", "hf", String.raw`hf_[A-Za-z]{34}${E}`),
  token("linear_key", "li", String.raw`lin_api_[A-Za-z0-9_]{32,128}${E}`),
  token("notion_token", "nt", String.raw`ntn_[0-9]{11}[A-Za-z0-9]{35}${E}`),
  token(
    "vault_token",
    "hv",
    String
      .raw`(?:hvs\.[A-Za-z0-9_-]{90,120}|hvb\.[A-Za-z0-9_-]{138,300}|hvr\.[A-Za-z0-9_-]{90,120})${E}`,
  ),
  token(
    "vercel_token",
    "vc",
    String.raw`(?:vcp|vci|vca|vcr|vck)_[A-Za-z0-9]{20,60}${E}`,
  ),
  token(
    "databricks_token",
    "da",
    String.raw`dapi[a-f0-9]{32}(?:-[0-9])?${E}`,
  ),
  token("docker_token", "dc", String.raw`dckr_pat_[A-Za-z0-9_-]{27}${E}`),
  token("figma_token", "fi", String.raw`figd_[A-Za-z0-9_-]{40,200}${E}`),
  token(
    "cloudflare_token",
    "cf",
    String.raw`(?:cfk|cfut|cfat)_[A-Za-z0-9]{40}[0-9a-f]{8}${E}`,
  ),
  token(
    "tailscale_key",
    "ts",
    String
      .raw`tskey-[a-z]{2,20}-[0-9A-Za-z_]{8,40}-[0-9A-Za-z_]{16,60}(?![0-9A-Za-z_])`,
  ),
  token(
    "grafana_token",
    "gl",
    String
      .raw`(?:glc_[A-Za-z0-9+/]{32,400}={0,2}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})(?![A-Za-z0-9+/=])`,
  ),
  token(
    "onepassword_token",
    "op",
    String.raw`ops_ey[A-Za-z0-9+/=]{100,1280}fQ={0,2}(?![A-Za-z0-9+/=])`,
  ),
  // gitleaks' jwt rule: header and claims both base64url JSON objects ("ey…").
  token(
    "jwt",
    "ey",
    String.raw`ey[A-Za-z0-9_-]{15,}\.ey[A-Za-z0-9_-]{15,}\.[A-Za-z0-9_-]*`,
  ),
];

/**
 * The pre-checks, and where tokens are looked for. Each is a separate small expression on
 * purpose: a set of alternatives of one length ending in a separator (`sk-`, `hp_`, `SG.`) is
 * searched with skips, while one expression joining them all measured 3–5× slower on hook
 * payloads and 5,000× slower on 100 KB of base64.
 */
const HINTS = {
  /**
   * The two characters before the separator of each token rule's prefix (`ghp_` → `hp_`,
   * `xoxb-` → `xb-`, `github_pat_` → `at_`), and `.ey` inside a JWT. Broad on purpose: a hit
   * only sends the string to the exact rules.
   */
  separated:
    /(?:sk|at|x[bpaoer]|pp|ey)-|(?:h[pousr]|at|pm|sk|hf|pi|tn|c[picrk]|gd|f[kt]|ut|lc|sa|ps|ve|st|rk|pa|ca|ss)_|(?:SG|v[sbr])\.|\.ey/g,
  /** AWS access key ids, Google API keys, Databricks tokens: the token starts there. */
  letters: /A(?:Iza|KIA|SIA|3T|GPA|IDA|ROA|IPA|NPA|NVA)|dapi/g,
  /** Private key blocks and Slack webhooks: the token starts there. */
  literals: /-----BEGIN|https:\/\/hooks\.slack\.com/g,
  /** `Authorization` and `Bearer`, any case. */
  authorization:
    /[Aa][Uu][Tt][Hh][Oo][Rr][Ii][Zz][Aa][Tt][Ii][Oo][Nn]|[Bb][Ee][Aa][Rr][Ee][Rr]/,
  /** A password in a URL. */
  url: /:\/\/[^\s/?#@"'<>]*:[^\s/?#@"'<>]*@/,
};

function test(regex: RegExp, text: string): boolean {
  regex.lastIndex = 0;
  return regex.test(text);
}

/** Whether `text` may hold a token of {@linkcode TOKEN_RULES}. */
function mayHoldToken(text: string): boolean {
  return test(HINTS.separated, text) || test(HINTS.letters, text) ||
    test(HINTS.literals, text);
}

/** All token rules at one position (sticky). */
const TOKEN_AT = new RegExp(
  TOKEN_RULES.map((r) => `(${r.source})`).join("|"),
  "y",
);
/** [A-Za-z0-9_-] */
function isTokenChar(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) ||
    (code >= 48 && code <= 57) || code === 95 || code === 45;
}

/** Where a token around a hint could start: back over token characters to the boundary. */
function tokenStart(text: string, hint: number, reach: number): number {
  const stop = Math.max(0, hint - reach);
  let start = hint;
  while (start > stop && isTokenChar(text.charCodeAt(start - 1))) start--;
  return start === 0 || !isTokenChar(text.charCodeAt(start - 1)) ? start : -1;
}

/** Where tokens may start in `text`, ascending: each hint traced back to its token's start. */
function tokenStarts(text: string): number[] {
  const starts: number[] = [];
  const { separated, letters, literals } = HINTS;
  separated.lastIndex = 0;
  for (let m; (m = separated.exec(text));) {
    // A JWT's header may be long; every prefix is at most 15 characters.
    const start = tokenStart(text, m.index, m[0] === ".ey" ? 4096 : 16);
    if (start >= 0) starts.push(start);
  }
  for (const regex of [letters, literals]) {
    regex.lastIndex = 0;
    for (let m; (m = regex.exec(text));) starts.push(m.index);
  }
  return starts.sort((a, b) => a - b);
}

/** Replaces every token in `text`; the same string when there is none. */
function redactTokens(text: string, counts: Counts): string {
  const starts = tokenStarts(text);
  if (starts.length === 0) return text;
  let out = "";
  let done = 0;
  let tried = -1;
  for (const start of starts) {
    if (start < done || start === tried) continue;
    tried = start;
    TOKEN_AT.lastIndex = start;
    const m = TOKEN_AT.exec(text);
    if (m === null) continue;
    let i = 1;
    while (m[i] === undefined) i++;
    const kind = TOKEN_RULES[i - 1].kind;
    count(counts, kind);
    out += text.slice(done, start) + redacted(kind);
    done = start + m[0].length;
  }
  return done === 0 ? text : out + text.slice(done);
}

const WHOLE_TOKENS = TOKEN_RULES.map((rule) => ({
  kind: rule.kind,
  regex: new RegExp(`^(?:${rule.source})$`),
}));

/** The kind of a value that is exactly one token, or null. */
function tokenKind(value: string): string | null {
  if (value.length > 4096 || !mayHoldToken(value)) return null;
  for (const { kind, regex } of WHOLE_TOKENS) {
    if (regex.test(value)) return kind;
  }
  return null;
}

// secretlint-rule-basicauth and -database-connection-string, for any scheme:
// scheme://user:password@host keeps the scheme, the user and the host. Led by "://" (the
// scheme is checked behind it): 150× faster than leading with the scheme's letters.
const URL_PASSWORD = new RegExp(
  String
    .raw`://(?<=[A-Za-z][A-Za-z0-9+.-]{0,30}://)(\[REDACTED:[a-z0-9_]+\]|[^\s:/?#@"'<>\[\]\\]{0,256}):([^\s/?#@"'<>\\]{1,256})@`,
  "g",
);

/** A value is credential-like when it is more than a plain word: 6+ characters, a digit or a symbol. */
const credentialLike = (value: string) =>
  value.length >= 6 && /[^A-Za-z]/.test(value);

const SCHEMES =
  "bearer|basic|token|digest|negotiate|ntlm|apikey|aws4-hmac-sha256";

/**
 * `Authorization: <scheme> <credentials>` (RFC 9110) in headers, `curl -H`, config text, and
 * RFC 6750 bearer tokens wherever they appear ("Bearer authentication" in prose is a word).
 */
const AUTHORIZATION = new RegExp(
  [
    String
      .raw`([:=])(?<=(?<![A-Za-z0-9_-])(?:proxy-)?authorization["']?[ \t]*[:=])([ \t]*["']?)((?:${SCHEMES})[ \t]+)?([^\s"'\x60,;]{1,4096})`,
    String
      .raw`([ \t])(?<=(?<![A-Za-z0-9_-])bearer[ \t])([ \t]*)([A-Za-z0-9._~+/-]{8,4096}=*)`,
  ].join("|"),
  "gi",
);

/**
 * `.env` lines, `export X=…`, `--api-key=…`, `?token=…`, `"password": "…"`, YAML `PASSWORD: …`,
 * and AWS's `aws_secret_access_key = …` (secretlint-rule-aws, AWSSecretPatten), in two steps:
 * every `:` or `=` after a word a secret's name can end with, then the whole word before it read
 * as a key by {@linkcode secretKeyKind} (remembered). Doing it all in one expression measured 3×
 * slower on source code, which has a separator every 50 characters; so did the `i` flag
 * against spelled-out cases.
 */
const SEPARATOR =
  /[:=](?<=(?:[Ww][Oo][Rr][Dd]|[Ww][Dd]|[Pp][Hh][Rr][Aa][Ss][Ee]|[Pp][Aa][Ss][Ss]|[Ss][Ee][Cc][Rr][Ee][Tt]|[Tt][Oo][Kk][Ee][Nn]|[Kk][Ee][Yy]|[Ii][Aa][Ll][Ss]?|[Aa][Uu][Tt][Hh]|[Aa][Tt][Ii][Oo][Nn]|[Bb][Aa][Ss][Ee]|[Vv][Aa][Ll][Uu][Ee]|[Bb]64|[Rr][Aa][Ww]|[Ee][Nn][Cc])(?:\\?["'])?[ \t]*[:=])/g;
// Values are read up to 4 KB: longer is no password, and an unbounded read per separator
// would make a long line of `token:` quadratic.
const VALUE_AT =
  /(>?)([ \t]*)(?!=)("[^"\n]{0,4096}"|'[^'\n]{0,4096}'|\\"[^"\n]{0,4096}?\\"|[^\s"'\x60,;&|<>(){}\[\]\\]{1,4096})/y;

/** [A-Za-z0-9_.-] */
function isKeyChar(code: number): boolean {
  return isTokenChar(code) || code === 46;
}

const keyKinds = new Map<string, string | null>();

/** The key ending just before `sepAt` (after an optional closing quote and blanks), or null. */
function keyBefore(text: string, sepAt: number): string | null {
  let end = sepAt;
  while (end > 0 && (text[end - 1] === " " || text[end - 1] === "\t")) end--;
  if (end > 0 && (text[end - 1] === '"' || text[end - 1] === "'")) end--;
  if (end > 0 && text[end - 1] === "\\") end--;
  let start = end;
  const stop = Math.max(0, end - 128);
  while (start > stop && isKeyChar(text.charCodeAt(start - 1))) start--;
  if (start === end || (start > 0 && isKeyChar(text.charCodeAt(start - 1)))) {
    return null;
  }
  return text.slice(start, end);
}

/** {@linkcode secretKeyKind}, remembered. */
function cachedKeyKind(key: string): string | null {
  let kind = keyKinds.get(key);
  if (kind === undefined) {
    kind = secretKeyKind(key);
    if (keyKinds.size >= 4096) keyKinds.clear();
    keyKinds.set(key, kind);
  }
  return kind;
}

/** Each `key<sep>value` in `text` whose key names a secret, in order. */
function* namedValues(text: string) {
  SEPARATOR.lastIndex = 0;
  for (let m; (m = SEPARATOR.exec(text));) {
    const sepAt = m.index;
    const key = keyBefore(text, sepAt);
    if (key === null) continue;
    const keyKind = cachedKeyKind(key);
    if (keyKind === null) continue;
    VALUE_AT.lastIndex = sepAt + 1;
    const v = VALUE_AT.exec(text);
    if (v === null) continue;
    const end = VALUE_AT.lastIndex;
    const sep = text[sepAt] + v[1];
    const tight = sep === "=" && v[2] === "" &&
      /[A-Za-z0-9_.$-]/.test(text[sepAt - 1]);
    const kind = namedKind(keyKind, key, tight, v[3], text.slice(end, end + 1));
    if (kind === null) continue;
    SEPARATOR.lastIndex = end;
    yield { sepAt, sep, space: v[2], value: v[3], end, kind };
  }
}

/** Whether `text` holds a named secret. */
function holdsNamed(text: string): boolean {
  for (const _ of namedValues(text)) return true;
  return false;
}

/** Replaces the values of named secrets in `text`. */
function redactNamed(text: string, counts: Counts): string {
  let out = "";
  let done = 0;
  for (const { sepAt, sep, space, value, end, kind } of namedValues(text)) {
    count(counts, kind);
    const quote = quoteOf(value);
    out += `${text.slice(done, sepAt)}${sep}${space}${quote}${
      redacted(kind)
    }${quote}`;
    done = end;
  }
  return done === 0 ? text : out + text.slice(done);
}

/** The quote around a value: `"`, `'`, `\"` (JSON inside a JSON string) or none. */
function quoteOf(value: string): string {
  if (value.startsWith('\\"')) return '\\"';
  return value[0] === '"' || value[0] === "'" ? value[0] : "";
}

/** The kind of a `key<sep>value` text match, or null when it is not a secret. */
function namedKind(
  kind: string,
  key: string,
  tight: boolean,
  value: string,
  tail: string,
): string | null {
  const quote = quoteOf(value);
  const quoted = quote !== "";
  const bare = value.slice(quote.length, value.length - quote.length);
  if (isPlaceholder(bare)) return null;
  if (quoted) return kind;
  if (tail === "(" || tail === "[") return null; // a call or an index: code
  if (/^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$/.test(bare)) return null; // process.env.X
  const envStyle = /^[A-Z0-9_.-]+$/.test(key) && /[A-Z]/.test(key);
  // `KEY=value` (and env-style `KEY: value`) is a setting; `key: value` and `key = value` may be
  // code or prose, where a plain word is no secret.
  if (!tight && !envStyle && !credentialLike(bare)) return null;
  return kind;
}

/** Redaction counts by kind, collected while redacting and recorded once per ingest. */
export type Counts = Map<string, number>;

function count(counts: Counts, kind: string): void {
  counts.set(kind, (counts.get(kind) ?? 0) + 1);
}

/**
 * Applies the built-in rules to one string, each only when its pre-check finds a hint. Tokens go
 * first, so a token in a named value, a URL or a header is counted by its vendor; the later
 * rules leave the `[REDACTED:…]` they find alone.
 */
function applyRules(text: string, counts: Counts): string {
  let out = redactTokens(text, counts);
  if (out.includes("://")) {
    out = out.replace(URL_PASSWORD, (match, user: string, password: string) => {
      if (isPlaceholder(password)) return match;
      count(counts, "url_password");
      return `://${user}:${redacted("url_password")}@`;
    });
  }
  if (test(HINTS.authorization, out)) {
    out = out.replace(
      AUTHORIZATION,
      (match, sep, after, scheme = "", value, space, more, bearer) => {
        if (space !== undefined) {
          if (isPlaceholder(bearer) || !credentialLike(bearer)) return match;
          count(counts, "bearer_token");
          return `${space}${more}${redacted("bearer_token")}`;
        }
        if (isPlaceholder(value) || (!scheme && !credentialLike(value))) {
          return match;
        }
        count(counts, "authorization");
        return `${sep}${after}${scheme}${redacted("authorization")}`;
      },
    );
  }
  return redactNamed(out, counts);
}

/** Whether any built-in rule may match somewhere in `text` (false for almost every event). */
function mayHoldSecret(text: string): boolean {
  return mayHoldToken(text) ||
    (text.includes("://") && test(HINTS.url, text)) ||
    test(HINTS.authorization, text) || holdsNamed(text);
}

const MARKER = /^\[REDACTED:[a-z0-9_]+\]$/;

function applyExtra(
  text: string,
  extra: readonly RedactPattern[],
  counts: Counts,
): string {
  let out = text;
  for (const { kind, regex } of extra) {
    regex.lastIndex = 0;
    if (!regex.test(out)) continue;
    regex.lastIndex = 0;
    out = out.replace(regex, (match) => {
      if (MARKER.test(match)) return match;
      count(counts, kind);
      return redacted(kind);
    });
  }
  return out;
}

/**
 * Redacts secrets in one string with the built-in rules and `extra` patterns; returns the same
 * string when there is nothing to redact.
 *
 * @example
 * ```ts
 * redactString("export GITHUB_TOKEN=ghp_…"); // "export GITHUB_TOKEN=[REDACTED:github_token]"
 * ```
 */
export function redactString(
  text: string,
  extra: readonly RedactPattern[] = [],
  counts: Counts = new Map(),
): string {
  const out = applyRules(text, counts);
  return extra.length ? applyExtra(out, extra, counts) : out;
}

const cleanKeys = new Set<string>();

/**
 * Whether an object key needs nothing: it names no secret and holds none. Remembered, since the
 * same few dozen keys come in every event (object keys are interned, so the lookup is cheap).
 */
function keyIsClean(key: string): boolean {
  if (cleanKeys.has(key)) return true;
  if (cachedKeyKind(key) !== null || applyRules(key, new Map()) !== key) {
    return false;
  }
  if (cleanKeys.size >= 4096) cleanKeys.clear();
  cleanKeys.add(key);
  return true;
}

interface Walk {
  extra: readonly RedactPattern[];
  counts: Counts;
}

function text(value: string, w: Walk): string {
  return redactString(value, w.extra, w.counts);
}

/**
 * Redacts every string in a JSON value (object keys too). Unchanged parts keep their identity,
 * so a clean value is returned as it came, without a copy.
 */
export function redactValue(
  value: unknown,
  extra: readonly RedactPattern[] = [],
  counts: Counts = new Map(),
): unknown {
  return walk(value, { extra, counts }, 0);
}

function walk(value: unknown, w: Walk, depth: number): unknown {
  if (typeof value === "string") return text(value, w);
  if (typeof value !== "object" || value === null) return value;
  if (depth >= MAX_DEPTH) {
    count(w.counts, "too_deep");
    return redacted("too_deep");
  }
  if (Array.isArray(value)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      const next = walk(item, w, depth + 1);
      if (next !== item) (out ??= value.slice())[i] = next;
    }
    return out ?? value;
  }
  const object = value as Record<string, unknown>;
  let out: Record<string, unknown> | null = null;
  let renamed = false;
  for (const key in object) {
    if (!Object.hasOwn(object, key)) continue;
    const item = object[key];
    let next: unknown;
    const kind = typeof item === "string" ? cachedKeyKind(key) : null;
    if (kind !== null && !isPlaceholder(item as string)) {
      const exact = tokenKind(item as string) ?? kind;
      count(w.counts, exact);
      next = redacted(exact);
    } else {
      next = walk(item, w, depth + 1);
    }
    if (
      !keyIsClean(key) &&
      text(key, { extra: w.extra, counts: new Map() }) !== key
    ) {
      renamed = true;
    }
    if (next !== item) define(out ??= { ...object }, key, next);
  }
  if (renamed) return renameKeys(out ?? object, w);
  return out ?? value;
}

/** Sets an own property, also one named `__proto__` (JSON.parse makes those). */
function define(target: Record<string, unknown>, key: string, value: unknown) {
  if (key === "__proto__") {
    Object.defineProperty(target, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  } else target[key] = value;
}

/** A copy with redacted key names, in order; keys that redact alike get `#2`, `#3`, …. */
function renameKeys(
  object: Record<string, unknown>,
  w: Walk,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(object)) {
    const base = text(key, w);
    let name = base;
    for (let n = 2; Object.hasOwn(out, name); n++) name = `${base}#${n}`;
    define(out, name, object[key]);
  }
  return out;
}

/**
 * Collects every string value of a JSON value into `parts`, for one pre-check per event;
 * false when a key needs a closer look (it names a secret or holds one).
 */
function collect(value: unknown, parts: string[], depth: number): boolean {
  if (typeof value === "string") {
    parts.push(value);
    return true;
  }
  if (typeof value !== "object" || value === null) return true;
  if (depth >= MAX_DEPTH) return false;
  let clean = true;
  if (Array.isArray(value)) {
    for (const item of value) clean = collect(item, parts, depth + 1) && clean;
    return clean;
  }
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    clean = keyIsClean(key) && clean;
    clean =
      collect((value as Record<string, unknown>)[key], parts, depth + 1) &&
      clean;
  }
  return clean;
}

/**
 * The event with its secrets redacted: `payload` (values and keys, at any depth), `summary`
 * and `chat`. The same object when nothing was found.
 */
export function redactEvent(
  event: NewEvent,
  extra: readonly RedactPattern[] = [],
  counts: Counts = new Map(),
): NewEvent {
  // One pre-check over all the event's strings: almost every event stops here. Keys are
  // checked one by one, and remembered.
  const parts: string[] = [];
  let clean = collect(event.payload, parts, 0);
  if (typeof event.summary === "string") parts.push(event.summary);
  if (Array.isArray(event.chat)) clean = collect(event.chat, parts, 0) && clean;
  if (clean && extra.length === 0 && !mayHoldSecret(parts.join("\n"))) {
    return event;
  }
  const w: Walk = { extra, counts };
  const payload = walk(event.payload, w, 0) as Record<string, unknown>;
  let summary = event.summary;
  if (typeof summary === "string") {
    summary = text(summary, w);
    if (summary.length > LIMITS.summaryLength) {
      summary = summary.slice(0, LIMITS.summaryLength);
    }
  }
  const chat = Array.isArray(event.chat)
    ? walk(event.chat, w, 0) as unknown[]
    : event.chat;
  if (
    payload === event.payload && summary === event.summary &&
    chat === event.chat
  ) {
    return event;
  }
  return { ...event, payload, summary, chat };
}

/** Options for {@linkcode createRedactor}. */
export interface RedactorOptions {
  /** false (`HOOKWATCH_REDACT=off`) stores events as they came. */
  enabled: boolean;
  /** `HOOKWATCH_REDACT_PATTERNS`. */
  extra?: readonly RedactPattern[];
}

/**
 * The ingest step: redacts a batch of events and counts what it replaced in
 * `redactions_total{kind}`.
 *
 * @example
 * ```ts
 * const redact = createRedactor({ enabled: true });
 * await committer.submit(deriveFields(redact(events), classify, Date.now()));
 * ```
 */
export function createRedactor(
  options: RedactorOptions,
): (events: NewEvent[]) => NewEvent[] {
  if (!options.enabled) return (events) => events;
  const extra = options.extra ?? [];
  return (events) => {
    const counts: Counts = new Map();
    const out = events.map((e) => redactEvent(e, extra, counts));
    for (const [kind, n] of counts) {
      instruments.redactionsTotal.add(n, { kind });
    }
    return out;
  };
}
