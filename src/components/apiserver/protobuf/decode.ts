// Decoding Kubernetes' protobuf envelope ("k8s\0" + runtime.Unknown{typeMeta, raw}) into the
// same JSON object a client would have sent, for the kinds in schema.ts. Zero values of
// non-pointer fields are dropped, as JSON's omitempty would have.
import { readFields, WireError, type WireField } from "./wire.ts";
import { KIND_MESSAGE, MESSAGES, type FieldDef } from "./schema.ts";

const MAGIC = [0x6b, 0x38, 0x73, 0x00];
const text = new TextDecoder();

export class ProtobufError extends Error {
  override name = "ProtobufError";
}

function int(v: WireField["v"]): number {
  if (v.kind !== "varint") throw new ProtobufError("expected a varint");
  return Number(BigInt.asIntN(64, v.value));
}
function bytes(v: WireField["v"]): Uint8Array {
  if (v.kind !== "bytes") throw new ProtobufError("expected a length-delimited field");
  return v.value;
}

function mapEntry(buf: Uint8Array): [string, WireField["v"] | undefined] {
  let key = "";
  let value: WireField["v"] | undefined;
  for (const e of readFields(buf)) {
    if (e.field === 1) key = text.decode(bytes(e.v));
    else if (e.field === 2) value = e.v;
  }
  return [key, value];
}

function scalar(def: FieldDef, v: WireField["v"]): unknown {
  switch (def.type) {
    case "string":
      return text.decode(bytes(v));
    case "int":
      return int(v);
    case "bool":
      return int(v) !== 0;
    case "bytes":
      return Buffer.from(bytes(v)).toString("base64");
    case "quantity":
      return (message("Quantity", bytes(v)) as { string?: string }).string ?? "0";
    case "intOrString": {
      const o = message("IntOrString", bytes(v)) as { type?: number; intVal?: number; strVal?: string };
      return o.type === 1 ? (o.strVal ?? "") : (o.intVal ?? 0);
    }
    default:
      return message(def.type.slice(4), bytes(v));
  }
}

const isZero = (x: unknown) => x === "" || x === 0 || x === false;

function message(name: string, buf: Uint8Array): Record<string, unknown> {
  const def = name === "Quantity" ? { 1: { name: "string", type: "string" } as FieldDef } : MESSAGES[name];
  if (!def) throw new ProtobufError(`no protobuf schema for ${name}`);
  const out: Record<string, unknown> = {};
  for (const { field, v } of readFields(buf)) {
    const fd = def[field];
    if (!fd) continue;
    if (fd.type === "map" || fd.type === "mapBytes" || fd.type === "mapQuantity") {
      const [k, raw] = mapEntry(bytes(v));
      const m = (out[fd.name] ??= {}) as Record<string, unknown>;
      if (!raw) m[k] = "";
      else if (fd.type === "map") m[k] = text.decode(bytes(raw));
      else if (fd.type === "mapBytes") m[k] = Buffer.from(bytes(raw)).toString("base64");
      else m[k] = (message("Quantity", bytes(raw)) as { string?: string }).string ?? "0";
      continue;
    }
    const value = scalar(fd, v);
    if (fd.inline) Object.assign(out, value);
    else if (fd.repeated) ((out[fd.name] ??= []) as unknown[]).push(value);
    else if (!isZero(value) || fd.keepZero) out[fd.name] = value;
  }
  return out;
}

export function isProtobufBody(buf: Uint8Array): boolean {
  return buf.length >= 4 && MAGIC.every((b, i) => buf[i] === b);
}

/** The JSON object for a protobuf request body; throws ProtobufError for kinds it cannot read. */
export function decodeObject(buf: Uint8Array): Record<string, unknown> {
  if (!isProtobufBody(buf)) throw new ProtobufError("not a Kubernetes protobuf message (missing the k8s\\0 prefix)");
  try {
    const unknown = message("Unknown", buf.subarray(4)) as {
      typeMeta?: { apiVersion?: string; kind?: string };
      raw?: string;
    };
    const kind = unknown.typeMeta?.kind ?? "";
    const msg = KIND_MESSAGE[kind];
    if (!msg) throw new ProtobufError(`protobuf bodies of kind "${kind}" are not supported; send JSON`);
    const raw = Buffer.from(unknown.raw ?? "", "base64");
    return { apiVersion: unknown.typeMeta?.apiVersion, kind, ...message(msg, raw) };
  } catch (err) {
    if (err instanceof WireError) throw new ProtobufError(`malformed protobuf body: ${err.message}`);
    throw err;
  }
}
