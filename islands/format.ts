/**
 * Small display helpers shared by islands and server components.
 *
 * @module
 */

const clockFormat = new Intl.DateTimeFormat("en-GB", {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hour12: false,
});

/** `HH:MM:SS` in the viewer's time zone. */
export function clock(ms: number): string {
  return clockFormat.format(ms);
}

/** The first characters of a long id. */
export function shortId(id: string, length = 12): string {
  return id.length > length ? `${id.slice(0, length)}…` : id;
}

/** Bytes as MB with one decimal. */
export function megabytes(bytes: number | null): string {
  return bytes === null ? "–" : `${(bytes / 1_048_576).toFixed(1)} MB`;
}
