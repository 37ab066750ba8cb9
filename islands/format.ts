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

/** A duration as a short age: `45 s`, `2 m`, `3 h`, `2 d` (whole units, rounded down). */
export function age(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} m`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86_400)} d`;
}
