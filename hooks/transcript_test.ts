import assert from "node:assert/strict";
import { newestAssistantModel } from "./transcript.ts";

async function withTranscript(
  lines: unknown[],
  fn: (path: string) => Promise<void>,
): Promise<void> {
  const path = await Deno.makeTempFile({ suffix: ".jsonl" });
  try {
    await Deno.writeTextFile(
      path,
      lines.map((line) => JSON.stringify(line)).join("\n") + "\n",
    );
    await fn(path);
  } finally {
    await Deno.remove(path);
  }
}

const assistant = (model: string) => ({
  type: "assistant",
  message: {
    role: "assistant",
    model,
    content: [{ type: "text", text: "ok" }],
  },
});

Deno.test("transcript - the newest assistant model, behind records far larger than one read", async () => {
  const attachment = { type: "attachment", text: "x".repeat(300_000) };
  await withTranscript(
    [
      assistant("claude-old-1"),
      { type: "user", message: { content: "hi" } },
      assistant("claude-sonnet-4-5-20250929"),
      attachment,
      // A user record quoting a model name is not an answer of the model.
      { type: "user", message: { content: '{"model":"claude-fake"}' } },
      attachment,
    ],
    async (path) => {
      assert.equal(
        await newestAssistantModel(path),
        "claude-sonnet-4-5-20250929",
      );
    },
  );
});

Deno.test("transcript - synthetic answers are skipped; no answer, no file: null", async () => {
  await withTranscript(
    [assistant("claude-haiku-4-5"), assistant("<synthetic>")],
    async (path) => {
      assert.equal(await newestAssistantModel(path), "claude-haiku-4-5");
    },
  );
  await withTranscript([{ type: "user", message: {} }], async (path) => {
    assert.equal(await newestAssistantModel(path), null);
  });
  assert.equal(await newestAssistantModel("/nonexistent/transcript"), null);
});

Deno.test("transcript - a line cut at every chunk boundary is still read whole", async () => {
  // Lines of varied length so that chunk boundaries fall inside lines.
  const lines: unknown[] = [assistant("claude-target")];
  for (let i = 0; i < 40; i++) {
    lines.push({ type: "progress", pad: "y".repeat(1000 + i * 3331) });
  }
  await withTranscript(lines, async (path) => {
    assert.equal(await newestAssistantModel(path), "claude-target");
  });
});
