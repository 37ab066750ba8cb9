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

/** Bytes read per step when searching a transcript backwards. */
const BACKWARD_CHUNK_BYTES = 64 * 1024;

/**
 * The model of the newest assistant record of a transcript, however far back it is: the file is
 * read backwards in chunks, whole lines only, until an `assistant` record names a model (records
 * written after the last answer, such as tool results and attachments, can be tens of kilobytes
 * each). Null when the file cannot be read or no assistant record names a model.
 */
export async function newestAssistantModel(
  path: string,
  maxBytes = 64 * 1024 * 1024,
): Promise<string | null> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch {
    return null;
  }
  try {
    const { size } = await file.stat();
    const floor = Math.max(0, size - maxBytes);
    const decoder = new TextDecoder();
    let end = size;
    // Bytes of a line cut by the previous chunk's start, to be completed by the next chunk.
    let carry = new Uint8Array(0);
    while (end > floor) {
      const start = Math.max(floor, end - BACKWARD_CHUNK_BYTES);
      const chunk = new Uint8Array(end - start + carry.length);
      await file.seek(start, Deno.SeekMode.Start);
      let read = 0;
      while (read < end - start) {
        const n = await file.read(chunk.subarray(read, end - start));
        if (n === null) break;
        read += n;
      }
      chunk.set(carry, end - start);
      let cut = 0;
      if (start > floor) {
        cut = chunk.indexOf(0x0a) + 1;
        if (cut === 0) cut = chunk.length; // one line longer than the chunk: read on
      }
      const lines = decoder.decode(chunk.subarray(cut)).split("\n");
      for (let i = lines.length - 1; i >= 0; i--) {
        const model = assistantModel(lines[i]);
        if (model) return model;
      }
      carry = chunk.slice(0, cut);
      end = start;
    }
    return null;
  } catch {
    return null;
  } finally {
    file.close();
  }
}

function assistantModel(line: string): string | null {
  if (!line.includes('"assistant"') || !line.includes('"model"')) return null;
  try {
    const record = JSON.parse(line);
    const model = record?.type === "assistant" ? record.message?.model : null;
    // Synthetic records (errors, interruptions) carry a model such as "<synthetic>".
    return typeof model === "string" && model && !model.startsWith("<")
      ? model
      : null;
  } catch {
    return null;
  }
}
