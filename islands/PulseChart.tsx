import { useEffect, useRef, useState } from "preact/hooks";
import type { Pulse } from "../common/worker_protocol.ts";
import { pulse as livePulse } from "./live.ts";

const WINDOWS = [1, 3, 5, 10];

function draw(canvas: HTMLCanvasElement, pulse: Pulse, seconds: number): void {
  const dpr = globalThis.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (canvas.width !== width * dpr || canvas.height !== height * dpr) {
    canvas.width = width * dpr;
    canvas.height = height * dpr;
  }
  const ctx = canvas.getContext("2d");
  if (!ctx) return;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  const p = pulse.priority.slice(-seconds);
  const r = pulse.regular.slice(-seconds);
  let max = 1;
  for (let i = 0; i < p.length; i++) max = Math.max(max, p[i] + r[i]);
  const style = getComputedStyle(canvas);
  const barW = width / seconds;
  const scale = (height - 2) / max;
  ctx.fillStyle = style.getPropertyValue("--regular").trim() || "#888";
  for (let i = 0; i < r.length; i++) {
    const h = r[i] * scale;
    ctx.fillRect(i * barW, height - h, Math.max(1, barW - 0.5), h);
  }
  ctx.fillStyle = style.getPropertyValue("--priority").trim() || "#c60";
  for (let i = 0; i < p.length; i++) {
    const h = p[i] * scale;
    const below = r[i] * scale;
    ctx.fillRect(i * barW, height - below - h, Math.max(1, barW - 0.5), h);
  }
}

function sum(values: number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

/** Events per second per bucket over the last 1, 3, 5 or 10 minutes, drawn on a canvas. */
export default function PulseChart(props: { minutes: number }) {
  const [minutes, setMinutes] = useState(props.minutes);
  const canvas = useRef<HTMLCanvasElement>(null);
  const pulse = livePulse.value;
  const seconds = minutes * 60;

  useEffect(() => {
    if (canvas.current && pulse) draw(canvas.current, pulse, seconds);
  }, [pulse, seconds]);

  const p = pulse ? sum(pulse.priority.slice(-seconds)) : null;
  const r = pulse ? sum(pulse.regular.slice(-seconds)) : null;
  return (
    <section class="pulse" aria-label="Pulse">
      <div class="panel-head">
        <h2>Pulse</h2>
        <div class="windows" role="group" aria-label="Window">
          {WINDOWS.map((m) => (
            <button
              key={m}
              type="button"
              aria-pressed={m === minutes}
              onClick={() => setMinutes(m)}
            >
              {m}m
            </button>
          ))}
        </div>
      </div>
      <canvas ref={canvas} class="pulse-canvas" aria-hidden="true" />
      <p class="pulse-sum">
        {p === null
          ? "Live chart starts with the stream."
          : `${p + r!} events in ${minutes} min · ${p} priority · ${r} regular`}
      </p>
    </section>
  );
}
