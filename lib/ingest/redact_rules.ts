/**
 * What counts as a secret: the token rules, the words a secret's name ends with, the hints that
 * send a string to the exact rules, and what a secret becomes (`[REDACTED:<kind>]`). Tables and
 * small predicates only: finding secrets in a string is `redact_match.ts`, walking an event is
 * `redact.ts`. Must not import either, or keep state.
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
 * same events: `redactEvent` 5.3 µs; a machine at load 13 on 2 cores, so read the ratios.)
 *
 * @module
 */

/** The text that replaces a secret of `kind`. */
export function redacted(kind: string): string {
  return `[REDACTED:${kind}]`;
}

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
export interface TokenRule {
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
export const TOKEN_RULES: TokenRule[] = [
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
export const HINTS = {
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

/** A value is credential-like when it is more than a plain word: 6+ characters, a digit or a symbol. */
export const credentialLike = (value: string) =>
  value.length >= 6 && /[^A-Za-z]/.test(value);
