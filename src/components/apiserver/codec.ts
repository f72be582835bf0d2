// Objects in the store are JSON without metadata.resourceVersion: the store's revision is the
// resourceVersion, set on the way out, so a value never disagrees with its own revision.
// apiVersion, kind and metadata are always written first, so the resourceVersion can be
// spliced into the stored text without parsing it (watch and list fast paths).
import type { KubeObject } from "../../api/types.ts";
import type { KeyValue } from "../../store/types.ts";

/** The keys a stored object starts with, in order. */
const HEAD = ["apiVersion", "kind", "metadata"] as const;

/** Whether the object's first keys are HEAD's, so that its own key order is the stored one. */
function headFirst(obj: KubeObject): boolean {
  let i = 0;
  for (const k in obj) {
    if (k !== HEAD[i]) return false;
    if (++i === HEAD.length) return true;
  }
  return false;
}

export function encode(obj: KubeObject): string {
  // Already in the stored order and without a resourceVersion (a create's body, an Event): the text
  // is the object's own, without copying it and its metadata first.
  if (obj.metadata && obj.metadata.resourceVersion === undefined && headFirst(obj)) return JSON.stringify(obj);
  const { apiVersion, kind, metadata, ...rest } = obj;
  const meta = { ...(metadata ?? {}) };
  delete meta.resourceVersion;
  return JSON.stringify({ apiVersion, kind, metadata: meta, ...rest });
}

const META = '"metadata":{';

/** The stored JSON text with metadata.resourceVersion set, without parsing. */
export function withResourceVersion(value: string, revision: number): string {
  const i = value.indexOf(META);
  if (i < 0) return value;
  const at = i + META.length;
  return `${value.slice(0, at)}${resourceVersionField(value, at, revision)}${value.slice(at)}`;
}

const resourceVersionField = (value: string, at: number, revision: number) =>
  `"resourceVersion":"${revision}"${value[at] === "}" ? "" : ","}`;

/**
 * withResourceVersion's text as pieces to be written one after the other: the stored text's two
 * slices share its characters, so a writer that takes each piece as it comes copies nothing.
 */
export function withResourceVersionPieces(value: string, revision: number): string[] {
  const i = value.indexOf(META);
  if (i < 0) return [value];
  const at = i + META.length;
  return [value.slice(0, at), resourceVersionField(value, at, revision), value.slice(at)];
}

export function decode(kv: KeyValue): KubeObject {
  return JSON.parse(withResourceVersion(kv.value, kv.modRevision)) as KubeObject;
}

const DECODED = Symbol("decoded");
/** The decoded object rides on the stored value under a symbol only this module has (no WeakMap entry). */
type Decoded = KeyValue & { [DECODED]?: KubeObject };

/**
 * decode() made once per stored value, for readers that only look (never change the object): a
 * store that caches hands out the same value object until it changes. Admission reads the pod's
 * namespace on every create (its deletion and Pod Security labels): two parses per create before.
 */
export function decodeShared(kv: KeyValue): Readonly<KubeObject> {
  const held = kv as Decoded;
  let obj = held[DECODED];
  if (!obj) {
    obj = decode(kv);
    // Not enumerable: a copy made by spreading the value ({...kv, value}) must not carry it.
    Object.defineProperty(held, DECODED, { value: obj, configurable: true, writable: true });
  }
  return obj;
}

/** The object as response text, straight from the store. */
export function rawJson(kv: KeyValue): string {
  return withResourceVersion(kv.value, kv.modRevision);
}
