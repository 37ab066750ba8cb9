/**
 * Redacting one string: tokens (found from their hints and traced back to where they start),
 * passwords in URLs, `Authorization` and `Bearer` values, named values (`KEY=value`,
 * `"key": "value"`), then the `HOOKWATCH_REDACT_PATTERNS` extras, counting what it replaced by
 * kind. The rules themselves are `redact_rules.ts`. Must not walk objects or know events (that
 * is `redact.ts`), nor record into instruments.
 *
 * @module
 */
import type { RedactPattern } from "../base/redact_config.ts";
import {
  credentialLike,
  HINTS,
  isPlaceholder,
  redacted,
  secretKeyKind,
  TOKEN_RULES,
} from "./redact_rules.ts";

/** Redaction counts by kind, collected while redacting and recorded once per ingest. */
export type Counts = Map<string, number>;

/** Adds one to the count of `kind`. */
export function count(counts: Counts, kind: string): void {
  counts.set(kind, (counts.get(kind) ?? 0) + 1);
}

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
export function tokenKind(value: string): string | null {
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
export function cachedKeyKind(key: string): string | null {
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

/**
 * Applies the built-in rules to one string, each only when its pre-check finds a hint. Tokens go
 * first, so a token in a named value, a URL or a header is counted by its vendor; the later
 * rules leave the `[REDACTED:…]` they find alone.
 */
export function applyRules(text: string, counts: Counts): string {
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
export function mayHoldSecret(text: string): boolean {
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
