import { SqliteStore } from "./sqlite_store.ts";
import { storeSuite } from "../../tests/helpers/store_suite.ts";

storeSuite("sqlite", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hookwatch-suite-" });
  const store = SqliteStore.open(`${dir}/events.db`);
  return {
    store,
    columns: () =>
      Promise.resolve(
        (store.connection.prepare("PRAGMA table_info(events)").all() as {
          name: string;
        }[]).map((c) => c.name),
      ),
    cleanup: async () => {
      await store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
});
