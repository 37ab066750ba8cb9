/**
 * The monitoring guide's `ClientPerformanceMonitor`: memory, bucket counts, fps and frame drops
 * from `requestAnimationFrame`, classification and bucket-switch times and end-to-end latency,
 * sent to `POST /api/metrics/client` on an interval.
 *
 * @module
 */
import { fps, live, memory } from "./live.ts";

const FRAME_MS = 1000 / 60;
const SAMPLES = 2048;

/** The body of `POST /api/metrics/client`. */
export interface ClientMetricsBody {
  timestamp: number;
  clientId: string;
  metrics: {
    memoryUsage: number | null;
    eventCounts: { priority: number; regular: number; total: number };
    renderingStats: { fps: number; frameDrops: number; frameDropRatio: number };
    classificationTimeMs: number | null;
    bucketSwitchMs: number | null;
    e2eLatencyMs: { p50: number; p99: number } | null;
  };
}

const latencies = new Float64Array(SAMPLES);
let latencyCount = 0;
let latencyNext = 0;
let lastSwitchMs: number | null = null;

/** Records one event's latency from server arrival to display, ms. */
export function recordLatency(ms: number): void {
  latencies[latencyNext] = Math.max(0, ms);
  latencyNext = (latencyNext + 1) % SAMPLES;
  latencyCount = Math.min(latencyCount + 1, SAMPLES);
}

let switchStart: { view: string; at: number } | null = null;

/** Marks the start of a bucket switch (the click). */
export function startSwitch(view: string): void {
  switchStart = { view, at: performance.now() };
}

/** Marks a switch rendered (the feed's layout effect); records its time. */
export function endSwitch(view: string): void {
  if (switchStart?.view !== view) return;
  lastSwitchMs = performance.now() - switchStart.at;
  switchStart = null;
}

/** The last bucket switch's time, ms. */
export function lastSwitch(): number | null {
  return lastSwitchMs;
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Frame and latency figures since the last {@linkcode ClientPerformanceMonitor.take}. */
export interface MonitorWindow {
  fps: number;
  frames: number;
  frameDrops: number;
  frameDropRatio: number;
  e2e: { p50: number; p99: number; count: number } | null;
  /** The raw latency samples, when asked for. */
  samples?: number[];
}

/** Watches frames and memory and reports them. */
export class ClientPerformanceMonitor {
  readonly clientId: string;
  #frames = 0;
  #drops = 0;
  #windowStart = performance.now();
  #secondFrames = 0;
  #secondStart = performance.now();
  #last = 0;
  #timers: ReturnType<typeof setInterval>[] = [];

  constructor(private readonly intervalMs: number) {
    this.clientId = `tab-${crypto.randomUUID()}`;
  }

  /** Starts the frame loop, memory sampling and the report interval. */
  start(): void {
    const frame = (t: number) => {
      if (this.#last > 0) {
        const delta = t - this.#last;
        // A frame that took n vsync intervals dropped n - 1 of them.
        this.#drops += Math.max(0, Math.round(delta / FRAME_MS) - 1);
      }
      this.#last = t;
      this.#frames++;
      this.#secondFrames++;
      if (t - this.#secondStart >= 1000) {
        fps.value = Math.round(
          this.#secondFrames * 1000 / (t - this.#secondStart),
        );
        this.#secondFrames = 0;
        this.#secondStart = t;
      }
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
    document.addEventListener("visibilitychange", () => {
      this.#last = 0; // hidden tabs get no frames: not drops
    });
    void this.sampleMemory();
    this.#timers.push(
      setInterval(
        () => void this.sampleMemory(),
        Math.min(this.intervalMs, 10_000),
      ),
      setInterval(() => void this.send(), this.intervalMs),
    );
  }

  /** Page + worker memory (measureUserAgentSpecificMemory), else the page's JS heap. */
  async sampleMemory(): Promise<number | null> {
    const heap = (performance as unknown as {
      memory?: { usedJSHeapSize: number };
    }).memory;
    // The page's heap right away; the page + worker figure replaces it when measured.
    if (memory.peek() === null && heap) memory.value = heap.usedJSHeapSize;
    try {
      if (
        crossOriginIsolated && "measureUserAgentSpecificMemory" in performance
      ) {
        const result = await (performance as unknown as {
          measureUserAgentSpecificMemory(): Promise<{ bytes: number }>;
        }).measureUserAgentSpecificMemory();
        return memory.value = result.bytes;
      }
    } catch { /* not allowed here: fall back */ }
    return memory.value = heap ? heap.usedJSHeapSize : null;
  }

  /** The figures since the previous call, and starts a new window. */
  take(options: { samples?: boolean } = {}): MonitorWindow {
    const elapsed = performance.now() - this.#windowStart;
    const frames = this.#frames;
    const drops = this.#drops;
    this.#frames = 0;
    this.#drops = 0;
    this.#windowStart = performance.now();
    const n = latencyCount;
    let e2e: MonitorWindow["e2e"] = null;
    const sorted = latencies.slice(0, n).sort();
    if (n > 0) {
      e2e = {
        p50: percentile(sorted, 0.5),
        p99: percentile(sorted, 0.99),
        count: n,
      };
    }
    latencyCount = 0;
    latencyNext = 0;
    return {
      ...(options.samples ? { samples: [...sorted] } : {}),
      fps: elapsed > 0 ? frames * 1000 / elapsed : 0,
      frames,
      frameDrops: drops,
      frameDropRatio: frames + drops > 0 ? drops / (frames + drops) : 0,
      e2e,
    };
  }

  /** Builds the report body from a window. */
  body(w: MonitorWindow): ClientMetricsBody {
    const update = live.peek();
    const counts = update?.counts;
    return {
      timestamp: Date.now(),
      clientId: this.clientId,
      metrics: {
        memoryUsage: memory.peek(),
        eventCounts: {
          priority: counts?.priority ?? 0,
          regular: counts?.regular ?? 0,
          total: (counts?.priority ?? 0) + (counts?.regular ?? 0),
        },
        renderingStats: {
          fps: Math.min(1000, Math.round(w.fps * 10) / 10),
          frameDrops: w.frameDrops,
          frameDropRatio: w.frameDropRatio,
        },
        classificationTimeMs: update ? update.classifyMs : null,
        bucketSwitchMs: lastSwitchMs,
        e2eLatencyMs: w.e2e ? { p50: w.e2e.p50, p99: w.e2e.p99 } : null,
      },
    };
  }

  /** Sends the report; a failed send is dropped (the next one carries fresh figures). */
  async send(): Promise<void> {
    try {
      const res = await fetch("/api/metrics/client", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(this.body(this.take())),
      });
      await res.body?.cancel();
    } catch { /* server away: next interval */ }
  }
}
