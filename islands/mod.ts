/**
 * The island registry: one barrel for the server (to mark islands) and the client entry (to
 * hydrate them), so names agree on both sides.
 *
 * @module
 */
import type { IslandRegistry } from "../common/islands.ts";
import Board from "./Board.tsx";
import Drawer from "./Drawer.tsx";
import Feed from "./Feed.tsx";
import Filters from "./Filters.tsx";
import Inbox from "./Inbox.tsx";
import Onboarding from "./Onboarding.tsx";
import PulseChart from "./PulseChart.tsx";
import SessionCosts from "./SessionCosts.tsx";
import Timeline from "./Timeline.tsx";
import StatusBar from "./StatusBar.tsx";
import ViewSwitch from "./ViewSwitch.tsx";

/** Every island by name. */
export const islands: IslandRegistry = {
  Board,
  Drawer,
  Feed,
  Filters,
  Inbox,
  Onboarding,
  PulseChart,
  SessionCosts,
  StatusBar,
  Timeline,
  ViewSwitch,
};
