// Objects in the store are JSON without metadata.resourceVersion: the store's revision is the
// resourceVersion, set on the way out, so a value never disagrees with its own revision.
import type { KubeObject } from "../../api/types.ts";
import type { KeyValue } from "../../store/types.ts";

export function encode(obj: KubeObject): string {
  const meta = obj.metadata ?? {};
  if (meta.resourceVersion === undefined) return JSON.stringify(obj);
  const { resourceVersion: _drop, ...rest } = meta;
  return JSON.stringify({ ...obj, metadata: rest });
}

export function decode(kv: KeyValue): KubeObject {
  const obj = JSON.parse(kv.value) as KubeObject;
  obj.metadata = { ...obj.metadata, resourceVersion: String(kv.modRevision) };
  return obj;
}
