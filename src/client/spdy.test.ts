// SPDY framing against zlib itself: header blocks compressed the way Go's framer does (one
// deflate stream with the SPDY dictionary, sync-flushed per frame) parse, frames split at any
// byte boundary reassemble, and our replies' header blocks inflate as one stream.
import { expect, test } from "bun:test";
import zlib from "node:zlib";
import { DICTIONARY, FrameReader, FrameWriter, SYN_REPLY, SYN_STREAM } from "./spdy.ts";

function headerBlock(h: Record<string, string>): Buffer {
  const parts = [Buffer.alloc(4)];
  parts[0]!.writeUInt32BE(Object.keys(h).length);
  for (const s of Object.entries(h).flat()) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(s.length);
    parts.push(len, Buffer.from(s));
  }
  return Buffer.concat(parts);
}

async function clientFrames(dictionary: Buffer, streams: Record<string, string>[]): Promise<Buffer> {
  const deflate = zlib.createDeflate({ dictionary });
  const out: Buffer[] = [];
  let id = 1;
  for (const h of streams) {
    const chunks: Buffer[] = [];
    const onData = (c: Buffer) => chunks.push(c);
    deflate.on("data", onData);
    deflate.write(headerBlock(h));
    await new Promise((r) => deflate.flush(zlib.constants.Z_SYNC_FLUSH, r as () => void));
    deflate.off("data", onData);
    const block = Buffer.concat(chunks);
    const payload = Buffer.alloc(10 + block.length);
    payload.writeUInt32BE(id, 0);
    block.copy(payload, 10);
    out.push(Buffer.from(new FrameWriter().control(SYN_STREAM, 0, payload)));
    out.push(Buffer.from(new FrameWriter().data(id, Buffer.from(`body-${id}`), true)));
    id += 2;
  }
  return Buffer.concat(out);
}

test("SYN_STREAM headers and data frames parse, however the bytes are split", async () => {
  const bytes = await clientFrames(DICTIONARY, [
    { streamtype: "error", port: "8080", requestid: "0" },
    { streamtype: "data", port: "8080", requestid: "0" },
    { streamtype: "data", port: "9000", requestid: "1" },
  ]);
  for (const step of [1, 7, 64, bytes.length]) {
    const reader = new FrameReader();
    const frames = [];
    for (let i = 0; i < bytes.length; i += step) frames.push(...reader.push(bytes.subarray(i, i + step)));
    expect(frames.filter((f) => f.kind === "control").map((f) => f.kind === "control" && f.headers)).toEqual([
      { streamtype: "error", port: "8080", requestid: "0" },
      { streamtype: "data", port: "8080", requestid: "0" },
      { streamtype: "data", port: "9000", requestid: "1" },
    ]);
    expect(
      frames
        .filter((f) => f.kind === "data")
        .map((f) => f.kind === "data" && [f.streamId, f.fin, Buffer.from(f.data).toString()]),
    ).toEqual([
      [1, true, "body-1"],
      [3, true, "body-3"],
      [5, true, "body-5"],
    ]);
  }
});

test("reply header blocks form one zlib stream with the SPDY dictionary", () => {
  const w = new FrameWriter();
  const replies = [w.synReply(1), w.synReply(3), w.synReply(5)].map((f) => Buffer.from(f));
  for (const r of replies) expect(r.readUInt32BE(0)).toBe(((0x8003 << 16) | SYN_REPLY) >>> 0);
  const blocks = Buffer.concat(replies.map((r) => r.subarray(12)));
  const raw = zlib.inflateSync(blocks, { dictionary: DICTIONARY, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  expect([...raw]).toEqual(new Array(12).fill(0)); // three empty header blocks
  expect(() =>
    zlib.inflateSync(blocks, { dictionary: Buffer.from("wrong"), finishFlush: zlib.constants.Z_SYNC_FLUSH }),
  ).toThrow();
});
