/**
 * Reads a Claude Code transcript (JSONL) for `--add-chat`, bounded in size: only the newest
 * entries that fit are attached, so one long session never makes an oversized event.
 *
 * @module
 */

/** Default bound on the transcript bytes attached to one event. */
export const DEFAULT_CHAT_MAX_BYTES = 1024 * 1024;

/**
 * The last `maxBytes` of a file as text, and whether reading started mid-file. Null when the file
 * cannot be read. Transcripts grow to many megabytes, so only the tail is ever read.
 */
export async function readTail(
  path: string,
  maxBytes: number,
): Promise<{ text: string; partial: boolean } | null> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch {
    return null;
  }
  try {
    const { size } = await file.stat();
    const start = Math.max(0, size - maxBytes);
    await file.seek(start, Deno.SeekMode.Start);
    const buffer = new Uint8Array(size - start);
    let read = 0;
    while (read < buffer.length) {
      const n = await file.read(buffer.subarray(read));
      if (n === null) break;
      read += n;
    }
    return {
      text: new TextDecoder().decode(buffer.subarray(0, read)),
      partial: start > 0,
    };
  } catch {
    return null;
  } finally {
    file.close();
  }
}

/**
 * The transcript's newest entries that fit in `maxBytes`, oldest first; lines that are not
 * JSON are skipped. Null when the file cannot be read.
 */
export async function readChat(
  path: string,
  maxBytes = DEFAULT_CHAT_MAX_BYTES,
): Promise<unknown[] | null> {
  const tail = await readTail(path, maxBytes);
  if (tail === null) return null;
  const lines = tail.text.split("\n");
  // Started mid-file: the first line is a fragment.
  if (tail.partial) lines.shift();
  const chat: unknown[] = [];
  for (const line of lines) {
    if (line.trim() === "") continue;
    try {
      chat.push(JSON.parse(line));
    } catch {
      // a torn or foreign line: leave it out
    }
  }
  return chat;
}
