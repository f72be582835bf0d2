// Field sets for managedFields, in the FieldsV1 notation of structured-merge-diff:
// `f:<field>` for an object field, `k:{"name":"c"}` for the element of a keyed list,
// `v:"x"` for a member of a set list, and `".": {}` marking a node that is itself
// owned when it also has owned children. A path is the list of those tokens.
import { isObject, type JsonObject } from "./json.ts";
import { elementShape, fieldShape, shapeFor, type Shape } from "./schema.ts";

export type FieldPath = string[];
/** A set of paths, keyed by their serialised form. */
export type FieldSet = Map<string, FieldPath>;

const pathId = (path: FieldPath): string => JSON.stringify(path);

/** Fields the server owns or that name the object: never part of a manager's set. */
const skippedTopLevel = new Set(["apiVersion", "kind"]);
const skippedMetadata = new Set([
  "name",
  "namespace",
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "managedFields",
  "selfLink",
]);

/** The set of fields an object (as applied by a manager) sets. */
export function fieldSetOf(obj: unknown, shape: Shape | undefined): FieldSet {
  const out: FieldSet = new Map();
  const add = (path: FieldPath) => out.set(pathId(path), path);

  const walkObject = (value: JsonObject, s: Shape | undefined, path: FieldPath, depth: number): void => {
    for (const [key, child] of Object.entries(value)) {
      if (child === null || child === undefined) continue;
      if (depth === 0 && skippedTopLevel.has(key)) continue;
      if (depth === 1 && path[0] === "f:metadata" && skippedMetadata.has(key)) continue;
      walkValue(child, fieldShape(s, key), [...path, `f:${key}`], depth + 1);
    }
  };

  const walkValue = (value: unknown, s: Shape | undefined, path: FieldPath, depth: number): void => {
    if (Array.isArray(value)) {
      const key = s?.merge?.key;
      if (key) {
        for (const elem of value) {
          if (!isObject(elem) || !Object.hasOwn(elem, key)) continue;
          const elemPath = [...path, `k:${JSON.stringify({ [key]: elem[key] })}`];
          add(elemPath);
          walkObject(elem, elementShape(s), elemPath, depth + 1);
        }
      } else if (s?.merge) {
        for (const v of value) add([...path, `v:${JSON.stringify(v)}`]);
      } else {
        add(path); // atomic list: owned as a whole
      }
    } else if (isObject(value)) {
      if (Object.keys(value).length === 0) add(path);
      else walkObject(value, s, path, depth);
    } else {
      add(path);
    }
  };

  if (isObject(obj)) walkObject(obj, shape, [], 0);
  return out;
}

interface Node {
  member: boolean;
  children: Map<string, Node>;
}

/** Serialises a field set as a FieldsV1 object. */
export function toFieldsV1(set: FieldSet): JsonObject {
  const root: Node = { member: false, children: new Map() };
  for (const path of set.values()) {
    let node = root;
    for (const token of path) {
      let next = node.children.get(token);
      if (!next) {
        next = { member: false, children: new Map() };
        node.children.set(token, next);
      }
      node = next;
    }
    node.member = true;
  }
  const render = (node: Node): JsonObject => {
    const out: JsonObject = {};
    if (node.member && node.children.size > 0) out["."] = {};
    for (const token of [...node.children.keys()].sort()) out[token] = render(node.children.get(token)!);
    return out;
  };
  return render(root);
}

/** Reads a FieldsV1 object back into a field set (malformed parts are ignored). */
export function fromFieldsV1(fields: unknown): FieldSet {
  const out: FieldSet = new Map();
  const walk = (node: unknown, path: FieldPath): void => {
    if (!isObject(node)) return;
    const keys = Object.keys(node);
    if (path.length > 0 && (keys.length === 0 || keys.includes("."))) out.set(pathId(path), path);
    for (const key of keys) if (key !== ".") walk(node[key], [...path, key]);
  };
  walk(fields, []);
  return out;
}

/** The FieldsV1 of every field an object sets, for a kind (e.g. for an "Update" managedFields entry). */
export function fieldsV1Of(kind: string, obj: unknown): JsonObject {
  return toFieldsV1(fieldSetOf(obj, shapeFor(kind)));
}

const missing = Symbol("missing");

/** The value at a path, or `missing`. */
export function valueAt(obj: unknown, path: FieldPath): unknown {
  let cur: unknown = obj;
  for (const token of path) {
    const found = step(cur, token);
    if (found === missing) return missing;
    cur = found.value;
  }
  return cur;
}
export const isMissing = (v: unknown): boolean => v === missing;

/** Removes the field, list element or set member at a path; a no-op if it is not there. */
export function deleteAt(obj: unknown, path: FieldPath): void {
  if (path.length === 0) return;
  const parent = valueAt(obj, path.slice(0, -1));
  const token = path[path.length - 1]!;
  const found = step(parent, token);
  if (found === missing) return;
  if (found.index === undefined) delete (parent as JsonObject)[token.slice(2)];
  else (parent as unknown[]).splice(found.index, 1);
}

function step(cur: unknown, token: string): typeof missing | { value: unknown; index?: number } {
  const kind = token.slice(0, 2);
  const rest = token.slice(2);
  if (kind === "f:") {
    return isObject(cur) && Object.hasOwn(cur, rest) ? { value: cur[rest] } : missing;
  }
  if (!Array.isArray(cur)) return missing;
  let wanted: unknown;
  try {
    wanted = JSON.parse(rest);
  } catch {
    return missing;
  }
  let index = -1;
  if (kind === "k:" && isObject(wanted)) {
    const fields = Object.entries(wanted);
    index = cur.findIndex((e) => isObject(e) && fields.every(([k, v]) => e[k] === v));
  } else if (kind === "v:") {
    index = cur.findIndex((e) => e === wanted);
  }
  return index < 0 ? missing : { value: cur[index], index };
}

/** A path as Kubernetes prints it in conflict messages: `.spec.containers[name="c"].image`. */
export function describePath(path: FieldPath): string {
  return path
    .map((token) => {
      const rest = token.slice(2);
      if (token.startsWith("f:")) return `.${rest}`;
      if (token.startsWith("k:")) {
        try {
          const key = JSON.parse(rest) as JsonObject;
          return `[${Object.entries(key)
            .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
            .join(",")}]`;
        } catch {
          return `[${rest}]`;
        }
      }
      return `[=${rest}]`;
    })
    .join("");
}
