// The NDJSON watch reader over byte streams split in awkward places. The streams here are plain
// ReadableStreams fed by the test; the client against the real API server is tested elsewhere.
import { describe, expect, test } from "bun:test";
import { lines } from "./ndjson.ts";
import { ApiError, type WatchEvent } from "./types.ts";
import { openWatch } from "./watch.ts";

const enc = new TextEncoder();

/** A byte stream the test pushes chunks into. */
function pushStream() {
  let ctl!: ReadableStreamDefaultController<Uint8Array>;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    start: (c) => void (ctl = c),
    cancel: () => void (cancelled = true),
  });
  return {
    stream,
    push: (s: string | Uint8Array) => ctl.enqueue(typeof s === "string" ? enc.encode(s) : s),
    end: () => ctl.close(),
    cancelled: () => cancelled,
  };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

describe("lines", () => {
  test("joins lines split across chunks, splits chunks holding many lines, skips blank lines, keeps a last unterminated line", async () => {
    const s = pushStream();
    s.push('{"a":');
    s.push('1}\n{"b":2}\n\n{"c"');
    s.push(":3}\n");
    s.push('{"d":4}');
    s.end();
    expect(await collect(lines(s.stream.getReader()))).toEqual(['{"a":1}', '{"b":2}', '{"c":3}', '{"d":4}']);
  });

  test("a multi-byte character split between chunks decodes intact", async () => {
    const s = pushStream();
    const bytes = enc.encode('{"name":"héllo-✓"}\n');
    s.push(bytes.slice(0, 11));
    s.push(bytes.slice(11, 19));
    s.push(bytes.slice(19));
    s.end();
    expect(await collect(lines(s.stream.getReader()))).toEqual(['{"name":"héllo-✓"}']);
  });
});

type Obj = { metadata: { name: string; resourceVersion: string } };
const ev = (type: string, name: string, rv: string) =>
  JSON.stringify({ type, object: { metadata: { name, resourceVersion: rv } } }) + "\n";

describe("openWatch", () => {
  test("yields typed events as they arrive and ends when the server ends the stream", async () => {
    const s = pushStream();
    const w = openWatch<Obj>(async () => new Response(s.stream));
    const seen: WatchEvent<Obj>[] = [];
    const done = (async () => {
      for await (const e of w) seen.push(e);
    })();
    s.push(ev("ADDED", "a", "1") + ev("MODIFIED", "a", "2").slice(0, 10));
    s.push(ev("MODIFIED", "a", "2").slice(10) + ev("BOOKMARK", "", "3"));
    s.end();
    await done;
    expect(seen.map((e) => [e.type, e.object.metadata.resourceVersion])).toEqual([
      ["ADDED", "1"],
      ["MODIFIED", "2"],
      ["BOOKMARK", "3"],
    ]);
  });

  test("close() ends a pending iteration at once and cancels the body", async () => {
    const s = pushStream();
    let signal: AbortSignal | undefined;
    const w = openWatch<Obj>(async (sig) => {
      signal = sig;
      return new Response(s.stream);
    });
    const seen: string[] = [];
    const done = (async () => {
      for await (const e of w) {
        seen.push(e.type);
        w.close();
      }
    })();
    s.push(ev("ADDED", "a", "1"));
    await done;
    expect(seen).toEqual(["ADDED"]);
    expect(signal?.aborted).toBe(true);
    expect(s.cancelled()).toBe(true);
  });

  test("close() before any event, while the reader waits, ends the loop", async () => {
    const s = pushStream();
    const w = openWatch<Obj>(async () => new Response(s.stream));
    const done = collect(w);
    await Promise.resolve();
    setTimeout(() => w.close(), 5);
    expect(await done).toEqual([]);
    expect(s.cancelled()).toBe(true);
  });

  test("an outer AbortSignal closes the watch", async () => {
    const s = pushStream();
    const ac = new AbortController();
    const w = openWatch<Obj>(async () => new Response(s.stream), ac.signal);
    const done = collect(w);
    s.push(ev("ADDED", "a", "1"));
    setTimeout(() => ac.abort(), 5);
    expect((await done).length).toBeLessThanOrEqual(1);
    expect(s.cancelled()).toBe(true);
  });

  test("a non-2xx answer throws an ApiError with the server's Status", async () => {
    const status = {
      apiVersion: "v1",
      kind: "Status",
      metadata: {},
      status: "Failure",
      reason: "Expired",
      message: "too old resource version",
      code: 410,
    };
    const w = openWatch<Obj>(async () => new Response(JSON.stringify(status), { status: 410 }));
    const err = await collect(w).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe(410);
    expect(err.status).toEqual(status);
  });

  test("a non-Status error body becomes a Status", async () => {
    const w = openWatch<Obj>(async () => new Response("upstream broke", { status: 503 }));
    const err = await collect(w).catch((e) => e);
    expect(err.status).toEqual({
      apiVersion: "v1",
      kind: "Status",
      metadata: {},
      status: "Failure",
      message: "upstream broke",
      reason: "ServiceUnavailable",
      code: 503,
    });
  });

  test("a malformed line is an error, not a silent skip", async () => {
    const s = pushStream();
    const w = openWatch<Obj>(async () => new Response(s.stream));
    s.push(ev("ADDED", "a", "1") + "{not json\n");
    s.end();
    expect(await collect(w).catch((e) => String(e))).toMatch(/malformed event line/);
  });
});

describe("openWatch shared", () => {
  test("shared watches of the same line get one frozen event; an unshared watch its own; ERROR and BOOKMARK are never shared", async () => {
    const status = { kind: "Status", apiVersion: "v1", status: "Failure", code: 410, reason: "Expired" };
    const text =
      ev("ADDED", "shared-a", "11") +
      ev("BOOKMARK", "", "12") +
      `${JSON.stringify({ type: "ERROR", object: status })}\n`;
    const read = async (shared: boolean) => {
      const s = pushStream();
      const w = openWatch<Obj>(async () => new Response(s.stream), undefined, shared);
      s.push(text);
      s.end();
      return collect(w);
    };
    const [a, b, own] = [await read(true), await read(true), await read(false)];
    expect(a.map((e) => e.type)).toEqual(["ADDED", "BOOKMARK", "ERROR"]);
    expect(b[0]).toBe(a[0]!);
    expect(Object.isFrozen(a[0])).toBe(true);
    expect(Object.isFrozen(a[0]!.object.metadata)).toBe(true);
    expect(own[0]).toEqual(a[0]!);
    expect(own[0]).not.toBe(a[0]!);
    expect(Object.isFrozen(own[0]!.object)).toBe(false);
    for (const i of [1, 2]) {
      expect(b[i]).not.toBe(a[i]!);
      expect(Object.isFrozen(a[i]!.object)).toBe(false);
    }
    expect(b[2]!.object).toEqual(status as unknown as Obj);
  });
});
