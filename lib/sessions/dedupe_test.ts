import assert from "node:assert/strict";
import { cumulativeGrowth } from "./dedupe.ts";

const point = (start: string, time: string, value: number) => ({
  startTimeUnixNano: start,
  timeUnixNano: time,
  value,
});

Deno.test("sessions dedupe - a cumulative series adds its growth, once, and survives a restart", () => {
  assert.equal(cumulativeGrowth(undefined, point("1", "10", 5)), 5);
  const last = { start_nano: "1", time_nano: "10", value: 5 };
  assert.equal(cumulativeGrowth(last, point("1", "20", 8)), 3);
  assert.equal(cumulativeGrowth(last, point("1", "10", 8)), null, "repeat");
  assert.equal(cumulativeGrowth(last, point("1", "5", 8)), null, "older");
  assert.equal(cumulativeGrowth(last, point("1", "20", 2)), 2, "went down");
  assert.equal(cumulativeGrowth(last, point("2", "30", 4)), 4, "new start");
  assert.equal(cumulativeGrowth(last, point("0", "30", 4)), null);
});
