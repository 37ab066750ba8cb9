import assert from "node:assert/strict";
import { statusReport } from "./status.ts";
import { type DeliveryStatus, statusPath } from "./status_file.ts";

const NOW = Date.parse("2026-03-01T12:00:00.000Z");

async function withSpool(
  statuses: DeliveryStatus[],
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hookwatch-status-" });
  try {
    for (const status of statuses) {
      await Deno.writeTextFile(
        statusPath(dir, status.server_url),
        JSON.stringify(status),
      );
    }
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const OK: DeliveryStatus = {
  server_url: "http://127.0.0.1:4400",
  spooled: 0,
  last_delivery: "2026-03-01T11:59:48.000Z",
  last_error: null,
};
const REFUSED: DeliveryStatus = {
  server_url: "http://127.0.0.1:4000",
  spooled: 3,
  last_delivery: null,
  last_error: {
    at: "2026-03-01T11:57:00.000Z",
    message:
      "connection refused at http://127.0.0.1:4000 — is hookwatch running there?",
    detail: "fetch failed",
  },
};

Deno.test("status - no hook has run yet: says how to check the install, exit 0", async () => {
  await withSpool([], async (dir) => {
    const report = await statusReport(dir, NOW);
    assert.equal(report.code, 0);
    assert.match(report.text, /nothing spooled/);
    assert.match(report.text, /no delivery recorded yet/);
    assert.match(report.text, /hooks:install --project DIR \| --global/);
  });
});

Deno.test("status - every server: URL, spooled, last delivery, last error; exit 1 while one fails", async () => {
  await withSpool([OK, REFUSED], async (dir) => {
    await Deno.writeTextFile(
      `${dir}/spool-2026-03-01.ndjson`,
      "{}\n{}\n{}\n",
    );
    const report = await statusReport(dir, NOW);
    assert.equal(report.code, 1);
    assert.equal(
      report.text,
      `hookwatch hook sender — spool ${dir}: 3 events spooled, replayed after the next successful delivery

http://127.0.0.1:4000 — FAILING
  spooled        3 events (at the sender's last attempt)
  last delivery  never
  last error     connection refused at http://127.0.0.1:4000 — is hookwatch running there?
                 3 min ago (2026-03-01T11:57:00.000Z)

http://127.0.0.1:4400 — ok
  spooled        0 events (at the sender's last attempt)
  last delivery  12 s ago (2026-03-01T11:59:48.000Z)
  last error     none
`,
    );
  });
});

Deno.test("status - all delivered: exit 0; events spooled with no error yet: exit 1", async () => {
  await withSpool([OK], async (dir) => {
    assert.equal((await statusReport(dir, NOW)).code, 0);
    await Deno.writeTextFile(`${dir}/spool-2026-03-01.ndjson`, "{}\n");
    const report = await statusReport(dir, NOW);
    assert.equal(report.code, 1);
    assert.match(report.text, /1 event spooled/);
  });
});
