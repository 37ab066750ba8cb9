/**
 * A minimal Server-Sent Events reader for tests: reads frames from a real `GET /stream`.
 *
 * @module
 */

/** One parsed SSE frame. */
export interface SseFrame {
  event: string;
  id: string | null;
  data: string;
}

/** An open stream. */
export interface SseReader {
  /** Resolves with the next frame (comments and `retry:` lines skipped). */
  next(timeoutMs?: number): Promise<SseFrame>;
  /** Reads frames until `predicate` holds for the collected list. */
  until(
    predicate: (frames: SseFrame[]) => boolean,
    timeoutMs?: number,
  ): Promise<SseFrame[]>;
  close(): Promise<void>;
  response: Response;
}

/** Opens `url` as an event stream; `fetcher` serves it (an in-process app's `fetch`). */
export async function openSse(
  url: string,
  headers: Record<string, string> = {},
  fetcher: (url: string, init: RequestInit) => Promise<Response> = fetch,
): Promise<SseReader> {
  const controller = new AbortController();
  const response = await fetcher(url, {
    headers: { accept: "text/event-stream", ...headers },
    signal: controller.signal,
  });
  if (!response.ok || !response.body) {
    throw new Error(
      `stream answered ${response.status}: ${await response.text()}`,
    );
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const queue: SseFrame[] = [];

  const parse = () => {
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message", id: string | null = null;
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") event = value;
        else if (field === "id") id = value;
        else if (field === "data") data.push(value);
      }
      if (data.length > 0) queue.push({ event, id, data: data.join("\n") });
    }
  };

  const next = async (timeoutMs = 10_000): Promise<SseFrame> => {
    const deadline = Date.now() + timeoutMs;
    while (queue.length === 0) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error("no SSE frame in time");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const result = await Promise.race([
        reader.read(),
        new Promise<null>((resolve) =>
          timer = setTimeout(() => resolve(null), remaining)
        ),
      ]).finally(() => clearTimeout(timer));
      if (result === null) continue;
      if (result.done) throw new Error("stream ended");
      buffer += decoder.decode(result.value, { stream: true });
      parse();
    }
    return queue.shift()!;
  };

  return {
    response,
    next,
    async until(predicate, timeoutMs = 10_000) {
      const frames: SseFrame[] = [];
      const deadline = Date.now() + timeoutMs;
      while (!predicate(frames)) {
        frames.push(await next(Math.max(1, deadline - Date.now())));
      }
      return frames;
    },
    async close() {
      await reader.cancel().catch(() => {});
      controller.abort();
    },
  };
}
