// The 8-byte-header stream demultiplexer, fed whole and in awkward pieces.
import { expect, test } from "bun:test";
import { Demuxer, demux } from "./mux.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function frame(type: number, s: string): Uint8Array {
  const p = enc.encode(s);
  const f = new Uint8Array(8 + p.length);
  f[0] = type;
  new DataView(f.buffer).setUint32(4, p.length);
  f.set(p, 8);
  return f;
}

test("frames split at every byte boundary come out whole and in order", () => {
  const all = new Uint8Array([...frame(1, "out one\n"), ...frame(2, "err\n"), ...frame(1, "two\n")]);
  for (let cut = 1; cut < all.length; cut++) {
    const d = new Demuxer();
    const got = [...d.push(all.slice(0, cut)), ...d.push(all.slice(cut))].map((c) => [c.stream, dec.decode(c.data)]);
    expect(got).toEqual([
      ["stdout", "out one\n"],
      ["stderr", "err\n"],
      ["stdout", "two\n"],
    ]);
    expect(d.pending).toBe(0);
  }
});

test("a tty stream passes through as stdout", async () => {
  async function* src() {
    yield enc.encode("raw bytes");
  }
  const got: string[] = [];
  for await (const c of demux(src(), true)) got.push(`${c.stream}:${dec.decode(c.data)}`);
  expect(got).toEqual(["stdout:raw bytes"]);
});
