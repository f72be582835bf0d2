// Splits the Docker Engine's multiplexed output stream (logs, attach, exec without a tty):
// frames of an 8-byte header (stream type, 3 zero bytes, big-endian length) then the payload.

import type { OutputChunk } from "./types.ts";

/** Incremental demultiplexer: feed bytes as they come, get whole frames out. */
export class Demuxer {
  private buf: Uint8Array = new Uint8Array(0);

  push(bytes: Uint8Array): OutputChunk[] {
    this.buf = this.buf.length === 0 ? bytes : concat(this.buf, bytes);
    const out: OutputChunk[] = [];
    let off = 0;
    while (this.buf.length - off >= 8) {
      const type = this.buf[off];
      const len =
        ((this.buf[off + 4] << 24) >>> 0) + (this.buf[off + 5] << 16) + (this.buf[off + 6] << 8) + this.buf[off + 7];
      if (this.buf.length - off - 8 < len) break;
      const data = this.buf.slice(off + 8, off + 8 + len);
      // Type 0 is stdin echoed back (only with a tty-less attach); treat it as stdout.
      if (len > 0) out.push({ stream: type === 2 ? "stderr" : "stdout", data });
      off += 8 + len;
    }
    this.buf = off === this.buf.length ? new Uint8Array(0) : this.buf.slice(off);
    return out;
  }

  /** Bytes left that did not form a whole frame (a truncated stream). */
  get pending(): number {
    return this.buf.length;
  }
}

export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const r = new Uint8Array(a.length + b.length);
  r.set(a, 0);
  r.set(b, a.length);
  return r;
}

/** Demultiplexes a byte stream; with `raw` (a tty) every byte is stdout. */
export async function* demux(source: AsyncIterable<Uint8Array>, raw = false): AsyncGenerator<OutputChunk> {
  const d = new Demuxer();
  for await (const bytes of source) {
    if (raw) {
      if (bytes.length > 0) yield { stream: "stdout", data: bytes };
      continue;
    }
    for (const c of d.push(bytes)) yield c;
  }
}
