/**
 * What `tests/docs_test.ts` checks the documentation with: the markdown files of the
 * repository, their tables and relative links, the `METHOD /path` routes a page names, and the
 * environment variables the product code reads. Plain text scanning, no parser: each function
 * says which forms it knows.
 *
 * @module
 */
import { ROOT } from "./server.ts";

/** Every markdown file tracked by git, relative to the repository root. */
export function markdownFiles(): string[] {
  const out = new Deno.Command("git", {
    args: ["ls-files", "--cached", "--others", "--exclude-standard", "*.md"],
    cwd: ROOT,
    stdout: "piped",
  }).outputSync();
  return new TextDecoder().decode(out.stdout).split("\n").filter((f) =>
    f !== "" && existsSync(`${ROOT}${f}`)
  ).sort();
}

function existsSync(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The lines of `text` outside fenced code blocks, with their 1-based numbers. */
export function proseLines(text: string): { n: number; line: string }[] {
  const lines: { n: number; line: string }[] = [];
  let fence: string | null = null;
  text.split("\n").forEach((line, i) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence !== null) {
      if (marker && marker[0] === fence[0] && marker.length >= fence.length) {
        fence = null;
      }
      return;
    }
    if (marker) {
      fence = marker;
      return;
    }
    lines.push({ n: i + 1, line });
  });
  return lines;
}

/**
 * A table row's cells as GitHub renders them: split on every `|` that is not escaped as `\|`,
 * inside code spans too (GFM splits the row before it reads inline code, so a bare pipe in
 * backticks starts a new cell), without the outer pipes.
 */
export function tableCells(row: string): string[] {
  let text = row.trim();
  const cells: string[] = [];
  let cell = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "\\" && i + 1 < text.length) {
      cell += ch + text[i + 1];
      i++;
    } else if (ch === "|") {
      cells.push(cell);
      cell = "";
    } else {
      cell += ch;
    }
  }
  cells.push(cell);
  text = text.trim();
  if (text.startsWith("|")) cells.shift();
  if (cells.length > 0 && /(^|[^\\])\|$/.test(text)) cells.pop();
  return cells.map((c) => c.trim());
}

const DELIMITER_CELL = /^:?-+:?$/;

/** Whether a row is a delimiter row (`| --- | :-: |`). */
export function isDelimiterRow(row: string): boolean {
  const cells = tableCells(row);
  return cells.length > 0 && cells.every((c) => DELIMITER_CELL.test(c));
}

/**
 * What would keep the tables of one markdown text from rendering as tables: a block of
 * `|` lines without a delimiter row as its second line (it renders as a paragraph of pipes), a
 * row whose number of cells is not the header's, a second delimiter row among the rows (it
 * renders as a row of dashes), a line right after a table that would be read as one more row,
 * and a delimiter row without the leading pipe this repository writes tables with.
 */
export function tableProblems(text: string): string[] {
  const problems: string[] = [];
  const lines = proseLines(text);
  let i = 0;
  while (i < lines.length) {
    const { n, line } = lines[i];
    if (!line.trimStart().startsWith("|")) {
      if (line.includes("|") && isDelimiterRow(line)) {
        problems.push(`line ${n}: a delimiter row without its leading "|"`);
      }
      i++;
      continue;
    }
    const block: { n: number; line: string }[] = [];
    while (
      i < lines.length && lines[i].line.trimStart().startsWith("|") &&
      (block.length === 0 || lines[i].n === block[block.length - 1].n + 1)
    ) {
      block.push(lines[i]);
      i++;
    }
    const after = i < lines.length && lines[i].n === block.at(-1)!.n + 1
      ? lines[i]
      : null;
    if (block.length < 2 || !isDelimiterRow(block[1].line)) {
      problems.push(
        `line ${n}: "|" rows without a delimiter row under the header (renders as a paragraph)`,
      );
      continue;
    }
    const width = tableCells(block[0].line).length;
    for (const [k, row] of block.entries()) {
      const cells = tableCells(row.line).length;
      if (cells !== width) {
        problems.push(
          `line ${row.n}: ${cells} cells, the header has ${width} (a bare "|" in a cell? write \\|)`,
        );
      }
      if (k > 1 && isDelimiterRow(row.line)) {
        problems.push(
          `line ${row.n}: a second delimiter row inside the table (renders as a row of dashes)`,
        );
      }
    }
    if (after !== null && after.line.trim() !== "") {
      problems.push(
        `line ${after.n}: text right under a table is read as one more row; leave a blank line`,
      );
    }
  }
  return problems;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function headingAnchor(heading: string): string {
  return heading.trim().toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, "")
    .replace(/ /g, "-");
}

