import assert from "node:assert/strict";
import { h } from "preact";
import { renderToString } from "preact-render-to-string";
import { type Signal, signal } from "@preact/signals";
import {
  IslandPropsError,
  renderWithIslands,
  reviveProps,
  serializeProps,
} from "./islands.ts";

function Counter(props: { label: string; count: Signal<number> }) {
  return h(
    "button",
    { type: "button" },
    `${props.label}: ${props.count.value}`,
  );
}
function Echo(props: { text: string }) {
  return h(
    "span",
    null,
    props.text,
    h(Counter, { label: "inner", count: signal(1) }),
  );
}
function Plain() {
  return h("p", null, "static");
}
const registry = { Counter, Echo };

function markers(html: string): { name: string; props: string }[] {
  return [
    ...html.matchAll(/<hw-island data-island="([^"]*)" data-props="([^"]*)"/g),
  ]
    .map((m) => ({
      name: m[1],
      props: m[2].replaceAll("&quot;", '"').replaceAll("&lt;", "<").replaceAll(
        "&amp;",
        "&",
      ),
    }));
}

Deno.test("islands - each registered component renders inside a marker with its props", () => {
  const { html, islands } = renderWithIslands(
    () => h("main", null, h(Plain, null), h(Echo, { text: "hi" })),
    registry,
    renderToString,
  );
  assert.equal(islands, 1);
  const found = markers(html);
  assert.deepEqual(found.map((m) => m.name), ["Echo"]);
  assert.deepEqual(JSON.parse(found[0].props), { text: "hi" });
  // The nested island renders plainly inside its parent island.
  assert.match(
    html,
    /<span>hi<button type="button">inner: 1<\/button><\/span>/,
  );
  assert.match(html, /<p>static<\/p>/);
});

Deno.test("islands - a page without islands reports none", () => {
  const { html, islands } = renderWithIslands(
    () => h("div", null, h(Plain, null)),
    registry,
    renderToString,
  );
  assert.equal(islands, 0);
  assert.doesNotMatch(html, /hw-island/);
});

Deno.test("islands - a signal given to two islands is written once, with one id", () => {
  const shared = signal(5);
  const other = signal(9);
  const { html } = renderWithIslands(
    () =>
      h(
        "div",
        null,
        h(Counter, { label: "a", count: shared }),
        h(Counter, { label: "b", count: shared }),
        h(Counter, { label: "c", count: other }),
      ),
    registry,
    renderToString,
  );
  const props = markers(html).map((m) => JSON.parse(m.props));
  assert.deepEqual(props.map((p) => p.count), [
    { __hw_signal: 0, v: 5 },
    { __hw_signal: 0, v: 5 },
    { __hw_signal: 1, v: 9 },
  ]);
  // Revived with one map, the first two share one signal.
  const signals = new Map();
  const revived = markers(html).map((m) => reviveProps(m.props, signals));
  assert.equal(revived[0].count, revived[1].count);
  assert.notEqual(revived[0].count, revived[2].count);
  assert.equal((revived[2].count as Signal<number>).value, 9);
});

Deno.test("islands - markup in props is escaped in the attribute", () => {
  const { html } = renderWithIslands(
    () => h(Echo, { text: `"><script>alert(1)</script>` }),
    registry,
    renderToString,
  );
  assert.doesNotMatch(html, /<script>/);
  assert.equal(
    JSON.parse(markers(html)[0].props).text,
    `"><script>alert(1)</script>`,
  );
});

Deno.test("islands - functions and JSX cannot cross as props", () => {
  assert.throws(
    () => serializeProps("X", { onClick: () => {} }, new Map()),
    (e) =>
      e instanceof IslandPropsError &&
      /"onClick" is a function/.test(e.message),
  );
  assert.throws(
    () => serializeProps("X", { icon: h("b", null) }, new Map()),
    /"icon" is a JSX element/,
  );
  assert.throws(
    () =>
      renderWithIslands(
        () => h(Echo, { text: "x", children: h("i", null) }),
        registry,
        renderToString,
      ),
    /"children" is JSX children/,
  );
});

Deno.test("islands - rendering outside renderWithIslands leaves components plain", () => {
  const html = renderToString(h(Echo, { text: "plain" }));
  assert.doesNotMatch(html, /hw-island/);
});
