import assert from "node:assert/strict";
import { Access, NO_ROLE } from "./access.ts";
import {
  loadAccessConfig,
  parseTokens,
  tokenHash,
} from "../base/access_config.ts";
import { cidrContains, parseCidr } from "../base/cidr.ts";
import { ConfigError } from "../base/config_values.ts";
import { SqliteStore } from "../store/sqlite_store.ts";
import { allows } from "../../common/access.ts";

const ANN = "ann-token-0123456789";
const HOOKS = "laptop-hooks-token-0123";

async function withFile<T>(
  tokens: unknown,
  run: (path: string, write: (tokens: unknown) => void) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "hookwatch-access-" });
  const path = `${dir}/tokens.json`;
  const write = (t: unknown) =>
    Deno.writeTextFileSync(path, JSON.stringify({ tokens: t }));
  write(tokens);
  try {
    return await run(path, write);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("access config - a bad tokens file names the entry, never the token", () => {
  const cases: [unknown, RegExp][] = [
    ["not json", /t\.json: is not JSON/],
    [{ tokens: {} }, /must be \{"tokens": \[...\]\}/],
    [
      { tokens: [{ name: "a", role: "boss", token: HOOKS }] },
      /tokens\[0\] \(a\): role must be one of ingest, viewer, operator, admin/,
    ],
    [
      { tokens: [{ name: "a", role: "viewer" }] },
      /tokens\[0\] \(a\): needs exactly one of token and sha256/,
    ],
    [
      { tokens: [{ name: "a", role: "viewer", token: "short" }] },
      /at least 8 characters/,
    ],
    [
      { tokens: [{ name: "a", role: "viewer", sha256: "abc" }] },
      /sha256 must be 64 hex digits/,
    ],
    [{
      tokens: [{ name: "a", role: "viewer", token: HOOKS }, {
        name: "a",
        role: "ingest",
        token: ANN,
      }],
    }, /tokens\[1\] \(a\): a second entry with this name/],
    [{
      tokens: [{ name: "a", role: "viewer", token: HOOKS }, {
        name: "b",
        role: "ingest",
        sha256: tokenHash(HOOKS),
      }],
    }, /tokens\[1\] \(b\): the same token as an earlier entry/],
  ];
  for (const [body, message] of cases) {
    const text = typeof body === "string" ? body : JSON.stringify(body);
    assert.throws(
      () => parseTokens(text, "t.json"),
      (error: Error) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.variable, "HOOKWATCH_TOKENS_FILE");
        assert.match(error.message, message);
        assert.ok(
          !error.message.includes(HOOKS) && !error.message.includes(ANN),
        );
        return true;
      },
    );
  }
});

Deno.test("access config - the proxy header needs its addresses; roles must be roles", () => {
  assert.throws(
    () => loadAccessConfig({ HOOKWATCH_AUTH_PROXY_HEADER: "X-Forwarded-User" }),
    /HOOKWATCH_AUTH_PROXY_FROM: is required/,
  );
  assert.throws(
    () =>
      loadAccessConfig({
        HOOKWATCH_AUTH_PROXY_HEADER: "X-Forwarded-User",
        HOOKWATCH_AUTH_PROXY_FROM: "10.0.0.0/33",
      }),
    /"10\.0\.0\.0\/33" is not an address or CIDR range/,
  );
  assert.throws(
    () =>
      loadAccessConfig({
        HOOKWATCH_AUTH_PROXY_HEADER: "X-Forwarded-User",
        HOOKWATCH_AUTH_PROXY_FROM: "127.0.0.1",
        HOOKWATCH_AUTH_PROXY_ROLES: '{"ann": "root"}',
      }),
    /HOOKWATCH_AUTH_PROXY_ROLES: ann: role must be one of/,
  );
});

Deno.test("cidr - IPv4, IPv6 and IPv4-mapped addresses match their ranges", () => {
  const net = (text: string) => parseCidr(text)!;
  assert.ok(cidrContains(net("10.0.0.0/8"), "10.200.3.4"));
  assert.ok(!cidrContains(net("10.0.0.0/8"), "11.0.0.1"));
  assert.ok(cidrContains(net("10.0.0.0/8"), "::ffff:10.1.2.3"));
  assert.ok(cidrContains(net("127.0.0.1"), "127.0.0.1"));
  assert.ok(!cidrContains(net("127.0.0.1"), "127.0.0.2"));
  assert.ok(cidrContains(net("fd00::/8"), "fd12:3456::1"));
  assert.ok(cidrContains(net("::1"), "[::1]"));
  assert.ok(!cidrContains(net("fd00::/8"), "10.0.0.1"));
  assert.ok(cidrContains(net("192.168.1.0/25"), "192.168.1.127"));
  assert.ok(!cidrContains(net("192.168.1.0/25"), "192.168.1.128"));
  for (
    const bad of [
      "10.0.0.256",
      "10.0.0.0/x",
      "1::2::3",
      "hello",
      "10.0.0.0/8/8",
    ]
  ) {
    assert.equal(parseCidr(bad), null, bad);
  }
});

Deno.test("roles - each role does exactly its actions", () => {
  const table = {
    ingest: ["ingest"],
    viewer: ["read"],
    operator: ["read", "act"],
    admin: ["ingest", "read", "act", "metrics"],
  } as const;
  for (const [role, actions] of Object.entries(table)) {
    for (const action of ["ingest", "read", "act", "metrics"] as const) {
      assert.equal(
        allows(role as keyof typeof table, action),
        (actions as readonly string[]).includes(action),
        `${role} ${action}`,
      );
    }
  }
});

