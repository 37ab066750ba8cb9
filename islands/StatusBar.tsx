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

/** Connection state, events per second, bucket sizes, client memory and fps. */
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
      <span title="client memory (page and worker)">
        {megabytes(memory.value)}
      </span>
      <span title="frames per second">{fps.value ?? "–"} fps</span>
    </div>
  );
}
