import type { Lane } from "../common/rows.ts";
import { lanes as liveLanes } from "./live.ts";
import { clock, shortId } from "./format.ts";
import { LaneCost } from "./CostBadges.tsx";

/** Per-session lanes: each agent's recent events (main agent and subagents), newest first. */
export default function Lanes(props: { initial: Lane[] }) {
  const lanes = liveLanes.value ?? props.initial;
  return (
    <section class="lanes" aria-label="Sessions">
      <div class="panel-head">
        <h2>Sessions</h2>
      </div>
      {lanes.length === 0 ? <p class="empty">No sessions yet.</p> : (
        <ul>
          {lanes.map((lane) => (
            <li key={lane.key} class="lane">
              <div class="lane-name">
                <span class="app">{lane.app}</span>
                <span class="sess">{shortId(lane.session)}</span>
                <LaneCost session={lane.session} />
                {lane.agents > 0
                  ? (
                    <span class="agents">
                      {lane.agents}{" "}
                      {lane.agents === 1 ? "subagent" : "subagents"}
                    </span>
                  )
                  : null}
                <span class="last">
                  {lane.lastType} {clock(lane.lastAt)}
                </span>
              </div>
              {lane.tracks.map((track) => (
                <div class="track" key={track.agent ?? ""}>
                  <span class="agent">
                    {track.agent === null
                      ? "main"
                      : `↳ ${shortId(track.agent, 8)}`}
                  </span>
                  <ol class="marks" aria-label="recent events, newest first">
                    {track.marks.map(([id, type, p]) => (
                      <li key={id} class={p ? "m p" : "m"} title={type}>
                        <span class="sr">{type}</span>
                      </li>
                    ))}
                  </ol>
                </div>
              ))}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
