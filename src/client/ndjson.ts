// Reading a watch body: newline-delimited JSON, where one event may be split across chunks and
// one chunk may hold many events.
import { deepFreeze } from "./freeze.ts";

/** UTF-8 chunks in, complete lines out: what is left after the last newline waits for more. */
class LineSplitter {
  private readonly decoder = new TextDecoder();
  private buffered = "";

  /** The non-empty lines the chunk completes (undefined: the stream ended, flush the rest). */
  push(chunk: Uint8Array | undefined): string[] {
    const text = chunk
      ? this.buffered + this.decoder.decode(chunk, { stream: true })
      : this.buffered + this.decoder.decode();
    const out: string[] = [];
    let start = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
      const line = text.slice(start, nl).trim();
      if (line) out.push(line);
      start = nl + 1;
    }
    this.buffered = text.slice(start);
    if (!chunk) {
      const rest = this.buffered.trim();
      this.buffered = "";
      if (rest) out.push(rest);
    }
    return out;
  }
}

/**
 * Yields the items `each` makes of the stream's non-empty lines, decoded as UTF-8. One generator
 * for both lines and JSON values: a watch event went through two, a promise and a resumption each.
 * Takes the reader so that its owner can cancel() it to end the iteration at once.
 */
async function* itemsOf<T>(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  each: (line: string) => T,
): AsyncGenerator<T> {
  const split = new LineSplitter();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      for (const line of split.push(done ? undefined : value)) yield each(line);
      if (done) break;
    }
  } finally {
    try {
      reader.releaseLock();
    } catch {
      // already released or cancelled
    }
  }
}

/** Yields each non-empty line of a byte stream, decoded as UTF-8. */
export function lines(reader: ReadableStreamDefaultReader<Uint8Array>): AsyncGenerator<string> {
  return itemsOf(reader, (line) => line);
}

function parseLine<T>(line: string): T {
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new Error(`watch: malformed event line: ${line.slice(0, 200)}`);
  }
}

/** Yields each JSON value of an NDJSON byte stream; a line that is not JSON throws. */
export function ndjson<T>(reader: ReadableStreamDefaultReader<Uint8Array>): AsyncGenerator<T> {
  return itemsOf(reader, parseLine<T>);
}

/**
 * Watch events decoded for read-only watchers, by their line's text: the watchers of one event in
 * a process (the informers of `kube up`, over the in-process transport) are sent the same line, and
 * all but the first get the first one's decoded event instead of a JSON.parse of their own. Only
 * object events (ADDED, MODIFIED, DELETED; never an ERROR's Status or a BOOKMARK) are kept, deeply
 * frozen. Bounded: the oldest line goes first; the watchers of one event read it within a few writes.
 */
const SHARED_MAX = 256;
const sharedEvents = new Map<string, unknown>();
const isObjectEvent = (line: string) =>
  line.startsWith('{"type":"ADDED"') || line.startsWith('{"type":"MODIFIED"') || line.startsWith('{"type":"DELETED"');

function sharedEvent<T>(line: string): T {
  if (!isObjectEvent(line)) return parseLine<T>(line);
  const hit = sharedEvents.get(line);
  if (hit !== undefined) return hit as T;
  const event = deepFreeze(parseLine<T>(line));
  if (sharedEvents.size >= SHARED_MAX) sharedEvents.delete(sharedEvents.keys().next().value!);
  sharedEvents.set(line, event);
  return event;
}

/**
 * As ndjson, for a watch whose reader never changes what it is given (WatchOptions.shared): an
 * object event may be the same deeply frozen value another such watcher of this process was given.
 */
export function sharedNdjson<T>(reader: ReadableStreamDefaultReader<Uint8Array>): AsyncGenerator<T> {
  return itemsOf(reader, sharedEvent<T>);
}
