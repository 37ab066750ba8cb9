import assert from "node:assert/strict";
import { median, percentile, quantile } from "./lib.ts";

Deno.test("bench lib - median, quantile and nearest-rank percentile", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
  const xs = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
  assert.equal(quantile(xs, 0.5), 6);
  assert.equal(quantile(xs, 0.99), 10);
  assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50), 5);
});
