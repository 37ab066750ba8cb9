import type { Connection } from "../common/worker_protocol.ts";
import { fps, live, memory } from "./live.ts";
import { megabytes } from "./format.ts";
import { DEFAULT_CAPS } from "../common/buckets.ts";

const LABEL: Record<Connection | "static", string> = {
  static: "snapshot",
  connecting: "connecting",
  live: "live",
  reconnecting: "reconnecting",
};

/**
 * Connection state, events per second and bucket sizes; the client's own memory and fps small
 * and apart, since they matter less.
 */
export default function StatusBar(
  props: { counts: { priority: number; regular: number; display: number } },
) {
  const update = live.value;
  const conn = update?.conn ?? "static";
  const counts = update?.counts ?? props.counts;
  return (
    <div class="status">
      <span class={`conn ${conn}`} data-conn={conn} role="status">
        <span class="dot" aria-hidden="true" />
        {LABEL[conn]}
      </span>
      <span title="events per second">
        {update ? update.eventsPerSec : "–"} ev/s
      </span>
      <span title="priority bucket">
        {counts.priority}/{DEFAULT_CAPS.priority} priority
      </span>
      <span title="regular bucket">
        {counts.regular}/{DEFAULT_CAPS.regular} regular
      </span>
      <span class="perf" title="this page's memory (page and worker) and fps">
        {megabytes(memory.value)} · {fps.value ?? "–"} fps
      </span>
    </div>
  );
}