/** The anchors of a markdown text's headings, with GitHub's `-1`, `-2` for repeats. */
export function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { line } of proseLines(text)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const base = headingAnchor(heading);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** The link targets of a markdown text (`[text](target)`, `![alt](target)`), outside code. */
export function linksOf(text: string): { n: number; target: string }[] {
  const links: { n: number; target: string }[] = [];
  for (const { n, line } of proseLines(text)) {
    const prose = line.replace(/`[^`]*`/g, "");
    for (const match of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?[^)]*\)/g)) {
      links.push({ n, target: match[1] });
    }
  }
  return links;
}

/**
 * The relative links of the markdown file `file` (repository-relative) that point at nothing:
 * a file that does not exist, or an anchor that no heading of the target makes.
 */
export function brokenLinks(file: string, text: string): string[] {
  const broken: string[] = [];
  const dir = file.includes("/")
    ? file.slice(0, file.lastIndexOf("/") + 1)
    : "";
  for (const { n, target } of linksOf(text)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
    const [path, anchor] = target.split("#", 2);
    const resolved = path === ""
      ? file
      : new URL(path, `file:///${dir}`).pathname.slice(1);
    const full = `${ROOT}${resolved}`;
    if (!existsSync(full)) {
      broken.push(`${file}:${n}: ${target} (no ${resolved})`);
      continue;
    }
    if (anchor && resolved.endsWith(".md")) {
      const anchors = anchorsOf(Deno.readTextFileSync(full));
      if (!anchors.has(anchor)) {
        broken.push(`${file}:${n}: ${target} (no heading #${anchor})`);
      }
    }
  }
  return broken;
}

const METHODS = "GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS";

/** A route with its parameters written alike: `/hooks/<app>/decide` → `/hooks/:param/decide`. */
export function normaliseRoute(method: string, path: string): string {
  const clean = path.replace(/\/+$/, "") || "/";
  return `${method.toUpperCase()} ${
    clean.split("/").map((segment) =>
      /^(:\w+|<[^>]+>|\{[^}]+\})$/.test(segment) ? ":param" : segment
    ).join("/")
  }`;
}

/** Every `METHOD /path` a text names, normalised ({@linkcode normaliseRoute}). */
export function routesNamed(text: string): Set<string> {
  const routes = new Set<string>();
  const pattern = new RegExp(`\\b(${METHODS}) (/[^\\s\`|,;)?#]*)`, "g");
  for (const match of text.matchAll(pattern)) {
    routes.add(normaliseRoute(match[1], match[2]));
  }
  return routes;
}

/** Where product code lives: what runs in production, the sender and the operations commands. */
export const PRODUCT_CODE = [
  "main.ts",
  "app.ts",
  "lib/",
  "routes/",
  "otel/",
  "hooks/",
  "common/",
  "components/",
  "islands/",
  "workers/",
  "scripts/",
];

/** The product's source files (tests, benchmarks and fixtures excluded). */
export function productFiles(): string[] {
  const files: string[] = [];
  const walk = (rel: string) => {
    const info = Deno.statSync(`${ROOT}${rel}`);
    if (info.isFile) {
      if (
        /\.(ts|tsx|mjs|js|sh)$/.test(rel) && !/_test\.tsx?$/.test(rel) &&
        !rel.startsWith("static/build/")
      ) files.push(rel);
      return;
    }
    for (const entry of Deno.readDirSync(`${ROOT}${rel}`)) {
      walk(`${rel}${entry.name}${entry.isDirectory ? "/" : ""}`);
    }
  };
  for (const root of PRODUCT_CODE) walk(root);
  return files.sort();
}

/** Whether a `/` after `code` starts a regular expression literal (not a division). */
function startsRegex(code: string): boolean {
  const before = code.slice(-64).trimEnd();
  return before === "" || "(,=:[!&|?{};+-*%<>~^".includes(before.at(-1)!) ||
    /\breturn$/.test(before);
}

