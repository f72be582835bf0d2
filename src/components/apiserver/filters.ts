// Turns the labelSelector and fieldSelector query parameters into one match function.
// Unknown field labels and unparsable selectors are 400s, as in Kubernetes.
import type { KindDef, KubeObject } from "../../api/types.ts";
import { matchesLabels, parseFieldSelector, parseLabelSelector, SelectorError } from "../../api/selectors.ts";
import { badRequest } from "./errors.ts";

/**
 * A selector's test; `keyFilter`, when present, rejects by store key alone (no decode) what the test would;
 * `keySuffix`, the end every matching key has, lets the store skip the others without reading them;
 * `textFilter` rejects by the stored JSON text (Objects.list only reads it before decoding).
 */
export type Matcher = ((obj: KubeObject) => boolean) & {
  keyFilter?: (key: string) => boolean;
  keySuffix?: string;
  textFilter?: (stored: string) => boolean;
};

export function buildMatcher(
  kind: KindDef,
  labelSelector: string | null,
  fieldSelector: string | null,
): Matcher | undefined {
  try {
    const labels = labelSelector ? parseLabelSelector(labelSelector) : [];
    const fields = (fieldSelector ? parseFieldSelector(fieldSelector) : []).map((r) => {
      const get = fieldGetter(kind, r.field);
      if (!get) throw badRequest(`field label not supported: ${r.field}`);
      return { ...r, get };
    });
    if (labels.length === 0 && fields.length === 0) return undefined;
    const matcher: Matcher = (obj) => {
      if (labels.length && !matchesLabels(labels, obj.metadata?.labels)) return false;
      for (const f of fields) if ((f.get(obj) ?? "") === f.value ? f.op === "!=" : f.op === "=") return false;
      return true;
    };
    // The key ends with the name: `metadata.name=x` over a large kind skips decoding the rest.
    const name = fields.find((f) => f.field === "metadata.name" && f.op !== "!=");
    if (name) {
      matcher.keySuffix = `/${name.value}`;
      matcher.keyFilter = (key) => key.endsWith(`/${name.value}`);
    }
    return matcher;
  } catch (err) {
    if (err instanceof SelectorError) throw badRequest(err.message);
    throw err;
  }
}

function fieldGetter(kind: KindDef, field: string): ((obj: KubeObject) => string | undefined) | undefined {
  if (field === "metadata.name") return (o) => o.metadata?.name;
  if (field === "metadata.namespace") return (o) => o.metadata?.namespace;
  return kind.fieldSelectors?.[field];
}
