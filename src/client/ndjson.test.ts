// Event lines an API server in this process encoded are read back as their own text; any other
// bytes (a socket's, or a line cut across chunks) are decoded as before.
import { expect, test } from "bun:test";
import { ndjson } from "./ndjson.ts";
import { encodeLines, joinEncoded, linesOf } from "../util/line-text.ts";

const readerOf = (chunks: Uint8Array[]) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      for (const chunk of chunks) c.enqueue(chunk);
      c.close();
    },
  }).getReader();

test("encoded lines keep their text under those very bytes, and joined ones when every part is known", () => {
  const a = encodeLines(['{"a":1}']);
  const b = encodeLines(['{"b":"é"}', '{"c":3}']);
  expect(new TextDecoder().decode(b)).toBe('{"b":"é"}\n{"c":3}\n');
  expect(linesOf(a)).toEqual(['{"a":1}']);
  // A copy of the same bytes (what a socket delivers) is not known.
  expect(linesOf(a.slice())).toBeUndefined();
  const both = joinEncoded([a, b]);
  expect(new TextDecoder().decode(both)).toBe('{"a":1}\n{"b":"é"}\n{"c":3}\n');
  expect(linesOf(both)).toEqual(['{"a":1}', '{"b":"é"}', '{"c":3}']);
  expect(linesOf(joinEncoded([a, new TextEncoder().encode('{"d":4}\n')]))).toBeUndefined();
});

test("a reader takes known chunks' lines, and decodes a line cut across chunks before them", async () => {
  const whole = new TextEncoder().encode('{"n":0}\n{"n":1');
  const rest = new TextEncoder().encode("}\n");
  const seen: unknown[] = [];
  for await (const v of ndjson(readerOf([encodeLines(['{"n":-1}']), whole, rest, encodeLines(['{"n":2}', '{"n":3}'])])))
    seen.push(v);
  expect(seen).toEqual([{ n: -1 }, { n: 0 }, { n: 1 }, { n: 2 }, { n: 3 }]);
  // A known chunk right after an unfinished line is read as bytes, joined to what came before.
  const cut = new TextEncoder().encode('{"m":');
  const after: unknown[] = [];
  for await (const v of ndjson(readerOf([cut, encodeLines(['"x"}'])]))) after.push(v);
  expect(after).toEqual([{ m: "x" }]);
});