/** TypeScript without its comments (line and block); strings keep their `//`. */
export function withoutComments(source: string): string {
  let out = "";
  let i = 0;
  let quote: string | null = null;
  while (i < source.length) {
    const ch = source[i];
    if (quote !== null) {
      out += ch;
      if (ch === "\\") {
        out += source[i + 1] ?? "";
        i += 2;
        continue;
      }
      if (ch === quote || (ch === "\n" && quote !== "`")) quote = null;
      i++;
      continue;
    }
    if (ch === "/" && source[i + 1] === "/") {
      while (i < source.length && source[i] !== "\n") i++;
      continue;
    }
    if (ch === "/" && source[i + 1] === "*") {
      const end = source.indexOf("*/", i + 2);
      const comment = source.slice(i, end < 0 ? source.length : end + 2);
      out += comment.replace(/[^\n]/g, " ");
      i += comment.length;
      continue;
    }
    if (ch === "/" && startsRegex(out)) {
      // A regular expression literal: its quotes and slashes are not strings or comments.
      let j = i + 1;
      let inClass = false;
      while (j < source.length && source[j] !== "\n") {
        if (source[j] === "\\") j++;
        else if (source[j] === "[") inClass = true;
        else if (source[j] === "]") inClass = false;
        else if (source[j] === "/" && !inClass) break;
        j++;
      }
      out += source.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (ch === '"' || ch === "'" || ch === "`") quote = ch;
    out += ch;
    i++;
  }
  return out;
}

const NAME = "[A-Z][A-Z0-9_]*";
const Q = "[\"'`]";

/**
 * The environment variables a TypeScript source reads, in every form the product code uses:
 *
 * - `env.NAME`, `env?.NAME`, `env["NAME"]` (an env record, `lib/base/config.ts`);
 * - `Deno.env.get("NAME")`, `env("NAME")`, `ctx.env("NAME")` (a getter, `hooks/`);
 * - `helper(env, "NAME", …)` (`integer`, `oneOf`, `whole`, `positiveMs`: a helper handed the
 *   record and the name);
 * - a name held in a variable or passed to a local helper and read as `env[variable]`: in a
 *   file that reads the record by a computed key, every upper-case string literal with an
 *   underscore (`duration("HOOKWATCH_STALE_AFTER", …)`, `const variable = … "OTEL_…"`).
 *
 * Comments are skipped: a name in a comment is not a read.
 */
export function envReadsInTs(source: string): Set<string> {
  const code = withoutComments(source);
  const names = new Set<string>();
  const forms = [
    new RegExp(`\\benv\\??\\.(${NAME})\\b`, "g"),
    new RegExp(`\\benv\\??\\.?\\[\\s*${Q}(${NAME})${Q}\\s*\\]`, "g"),
    new RegExp(`\\benv(?:\\.get)?\\(\\s*${Q}(${NAME})${Q}`, "g"),
    new RegExp(`\\(\\s*env\\s*,\\s*${Q}(${NAME})${Q}`, "g"),
  ];
  for (const form of forms) {
    for (const match of code.matchAll(form)) names.add(match[1]);
  }
  if (/\benv\??\.?\[\s*[A-Za-z_$]/.test(code)) {
    for (
      const match of code.matchAll(
        new RegExp(`${Q}([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)${Q}`, "g"),
      )
    ) names.add(match[1]);
  }
  return names;
}

/** The environment variables a POSIX shell script reads (`$NAME`, `${NAME…}`), comments skipped. */
export function envReadsInShell(source: string): Set<string> {
  const names = new Set<string>();
  for (const line of source.split("\n")) {
    if (line.trimStart().startsWith("#")) continue;
    for (const match of line.matchAll(/\$\{?([A-Z_][A-Z0-9_]*)/g)) {
      names.add(match[1]);
    }
  }
  return names;
}

/** Every environment variable the product code reads, with the files that read it. */
export function envReads(): Map<string, string[]> {
  const reads = new Map<string, string[]>();
  for (const file of productFiles()) {
    const source = Deno.readTextFileSync(`${ROOT}${file}`);
    const names = file.endsWith(".sh")
      ? envReadsInShell(source)
      : envReadsInTs(source);
    for (const name of names) reads.set(name, [...reads.get(name) ?? [], file]);
  }
  return reads;
}
