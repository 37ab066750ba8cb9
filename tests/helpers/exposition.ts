/**
 * Reads Prometheus text exposition for assertions (promtool checks the format itself).
 *
 * @module
 */

/** One sample line. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The `# TYPE` of each family and every sample. */
export interface Exposition {
  types: Map<string, string>;
  samples: Sample[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses exposition text; throws on a line it cannot read. */
export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1], type[2]);
    if (line.startsWith("#")) continue;
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? "").matchAll(LABEL)) {
      labels[key] = value.replace(/\\(.)/g, (_, c) => c === "n" ? "\n" : c);
    }
    const value = match[3] === "+Inf"
      ? Infinity
      : match[3] === "-Inf"
      ? -Infinity
      : Number(match[3]);
    samples.push({ name: match[1], labels, value });
  }
  return { types, samples };
}

/** The value of the one sample named `name` whose labels include `labels`. */
export function sampleValue(
  exposition: Exposition,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const found = exposition.samples.filter((s) =>
    s.name === name &&
    Object.entries(labels).every(([k, v]) => s.labels[k] === v)
  );
  if (found.length > 1) {
    throw new Error(
      `${found.length} samples match ${name} ${JSON.stringify(labels)}`,
    );
  }
  return found[0]?.value;
}

/** Metric family names: sample names without the histogram suffixes of histogram families. */
export function familyNames(exposition: Exposition): Set<string> {
  const names = new Set(exposition.types.keys());
  for (const s of exposition.samples) {
    const base = s.name.replace(/_(bucket|sum|count)$/, "");
    names.add(exposition.types.get(base) === "histogram" ? base : s.name);
  }
  return names;
}