Deno.test("access - tokens in clear or hashed, the metrics token, HOOKWATCH_TOKEN as admin", async () => {
  await withFile([
    { name: "laptop-hooks", role: "ingest", token: HOOKS },
    { name: "ann", role: "viewer", sha256: tokenHash(ANN) },
  ], async (path) => {
    const config = loadAccessConfig({
      HOOKWATCH_TOKENS_FILE: path,
      HOOKWATCH_TOKEN: "the-admin-token",
      HOOKWATCH_METRICS_TOKEN: "the-metrics-token",
    });
    const store = SqliteStore.open(":memory:");
    try {
      const access = new Access(config, store.db);
      assert.equal(access.open, false);
      assert.deepEqual(access.identifyToken(HOOKS), {
        name: "laptop-hooks",
        role: "ingest",
        via: "token",
      });
      assert.equal(access.identifyToken(ANN)?.role, "viewer");
      assert.equal(access.identifyToken("the-admin-token")?.name, "admin");
      assert.equal(access.identifyToken(ANN + "x"), null);
      assert.equal(access.identifyToken("the-metrics-token"), null);
      assert.ok(access.isMetricsToken("the-metrics-token"));
      assert.ok(!access.isMetricsToken(ANN));
    } finally {
      await store.close();
    }
  });
});

Deno.test("access - the proxy's header counts only from its addresses, and needs a role", async () => {
  const config = loadAccessConfig({
    HOOKWATCH_AUTH_PROXY_HEADER: "X-Forwarded-User",
    HOOKWATCH_AUTH_PROXY_FROM: "10.0.0.0/8, ::1",
    HOOKWATCH_AUTH_PROXY_ROLES: '{"ann": "operator", "*": "viewer"}',
  });
  const store = SqliteStore.open(":memory:");
  try {
    const access = new Access(config, store.db);
    const as = (user: string) => new Headers({ "x-forwarded-user": user });
    assert.deepEqual(access.identifyProxy("10.1.1.1", as("ann")), {
      name: "ann",
      role: "operator",
      via: "proxy",
    });
    assert.equal(
      (access.identifyProxy("::1", as("bob")) as { role: string }).role,
      "viewer",
    );
    assert.equal(
      access.identifyProxy("192.168.1.5", as("ann")),
      null,
      "not the proxy",
    );
    assert.equal(access.identifyProxy("10.1.1.1", new Headers()), null);
    const strict = new Access(
      loadAccessConfig({
        HOOKWATCH_AUTH_PROXY_HEADER: "X-Forwarded-User",
        HOOKWATCH_AUTH_PROXY_FROM: "10.0.0.0/8",
        HOOKWATCH_AUTH_PROXY_ROLES: '{"ann": "admin"}',
      }),
      store.db,
    );
    assert.equal(strict.identifyProxy("10.0.0.9", as("bob")), NO_ROLE);
  } finally {
    await store.close();
  }
});

Deno.test("access - a sign-in session is not the token, expires, ends at sign-out and with its token", async () => {
  await withFile([
    { name: "ann", role: "operator", token: ANN },
    { name: "bob", role: "viewer", token: HOOKS },
  ], async (path, write) => {
    const store = SqliteStore.open(":memory:");
    try {
      const config = loadAccessConfig({
        HOOKWATCH_TOKENS_FILE: path,
        HOOKWATCH_SESSION_TTL: "1h",
      });
      const access = new Access(config, store.db);
      const revoked: string[][] = [];
      access.onRevoke((names) => revoked.push([...names].sort()));
      assert.equal(await access.signIn("wrong-token-000"), null);
      const ann = (await access.signIn(ANN, 1000))!;
      assert.ok(!ann.cookie.includes(ANN) && ann.cookie.length >= 40);
      assert.equal(ann.expiresAt, 1000 + 3_600_000);
      assert.deepEqual(await access.identifySession(ann.cookie, 2000), {
        name: "ann",
        role: "operator",
        via: "session",
      });
      // Another replica on the same database knows the session.
      const other = new Access(config, store.db);
      assert.equal(
        (await other.identifySession(ann.cookie, 2000))?.name,
        "ann",
      );
      assert.equal(
        await access.identifySession(ann.cookie, 1000 + 3_600_000),
        null,
        "expired",
      );
      const stored = store.connection.prepare("SELECT * FROM access_sessions")
        .all();
      assert.ok(
        !JSON.stringify(stored).includes(ann.cookie),
        "only its hash is stored",
      );
      const bob = (await access.signIn(HOOKS, 1000))!;
      await access.signOut(bob.cookie);
      assert.equal(
        await access.identifySession(bob.cookie, 2000),
        null,
        "signed out",
      );
      // ann's role changes and bob leaves the file: both lose access at the reload.
      const bob2 = (await access.signIn(HOOKS, 1000))!;
      write([{ name: "ann", role: "viewer", token: ANN }]);
      assert.deepEqual([...access.reload()].sort(), ["ann", "bob"]);
      assert.deepEqual(revoked, [["ann", "bob"]]);
      assert.equal(await access.identifySession(ann.cookie, 2000), null);
      assert.equal(await access.identifySession(bob2.cookie, 2000), null);
      assert.equal(access.identifyToken(HOOKS), null);
      assert.equal(access.identifyToken(ANN)?.role, "viewer");
      // A file that no longer parses changes nothing.
      Deno.writeTextFileSync(path, "{ broken");
      assert.equal(access.reload().size, 0);
      assert.equal(access.identifyToken(ANN)?.role, "viewer");
    } finally {
      await store.close();
    }
  });
});
