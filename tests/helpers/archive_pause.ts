/**
 * Fault injection for the archive crash test, preloaded into the server
 * (`deno run --preload tests/helpers/archive_pause.ts main.ts`): with
 * `HOOKWATCH_TEST_ARCHIVE_PAUSE=before-rename` or `after-rename`, the first rename of an archive
 * file prints `archive paused <stage> <file>` and then never returns, so the test can SIGKILL the
 * server at exactly that moment (file written but not in place / in place but rows not deleted).
 *
 * @module
 */
const stage = Deno.env.get("HOOKWATCH_TEST_ARCHIVE_PAUSE");
if (stage === "before-rename" || stage === "after-rename") {
  const rename = Deno.rename;
  Deno.rename = async (from: string | URL, to: string | URL) => {
    const archive = /events-[^/]*\.ndjson\.gz$/.test(String(to));
    const pause = () => {
      console.log(`archive paused ${stage} ${to}`);
      return new Promise<never>(() => {});
    };
    if (archive && stage === "before-rename") await pause();
    await rename(from, to);
    if (archive && stage === "after-rename") await pause();
  };
}
