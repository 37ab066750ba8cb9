/**
 * Islands without Fresh: the server renders the whole page with Preact, and every component of
 * the island registry is wrapped in a `<hw-island>` marker carrying its name and JSON props.
 * In the browser {@linkcode hydrateIslands} finds the markers and hydrates only them. Signals
 * passed as props stay shared: each distinct signal gets an id during the render and revives as
 * one signal on the client. Pages without islands ship no script.
 *
 * @module
 */
import {
  type ComponentType,
  createContext,
  h,
  hydrate,
  isValidElement,
  options,
  type VNode,
} from "preact";
import { useContext } from "preact/hooks";
import { Signal, signal } from "@preact/signals";

/** The marker element's tag; styled `display: contents` by the page's CSS. */
export const ISLAND_TAG = "hw-island";

/** Island names to components: one barrel shared by the server and the client entry. */
// deno-lint-ignore no-explicit-any -- islands take arbitrary JSON props
export type IslandRegistry = Record<string, ComponentType<any>>;

/** A prop that cannot cross from server to browser (a function, JSX, a cycle). */
export class IslandPropsError extends Error {
  constructor(island: string, key: string, why: string) {
    super(`island ${island}: prop "${key}" ${why}`);
    this.name = "IslandPropsError";
  }
}

const SIGNAL_TAG = "__hw_signal";

// deno-lint-ignore no-explicit-any -- vnodes of any props
type AnyVNode = VNode<any>;

interface RenderState {
  names: Map<unknown, string>;
  signalIds: Map<Signal, number>;
  islands: number;
}

let state: RenderState | null = null;
let innerRender = false;
const InsideIsland = createContext(false);

/**
 * Serializes island props to JSON, writing each signal as `{"__hw_signal": id, "v": value}`
 * with one id per distinct signal (shared through `signalIds`).
 *
 * @throws {IslandPropsError} for functions, JSX elements and `children`.
 */
export function serializeProps(
  island: string,
  props: Record<string, unknown>,
  signalIds: Map<Signal, number>,
): string {
  return JSON.stringify(
    props,
    function (this: Record<string, unknown>, key: string, value: unknown) {
      // JSON.stringify calls a signal's toJSON before the replacer: read the holder's raw value.
      const raw = key === "" ? value : this[key];
      if (raw instanceof Signal) {
        let id = signalIds.get(raw);
        if (id === undefined) signalIds.set(raw, id = signalIds.size);
        return { [SIGNAL_TAG]: id, v: raw.peek() };
      }
      if (typeof raw === "function") {
        throw new IslandPropsError(island, key, "is a function");
      }
      if (key === "children" && raw !== undefined) {
        throw new IslandPropsError(island, key, "is JSX children");
      }
      if (isValidElement(raw)) {
        throw new IslandPropsError(island, key, "is a JSX element");
      }
      return value;
    },
  );
}

/**
 * Parses props written by {@linkcode serializeProps}, reviving each signal id into one shared
 * signal from `signals`.
 */
export function reviveProps(
  json: string,
  signals: Map<number, Signal>,
): Record<string, unknown> {
  return JSON.parse(json, (_key, value) => {
    if (
      value !== null && typeof value === "object" && SIGNAL_TAG in value &&
      typeof value[SIGNAL_TAG] === "number"
    ) {
      const id = value[SIGNAL_TAG] as number;
      let s = signals.get(id);
      if (!s) signals.set(id, s = signal(value.v));
      return s;
    }
    return value;
  });
}

interface MarkerProps {
  island: string;
  component: ComponentType<Record<string, unknown>>;
  props: Record<string, unknown>;
}

function inner(props: MarkerProps): AnyVNode {
  innerRender = true;
  try {
    return h(props.component, props.props);
  } finally {
    innerRender = false;
  }
}

function IslandMarker(props: MarkerProps): AnyVNode {
  if (useContext(InsideIsland) || !state) return inner(props);
  state.islands++;
  return h(
    ISLAND_TAG,
    {
      "data-island": props.island,
      "data-props": serializeProps(props.island, props.props, state.signalIds),
    },
    h(InsideIsland.Provider, { value: true }, inner(props)),
  );
}

let hookInstalled = false;
function installHook(): void {
  if (hookInstalled) return;
  hookInstalled = true;
  const previous = options.vnode;
  options.vnode = (vnode) => {
    const name = state && !innerRender
      ? state.names.get(vnode.type)
      : undefined;
    if (name !== undefined) {
      const marker: MarkerProps = {
        island: name,
        component: vnode.type as MarkerProps["component"],
        props: vnode.props as Record<string, unknown>,
      };
      (vnode as { props: unknown }).props = marker;
      (vnode as { type: unknown }).type = IslandMarker;
    }
    previous?.(vnode);
  };
}

/**
 * Renders the tree that `page` builds with `render` (e.g. preact-render-to-string's
 * `renderToString`), marking every component of `registry` as an island. Returns the HTML and how
 * many islands it holds, so a page without islands can leave the client script out.
 *
 * @example
 * ```ts
 * const { html, islands } = renderWithIslands(() => <Page />, registry, renderToString);
 * ```
 */
export function renderWithIslands(
  page: () => AnyVNode,
  registry: IslandRegistry,
  render: (vnode: AnyVNode) => string,
): { html: string; islands: number } {
  installHook();
  const names = new Map<unknown, string>(
    Object.entries(registry).map(([name, component]) => [component, name]),
  );
  const previous = state;
  state = { names, signalIds: new Map(), islands: 0 };
  try {
    const html = render(page());
    return { html, islands: state.islands };
  } finally {
    state = previous;
  }
}

/**
 * Hydrates every island marker under `root` with its registered component; returns how many.
 *
 * @throws {Error} naming a marker whose island is not in the registry.
 */
export function hydrateIslands(
  registry: IslandRegistry,
  root: ParentNode = document,
): number {
  const signals = new Map<number, Signal>();
  const markers = root.querySelectorAll<HTMLElement>(ISLAND_TAG);
  for (const marker of markers) {
    const name = marker.dataset.island ?? "";
    const component = registry[name];
    if (!component) throw new Error(`unknown island "${name}"`);
    const props = reviveProps(marker.dataset.props ?? "{}", signals);
    hydrate(h(component, props), marker);
  }
  return markers.length;
}
