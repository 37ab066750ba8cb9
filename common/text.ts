/**
 * One line of plain text from untrusted input: whitespace folded, cut to a length, and the most
 * telling field of a tool input. Written once for the server's tool calls and inbox reasons
 * (`lib/agents/`) and the dashboard's feed rows and sessions board.
 *
 * @module
 */

const SUMMARY_FIELDS = [
  "command",
  "file_path",
  "notebook_path",
  "pattern",
  "url",
  "query",
  "description",
  "prompt",
  "path",
];

/** Longest input summary kept. */
export const SUMMARY_LIMIT = 200;

/** One line of plain text: a string cut to `limit` characters. */
export function oneLine(text: string, limit = SUMMARY_LIMIT): string {
  // Only the start can show: a long input is not scanned whole.
  const head = text.length > limit * 4 ? text.slice(0, limit * 4) : text;
  const flat = head.replace(/\s+/g, " ").trim();
  return flat.length > limit ? `${flat.slice(0, limit - 1)}…` : flat;
}

/** The most telling field of a tool input (command, file path, pattern, URL …), one line. */
export function inputSummary(input: unknown): string {
  if (typeof input !== "object" || input === null) return "";
  const record = input as Record<string, unknown>;
  for (const field of SUMMARY_FIELDS) {
    const value = record[field];
    if (typeof value === "string" && value.length > 0) return oneLine(value);
  }
  for (const value of Object.values(record)) {
    if (typeof value === "string" && value.length > 0) return oneLine(value);
  }
  return "";
}
