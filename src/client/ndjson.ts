// Reading a watch body: newline-delimited JSON, where one event may be split across chunks and
// one chunk may hold many events.

/**
 * Yields each non-empty line of a byte stream, decoded as UTF-8. Takes the reader so that its
 * owner can cancel() it to end the iteration at once.
 */
export async function* lines(reader: ReadableStreamDefaultReader<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line) yield line;
      }
    }
    const rest = (buffered + decoder.decode()).trim();
    if (rest) yield rest;
  } finally {
    try {
      reader.releaseLock();
    } catch {
      // already released or cancelled
    }
  }
}

/** Yields each JSON value of an NDJSON byte stream; a line that is not JSON throws. */
export async function* ndjson<T>(reader: ReadableStreamDefaultReader<Uint8Array>): AsyncGenerator<T> {
  for await (const line of lines(reader)) {
    let value: T;
    try {
      value = JSON.parse(line) as T;
    } catch {
      throw new Error(`watch: malformed event line: ${line.slice(0, 200)}`);
    }
    yield value;
  }
}
