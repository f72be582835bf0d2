// The protobuf wire format, decoding only: varints, fixed 32/64-bit values and length-delimited
// fields, as a list of (field number, value) pairs per message.
export type WireValue =
  | { kind: "varint"; value: bigint }
  | { kind: "bytes"; value: Uint8Array }
  | { kind: "fixed"; value: Uint8Array };
export type WireField = { field: number; v: WireValue };

export class WireError extends Error {
  override name = "WireError";
}

export function readFields(buf: Uint8Array): WireField[] {
  const out: WireField[] = [];
  let i = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (i >= buf.length) throw new WireError("truncated varint");
      const b = buf[i++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new WireError("varint too long");
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ field, v: { kind: "varint", value: varint() } });
    else if (wire === 2) {
      const len = Number(varint());
      if (i + len > buf.length) throw new WireError("truncated field");
      out.push({ field, v: { kind: "bytes", value: buf.subarray(i, i + len) } });
      i += len;
    } else if (wire === 1 || wire === 5) {
      const len = wire === 1 ? 8 : 4;
      out.push({ field, v: { kind: "fixed", value: buf.subarray(i, i + len) } });
      i += len;
    } else throw new WireError(`unsupported wire type ${wire}`);
  }
  return out;
}
