/**
 * The client entry: hydrates every island, starts the bucket worker and the client monitor.
 *
 * @module
 */
import { hydrateIslands } from "../common/islands.ts";
import { islands } from "./mod.ts";
import {
  arrivalSamples,
  type ClientConfig,
  live,
  startLive,
  updateCount,
} from "./live.ts";
import { ClientPerformanceMonitor, lastSwitch } from "./monitor.ts";

const config = JSON.parse(
  document.body.dataset.hwConfig ?? "{}",
) as ClientConfig;
hydrateIslands(islands);
const monitor = new ClientPerformanceMonitor(config.metricsIntervalMs);
startLive(config);
monitor.start();
document.documentElement.dataset.hydrated = "true";

// Read-only handles for benchmarks and debugging in devtools.
Object.assign(globalThis, {
  hookwatch: { monitor, live, updateCount, lastSwitch, arrivalSamples },
});
