import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type BucketEvent,
  DualBuckets,
  mergeDisplay,
  mergeNewestFirst,
} from "./buckets.ts";

const NOW = 1_764_160_000_000;
const HOUR = 3_600_000;

function events(
  count: number,
  priority: 0 | 1,
  firstId = 1,
  step = 1,
): BucketEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    id: firstId + i * step,
    priority,
    timestamp: NOW - 1000,
  }));
}

Deno.test("buckets - 500 regular and 50 priority: all priority kept, regular capped at 100", () => {
  const b = new DualBuckets();
  const regular = events(500, 0, 1, 2);
  const priority = events(50, 1, 2, 20);
  for (const e of [...regular, ...priority].sort((x, y) => x.id - y.id)) {
    b.add(e, NOW);
  }
  assert.equal(b.priority.length, 50);
  assert.equal(b.regular.length, 100);
  assert.deepEqual(
    b.regular.map((e) => e.id),
    regular.slice(-100).map((e) => e.id),
  );
  const shown = b.display();
  assert.equal(shown.length, 150);
  assert.equal(shown.filter((e) => e.priority === 1).length, 50);
});

Deno.test("buckets - display caps at 250: oldest regular events leave first", () => {
  const b = new DualBuckets();
  for (const e of events(100, 0, 1)) b.add(e, NOW);
  for (const e of events(230, 1, 101)) b.add(e, NOW);
  assert.equal(b.priority.length, 200);
  assert.equal(b.regular.length, 100);
  const shown = b.display();
  assert.equal(shown.length, 250);
  assert.equal(shown.filter((e) => e.priority === 1).length, 200);
  // The 50 regular events shown are the newest ones (ids 51..100).
  assert.deepEqual(
    shown.filter((e) => e.priority === 0).map((e) => e.id),
    Array.from({ length: 50 }, (_, i) => 100 - i),
  );
  assert.deepEqual(
    shown.map((e) => e.id),
    [...shown.map((e) => e.id)].sort((a, b) => b - a),
  );
});

Deno.test("buckets - duplicates are ignored", () => {
  const b = new DualBuckets();
  const e: BucketEvent = { id: 7, priority: 1, timestamp: NOW };
  b.add(e, NOW);
  b.add({ ...e }, NOW);
  assert.equal(b.size, 1);
});

Deno.test("buckets - retention drops regular after 4 h and priority after 24 h", () => {
  const b = new DualBuckets();
  b.add({ id: 1, priority: 0, timestamp: NOW - 5 * HOUR }, NOW); // already expired
  b.add({ id: 2, priority: 0, timestamp: NOW - 3 * HOUR }, NOW);
  b.add({ id: 3, priority: 1, timestamp: NOW - 23 * HOUR }, NOW);
  b.add({ id: 4, priority: 1, timestamp: NOW }, NOW);
  assert.deepEqual([...b.regular, ...b.priority].map((e) => e.id), [2, 3, 4]);
  assert.equal(b.expire(NOW + 2 * HOUR), 2);
  assert.deepEqual([...b.regular, ...b.priority].map((e) => e.id), [4]);
  assert.equal(b.has(2), false);
  b.add({ id: 2, priority: 0, timestamp: NOW + 2 * HOUR }, NOW + 2 * HOUR);
  assert.equal(b.has(2), true);
});

Deno.test("buckets - reset replaces contents from a snapshot in any order", () => {
  const b = new DualBuckets();
  for (const e of events(10, 0)) b.add(e, NOW);
  b.reset([...events(3, 1, 50), ...events(2, 0, 40)].reverse(), NOW);
  assert.deepEqual(b.priority.map((e) => e.id), [50, 51, 52]);
  assert.deepEqual(b.regular.map((e) => e.id), [40, 41]);
  assert.deepEqual(b.display().map((e) => e.id), [52, 51, 50, 41, 40]);
});

Deno.test("buckets - display filter applies before the caps", () => {
  const b = new DualBuckets({ caps: { display: 4 } });
  for (const e of events(6, 0)) b.add(e, NOW);
  const shown = b.display((e) => e.id % 2 === 0);
  assert.deepEqual(shown.map((e) => e.id), [6, 4, 2]);
});

