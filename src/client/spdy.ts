// SPDY/3.1 framing for port-forward, which kubectl tunnels through a WebSocket
// ("SPDY/3.1+portforward.k8s.io"); used by the API server and by `kube port-forward`.
// Frames are parsed from the byte stream, header blocks are
// inflated with the protocol's zlib dictionary, and what we send carries header blocks as stored
// (uncompressed) deflate blocks, which any zlib reader accepts. Flow control is not enforced,
// as kubectl's spdystream does not enforce it either.
import zlib from "node:zlib";

/** The SPDY/3 header compression dictionary (draft 3, section 2.6.10.1). */
export const DICTIONARY = Buffer.from(
  [
    "AAAAB29wdGlvbnMAAAAEaGVhZAAAAARwb3N0AAAAA3B1dAAAAAZkZWxldGUAAAAFdHJhY2UAAAAGYWNjZXB0AAAADmFjY2VwdC1jaGFy",
    "c2V0AAAAD2FjY2VwdC1lbmNvZGluZwAAAA9hY2NlcHQtbGFuZ3VhZ2UAAAANYWNjZXB0LXJhbmdlcwAAAANhZ2UAAAAFYWxsb3cAAAAN",
    "YXV0aG9yaXphdGlvbgAAAA1jYWNoZS1jb250cm9sAAAACmNvbm5lY3Rpb24AAAAMY29udGVudC1iYXNlAAAAEGNvbnRlbnQtZW5jb2Rp",
    "bmcAAAAQY29udGVudC1sYW5ndWFnZQAAAA5jb250ZW50LWxlbmd0aAAAABBjb250ZW50LWxvY2F0aW9uAAAAC2NvbnRlbnQtbWQ1AAAA",
    "DWNvbnRlbnQtcmFuZ2UAAAAMY29udGVudC10eXBlAAAABGRhdGUAAAAEZXRhZwAAAAZleHBlY3QAAAAHZXhwaXJlcwAAAARmcm9tAAAA",
    "BGhvc3QAAAAIaWYtbWF0Y2gAAAARaWYtbW9kaWZpZWQtc2luY2UAAAANaWYtbm9uZS1tYXRjaAAAAAhpZi1yYW5nZQAAABNpZi11bm1v",
    "ZGlmaWVkLXNpbmNlAAAADWxhc3QtbW9kaWZpZWQAAAAIbG9jYXRpb24AAAAMbWF4LWZvcndhcmRzAAAABnByYWdtYQAAABJwcm94eS1h",
    "dXRoZW50aWNhdGUAAAATcHJveHktYXV0aG9yaXphdGlvbgAAAAVyYW5nZQAAAAdyZWZlcmVyAAAAC3JldHJ5LWFmdGVyAAAABnNlcnZl",
    "cgAAAAJ0ZQAAAAd0cmFpbGVyAAAAEXRyYW5zZmVyLWVuY29kaW5nAAAAB3VwZ3JhZGUAAAAKdXNlci1hZ2VudAAAAAR2YXJ5AAAAA3Zp",
    "YQAAAAd3YXJuaW5nAAAAEHd3dy1hdXRoZW50aWNhdGUAAAAGbWV0aG9kAAAAA2dldAAAAAZzdGF0dXMAAAAGMjAwIE9LAAAAB3ZlcnNp",
    "b24AAAAISFRUUC8xLjEAAAADdXJsAAAABnB1YmxpYwAAAApzZXQtY29va2llAAAACmtlZXAtYWxpdmUAAAAGb3JpZ2luMTAwMTAxMjAx",
    "MjAyMjA1MjA2MzAwMzAyMzAzMzA0MzA1MzA2MzA3NDAyNDA1NDA2NDA3NDA4NDA5NDEwNDExNDEyNDEzNDE0NDE1NDE2NDE3NTAyNTA0",
    "NTA1MjAzIE5vbi1BdXRob3JpdGF0aXZlIEluZm9ybWF0aW9uMjA0IE5vIENvbnRlbnQzMDEgTW92ZWQgUGVybWFuZW50bHk0MDAgQmFk",
    "IFJlcXVlc3Q0MDEgVW5hdXRob3JpemVkNDAzIEZvcmJpZGRlbjQwNCBOb3QgRm91bmQ1MDAgSW50ZXJuYWwgU2VydmVyIEVycm9yNTAx",
    "IE5vdCBJbXBsZW1lbnRlZDUwMyBTZXJ2aWNlIFVuYXZhaWxhYmxlSmFuIEZlYiBNYXIgQXByIE1heSBKdW4gSnVsIEF1ZyBTZXB0IE9j",
    "dCBOb3YgRGVjIDAwOjAwOjAwIE1vbiwgVHVlLCBXZWQsIFRodSwgRnJpLCBTYXQsIFN1biwgR01UY2h1bmtlZCx0ZXh0L2h0bWwsaW1h",
    "Z2UvcG5nLGltYWdlL2pwZyxpbWFnZS9naWYsYXBwbGljYXRpb24veG1sLGFwcGxpY2F0aW9uL3hodG1sK3htbCx0ZXh0L3BsYWluLHRl",
    "eHQvamF2YXNjcmlwdCxwdWJsaWNwcml2YXRlbWF4LWFnZT1nemlwLGRlZmxhdGUsc2RjaGNoYXJzZXQ9dXRmLThjaGFyc2V0PWlzby04",
    "ODU5LTEsdXRmLSwqLGVucT0wLg==",
  ].join(""),
  "base64",
);

