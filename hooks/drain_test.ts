import assert from "node:assert/strict";
import { drain } from "./drain.ts";

/** An inbox file as `hook.sh` writes it: header lines, then the hook's JSON. */
async function hookFile(inbox: string, name: string, url: string, n: number) {
  await Deno.writeTextFile(
    `${inbox}/${name}.hook`,
    `server_url=${url}\nrepo=drain\nsource_app=drain\nadd_chat=\nagent=\nevent=\n` +
      JSON.stringify({
        hook_event_name: "PostToolUse",
        session_id: "s-drain",
        n,
      }),
  );
}

Deno.test("drain - a hook that fires while the sender's last delivery runs into its bound is delivered before the sender exits", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "hookwatch-drain-" });
  const inbox = `${tmp}/inbox`;
  const run = `${tmp}/run-test`;
  await Deno.mkdir(inbox);
  await Deno.mkdir(run);
  await Deno.writeTextFile(`${run}/pid`, `${Deno.pid}\n`);
  const stored: number[] = [];
  let held = false;
  let letGo = () => {};
  const hanging = new Promise<void>((resolve) => letGo = resolve);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      const events: { payload: { n: number } }[] = await req.json();
      if (!held) {
        // The hook that fires now finds this sender alive and leaves its file to it; the
        // request then hangs until the sender gives up on it at its bound.
        held = true;
        await hookFile(inbox, "2", url, 2);
        await hanging;
        return new Response(null, { status: 503 });
      }
      stored.push(...events.map((e) => e.payload.n));
      return Response.json({
        events: events.map(() => ({ duplicate: false })),
      });
    },
  );
  const url = `http://127.0.0.1:${server.addr.port}`;
  try {
    await hookFile(inbox, "1", url, 1);
    const env: Record<string, string> = {
      HOOKWATCH_SPOOL_DIR: tmp,
      HOOKWATCH_TIMEOUT_MS: "10000",
      HOOKWATCH_DEADLINE_MS: "1500",
    };
    await drain({
      args: ["--drain", "--run", run, "--server-url", url],
      env: (name) => env[name],
      stdin: "",
      startedAt: performance.now(),
    }, run);
    assert.deepEqual(
      {
        stored: stored.sort(),
        inbox: await Array.fromAsync(Deno.readDir(inbox), (e) => e.name),
        run: await Deno.stat(run).then(() => "held", () => "released"),
      },
      { stored: [1, 2], inbox: [], run: "released" },
    );
  } finally {
    letGo();
    await server.shutdown();
    await Deno.remove(tmp, { recursive: true });
  }
});