Deno.test("buckets - mergeNewestFirst interleaves by id", () => {
  const a = [{ id: 9 }, { id: 5 }, { id: 1 }];
  const b = [{ id: 8 }, { id: 2 }];
  assert.deepEqual(mergeNewestFirst(a, b).map((e) => e.id), [9, 8, 5, 2, 1]);
  assert.deepEqual(mergeNewestFirst(a, b, 1, 1).map((e) => e.id), [9, 8]);
});

Deno.test("buckets - property: caps hold, priority never evicted by regular, display is newest first", () => {
  const arbitraryEvents = fc.array(
    fc.record({
      priority: fc.constantFrom<0 | 1>(0, 1),
      age: fc.integer({ min: 0, max: 30 * HOUR }),
    }),
    { maxLength: 700 },
  );
  fc.assert(
    fc.property(arbitraryEvents, (input) => {
      const b = new DualBuckets();
      const all = input.map((e, i) => ({
        id: i + 1,
        priority: e.priority,
        timestamp: NOW - e.age,
      }));
      for (const e of all) b.add(e, NOW);
      assert.ok(b.priority.length <= 200);
      assert.ok(b.regular.length <= 100);
      const live = (e: BucketEvent) =>
        e.timestamp >= NOW - (e.priority ? 24 * HOUR : 4 * HOUR);
      // Each bucket holds exactly the newest live events of its class, up to its cap.
      const expectP = all.filter((e) => e.priority === 1 && live(e)).slice(
        -200,
      );
      const expectR = all.filter((e) => e.priority === 0 && live(e)).slice(
        -100,
      );
      assert.deepEqual(b.priority.map((e) => e.id), expectP.map((e) => e.id));
      assert.deepEqual(b.regular.map((e) => e.id), expectR.map((e) => e.id));
      const shown = b.display();
      assert.ok(shown.length <= 250);
      // Every held priority event is displayed (200 < 250).
      assert.equal(
        shown.filter((e) => e.priority === 1).length,
        expectP.length,
      );
      assert.equal(
        shown.length,
        Math.min(250, expectP.length + expectR.length),
      );
      for (let i = 1; i < shown.length; i++) {
        assert.ok(shown[i - 1].id > shown[i].id);
      }
    }),
    { numRuns: 200 },
  );
});

Deno.test("buckets - property: mergeDisplay keeps every priority item when under the cap", () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.integer({ min: 1, max: 10_000 }), { maxLength: 400 }),
      fc.integer({ min: 0, max: 300 }),
      (ids, split) => {
        const sorted = [...ids].sort((a, b) => b - a);
        const p = sorted.filter((_, i) => i % 3 === 0).slice(0, split).map((
          id,
        ) => ({ id }));
        const r = sorted.filter((_, i) => i % 3 !== 0).map((id) => ({ id }));
        const shown = mergeDisplay(p, r, 250);
        const pIds = new Set(p.map((e) => e.id));
        const shownP = shown.filter((e) => pIds.has(e.id)).length;
        assert.equal(shownP, Math.min(p.length, 250));
        assert.equal(shown.length, Math.min(250, p.length + r.length));
      },
    ),
  );
});

Deno.test("buckets - parts of one thing fold into one held event, merged, in the newest part's place", () => {
  interface Part {
    id: number;
    priority: 0 | 1;
    timestamp: number;
    message: string | null;
    text: string;
  }
  const buckets = new DualBuckets<Part>({
    caps: { regular: 3 },
    fold: {
      key: (e) => e.message,
      merge: (previous, next) => ({ ...next, text: previous.text + next.text }),
    },
  });
  const now = Date.now();
  const part = (id: number, message: string | null, text: string): Part => ({
    id,
    priority: 0,
    timestamp: now,
    message,
    text,
  });
  buckets.add(part(1, "m1", "Hel"), now);
  buckets.add(part(2, null, "tool"), now);
  buckets.add(part(3, "m1", "lo"), now);
  buckets.add(part(4, "m2", "Bye"), now);
  buckets.add(part(5, "m1", "!"), now);
  assert.deepEqual(
    buckets.regular.map((e) => [e.id, e.text]),
    [[2, "tool"], [4, "Bye"], [5, "Hello!"]],
  );
  assert.equal(buckets.has(1), false);
  assert.equal(buckets.has(3), false);
  // A hundred deltas of one message are one row; the cap still holds three things.
  for (let id = 6; id < 106; id++) buckets.add(part(id, "m3", "."), now);
  assert.deepEqual(buckets.regular.map((e) => e.id), [4, 5, 105]);
  assert.equal(buckets.regular[2].text.length, 100);
});