const SYNC_FLUSH = Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]);

export const FLAG_FIN = 0x01;
export const SYN_STREAM = 1;
export const SYN_REPLY = 2;
export const RST_STREAM = 3;
export const PING = 6;
export const GOAWAY = 7;

export type Frame =
  | { kind: "data"; streamId: number; fin: boolean; data: Uint8Array }
  | { kind: "control"; type: number; flags: number; payload: Uint8Array; headers?: Record<string, string> };

function adler32(buf: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (const byte of buf) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** A frame that breaks the protocol: the connection is closed, nothing else is affected. */
export class SpdyError extends Error {
  override name = "SpdyError";
}

/** The least payload each control frame carries (SPDY/3.1 section 2.6). */
const MIN_PAYLOAD: Record<number, number> = {
  [SYN_STREAM]: 10,
  [SYN_REPLY]: 4,
  [RST_STREAM]: 8,
  4: 4,
  [PING]: 4,
  [GOAWAY]: 8,
  8: 4,
  9: 8,
};
/** Header blocks inflate to at most this much in all (a compression bomb is refused). */
const MAX_HEADER_BYTES = 1024 * 1024;
/** A frame may say it is up to 16 MiB long; nothing this cluster speaks needs more than this. */
export const MAX_FRAME_BYTES = 1024 * 1024;

/** Parses frames from a byte stream that arrives in arbitrary pieces; throws SpdyError on a malformed one. */
export class FrameReader {
  private buffer = Buffer.alloc(0);
  /** Every compressed header block so far: they form one zlib stream, inflated whole each time. */
  private compressed = Buffer.alloc(0);
  private inflated = 0;

  push(chunk: Uint8Array): Frame[] {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : Buffer.from(chunk);
    const frames: Frame[] = [];
    while (this.buffer.length >= 8) {
      const length = this.buffer.readUIntBE(5, 3);
      if (length > MAX_FRAME_BYTES) throw new SpdyError(`frame of ${length} bytes is too large`);
      if (this.buffer.length < 8 + length) break;
      const head = this.buffer.readUInt32BE(0);
      const flags = this.buffer[4]!;
      const payload = this.buffer.subarray(8, 8 + length);
      this.buffer = this.buffer.subarray(8 + length);
      if (head & 0x80000000) {
        const type = head & 0xffff;
        if (payload.length < (MIN_PAYLOAD[type] ?? 0))
          throw new SpdyError(`control frame ${type} of ${payload.length} bytes is too short`);
        const frame: Frame = { kind: "control", type, flags, payload };
        if (type === SYN_STREAM) frame.headers = this.headers(payload.subarray(10));
        else if (type === SYN_REPLY || type === 8) frame.headers = this.headers(payload.subarray(4));
        frames.push(frame);
      } else frames.push({ kind: "data", streamId: head & 0x7fffffff, fin: (flags & FLAG_FIN) !== 0, data: payload });
    }
    return frames;
  }

  private headers(block: Uint8Array): Record<string, string> {
    this.compressed = Buffer.concat([this.compressed, block]);
    let all: Buffer;
    try {
      all = zlib.inflateSync(this.compressed, {
        dictionary: DICTIONARY,
        finishFlush: zlib.constants.Z_SYNC_FLUSH,
        maxOutputLength: MAX_HEADER_BYTES,
      });
    } catch (err) {
      throw new SpdyError(`header block does not inflate: ${err instanceof Error ? err.message : String(err)}`);
    }
    const raw = all.subarray(this.inflated);
    this.inflated = all.length;
    const out: Record<string, string> = {};
    const u32 = (at: number) => {
      if (at + 4 > raw.length) throw new SpdyError("header block is truncated");
      return raw.readUInt32BE(at);
    };
    const bytes = (at: number, n: number) => {
      if (at + n > raw.length) throw new SpdyError("header block is truncated");
      return raw.subarray(at, at + n).toString("latin1");
    };
    let at = 4;
    for (let n = u32(0); n > 0; n--) {
      const nameLength = u32(at);
      const name = bytes(at + 4, nameLength);
      at += 4 + nameLength;
      const valueLength = u32(at);
      out[name] = bytes(at + 4, valueLength);
      at += 4 + valueLength;
    }
    return out;
  }
}

/** Builds frames to send; owns this direction's header compression stream. */
export class FrameWriter {
  private started = false;

  data(streamId: number, data: Uint8Array, fin = false): Uint8Array {
    const out = Buffer.alloc(8 + data.length);
    out.writeUInt32BE(streamId & 0x7fffffff, 0);
    out[4] = fin ? FLAG_FIN : 0;
    out.writeUIntBE(data.length, 5, 3);
    out.set(data, 8);
    return out;
  }

  synStream(streamId: number, headers: Record<string, string>): Uint8Array {
    const ids = Buffer.alloc(10); // stream id, associated stream 0, priority 0, slot 0
    ids.writeUInt32BE(streamId & 0x7fffffff, 0);
    return this.control(SYN_STREAM, 0, Buffer.concat([ids, this.headerBlock(headers)]));
  }

  synReply(streamId: number): Uint8Array {
    const id = Buffer.alloc(4);
    id.writeUInt32BE(streamId & 0x7fffffff);
    return this.control(SYN_REPLY, 0, Buffer.concat([id, this.headerBlock({})]));
  }

  rstStream(streamId: number, status: number): Uint8Array {
    const body = Buffer.alloc(8);
    body.writeUInt32BE(streamId & 0x7fffffff, 0);
    body.writeUInt32BE(status, 4);
    return this.control(RST_STREAM, 0, body);
  }

  control(type: number, flags: number, payload: Uint8Array): Uint8Array {
    const out = Buffer.alloc(8 + payload.length);
    out.writeUInt32BE((0x8000 | 3) * 0x10000 + type, 0);
    out[4] = flags;
    out.writeUIntBE(payload.length, 5, 3);
    out.set(payload, 8);
    return out;
  }

  /** A header block as one stored deflate block; the first also carries the zlib header. */
  private headerBlock(headers: Record<string, string>): Buffer {
    const parts: Buffer[] = [Buffer.alloc(4)];
    parts[0]!.writeUInt32BE(Object.keys(headers).length);
    for (const [k, v] of Object.entries(headers)) {
      for (const s of [k, v]) {
        const len = Buffer.alloc(4);
        len.writeUInt32BE(Buffer.byteLength(s, "latin1"));
        parts.push(len, Buffer.from(s, "latin1"));
      }
    }
    const raw = Buffer.concat(parts);
    const stored = Buffer.alloc(5);
    stored[0] = 0; // not final, stored
    stored.writeUInt16LE(raw.length, 1);
    stored.writeUInt16LE(~raw.length & 0xffff, 3);
    let prefix = Buffer.alloc(0);
    if (!this.started) {
      this.started = true;
      // CMF 0x78 (deflate, 32K window), FLG with FDICT set and a valid check, then the dictionary id.
      prefix = Buffer.alloc(6);
      prefix[0] = 0x78;
      const flg = 0x20;
      prefix[1] = flg + (31 - ((0x78 * 256 + flg) % 31));
      prefix.writeUInt32BE(adler32(DICTIONARY), 2);
    }
    // The empty stored block is a sync flush: it makes a streaming reader (Go's flate) hand out
    // this block's bytes without reading ahead into the next frame.
    return Buffer.concat([prefix, stored, raw, SYNC_FLUSH]);
  }
}
