// /openapi/v2 and /openapi/v3 built from the kind registry at request time (cached until the set of
// kinds changes, so a CRD's kind shows up at once): upstream's definitions, and for every kind the
// paths kubectl reads, whose PATCH operations carry x-kubernetes-group-version-kind and the
// fieldValidation parameter (kubectl's QueryParamVerifier looks there to leave validation to us).
import { createHash } from "node:crypto";
import {
  definitionName,
  definitionsFor,
  gvkOf,
  reachable,
  REF_V2,
  type Schema,
} from "../../api/openapi/definitions.ts";
import type { KindDef } from "../../api/types.ts";
import { serverVersion } from "./discovery.ts";

const META = "io.k8s.apimachinery.pkg.apis.meta.v1.";
const INFO = { title: "Kubernetes", version: serverVersion.gitVersion };
type Op = Record<string, unknown>;
type Param = {
  name: string;
  in: "query" | "path" | "body";
  description: string;
  type?: string;
  uniqueItems?: boolean;
  required?: boolean;
  schema?: Schema;
};

const query = (name: string, description: string, type = "string"): Param => ({
  name,
  in: "query",
  description,
  type,
  uniqueItems: true,
});
const P = {
  dryRun: query(
    "dryRun",
    "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed",
  ),
  fieldManager: query(
    "fieldManager",
    "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.",
  ),
  fieldValidation: query(
    "fieldValidation",
    "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.",
  ),
  force: query(
    "force",
    'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.',
    "boolean",
  ),
  labelSelector: query(
    "labelSelector",
    "A selector to restrict the list of returned objects by their labels. Defaults to everything.",
  ),
  fieldSelector: query(
    "fieldSelector",
    "A selector to restrict the list of returned objects by their fields. Defaults to everything.",
  ),
  limit: query("limit", "limit is a maximum number of responses to return for a list call.", "integer"),
  resourceVersion: query(
    "resourceVersion",
    "resourceVersion sets a constraint on what resource versions a request may be served from.",
  ),
  watch: query(
    "watch",
    "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.",
    "boolean",
  ),
  gracePeriodSeconds: query(
    "gracePeriodSeconds",
    "The duration in seconds before the object should be deleted.",
    "integer",
  ),
  propagationPolicy: query(
    "propagationPolicy",
    "Whether and how garbage collection will be performed. Acceptable values are: 'Orphan', 'Background', 'Foreground'.",
  ),
  name: (what: string): Param => ({
    name: "name",
    in: "path",
    description: `name of the ${what}`,
    type: "string",
    uniqueItems: true,
    required: true,
  }),
  namespace: {
    name: "namespace",
    in: "path",
    description: "object name and auth scope, such as for teams and projects",
    type: "string",
    uniqueItems: true,
    required: true,
  } as Param,
  pretty: query("pretty", "If 'true', then the output is pretty printed."),
  body: (ref: string): Param => ({
    name: "body",
    in: "body",
    description: "",
    required: true,
    schema: { $ref: REF_V2 + ref },
  }),
};

/** `AppsV1`, `CoreV1`, `RbacAuthorizationV1`: upstream's operationId infix. */
function opGroup(kind: KindDef): string {
  const words = (kind.group ? kind.group.replace(/\.k8s\.io$/, "") : "core").split(/[.-]/);
  return (
    words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join("") + kind.version[0]!.toUpperCase() + kind.version.slice(1)
  );
}
const tagOf = (kind: KindDef) =>
  `${(kind.group ? kind.group.replace(/\.k8s\.io$/, "") : "core").replace(/[.-](\w)/g, (_, c: string) => c.toUpperCase())}_${kind.version}`;

const ok = (ref: string) => ({ description: "OK", schema: { $ref: REF_V2 + ref } });

/** Paths for one kind, in v2 form: collection, item, and its status and scale subresources. */
function kindPaths(kind: KindDef): Record<string, Record<string, unknown>> {
  const def = definitionName(kind);
  const base = kind.group ? `/apis/${kind.group}/${kind.version}` : `/api/${kind.version}`;
  const ns = kind.namespaced ? "Namespaced" : "";
  const collection = kind.namespaced ? `${base}/namespaces/{namespace}/${kind.resource}` : `${base}/${kind.resource}`;
  const item = `${collection}/{name}`;
  const scope = kind.namespaced ? [P.namespace] : [];
  const g = opGroup(kind);
  const has = (v: string) => kind.verbs.includes(v);
  const op = (
    verb: string,
    action: string,
    id: string,
    params: Param[],
    response: string,
    gvk = gvkOf(kind),
    extra: Op = {},
  ): Op => ({
    description: `${verb} ${kind.kind}`,
    consumes:
      action === "patch"
        ? [
            "application/json-patch+json",
            "application/merge-patch+json",
            "application/strategic-merge-patch+json",
            "application/apply-patch+yaml",
          ]
        : ["*/*"],
    produces: ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"],
    schemes: ["https"],
    tags: [tagOf(kind)],
    operationId: id,
    parameters: params,
    responses: {
      "200": ok(response),
      ...(action === "post" ? { "201": { description: "Created", schema: { $ref: REF_V2 + response } } } : {}),
      "401": { description: "Unauthorized" },
    },
    "x-kubernetes-action": action,
    "x-kubernetes-group-version-kind": gvk,
    ...extra,
  });
  const write = [P.dryRun, P.fieldManager, P.fieldValidation];
  const paths: Record<string, Record<string, unknown>> = {};
  const coll: Record<string, unknown> = { parameters: [...scope, P.pretty] };
  if (has("list"))
    coll.get = op(
      "list or watch objects of kind",
      "list",
      `list${g}${ns}${kind.kind}`,
      [P.labelSelector, P.fieldSelector, P.limit, P.resourceVersion, P.watch],
      `${def}List`,
    );
  if (has("create")) coll.post = op("create a", "post", `create${g}${ns}${kind.kind}`, [P.body(def), ...write], def);
  if (has("deletecollection"))
    coll.delete = op(
      "delete collection of",
      "deletecollection",
      `delete${g}Collection${ns}${kind.kind}`,
      [P.labelSelector, P.fieldSelector, P.gracePeriodSeconds, P.propagationPolicy, P.dryRun],
      `${META}Status`,
    );
  paths[collection] = coll;
  const one: Record<string, unknown> = { parameters: [P.name(kind.kind), ...scope, P.pretty] };
  if (has("get")) one.get = op("read the specified", "get", `read${g}${ns}${kind.kind}`, [], def);
  if (has("update"))
    one.put = op("replace the specified", "put", `replace${g}${ns}${kind.kind}`, [P.body(def), ...write], def);
  if (has("patch"))
    one.patch = op(
      "partially update the specified",
      "patch",
      `patch${g}${ns}${kind.kind}`,
      [P.body(`${META}Patch`), ...write, P.force],
      def,
    );
  if (has("delete"))
    one.delete = op(
      "delete a",
      "delete",
      `delete${g}${ns}${kind.kind}`,
      [P.gracePeriodSeconds, P.propagationPolicy, P.dryRun],
      `${META}Status`,
    );
  paths[item] = one;
  if (kind.namespaced && has("list")) {
    paths[`${base}/${kind.resource}`] = {
      parameters: [P.pretty],
      get: op(
        "list or watch objects of kind",
        "list",
        `list${g}${kind.kind}ForAllNamespaces`,
        [P.labelSelector, P.fieldSelector, P.limit, P.resourceVersion, P.watch],
        `${def}List`,
      ),
    };
  }
  const sub = (name: string, what: string, ref: string, gvk: ReturnType<typeof gvkOf>) => {
    const id = (verb: string) => `${verb}${g}${ns}${kind.kind}${what}`;
    paths[`${item}/${name}`] = {
      parameters: [P.name(what), ...scope, P.pretty],
      get: op(`read ${name} of the specified`, "get", id("read"), [], ref, gvk),
      put: op(`replace ${name} of the specified`, "put", id("replace"), [P.body(ref), ...write], ref, gvk),
      patch: op(
        `partially update ${name} of the specified`,
        "patch",
        id("patch"),
        [P.body(`${META}Patch`), ...write, P.force],
        ref,
        gvk,
      ),
    };
  };
  if (kind.subresources.status) sub("status", "Status", def, gvkOf(kind));
  if (kind.subresources.scale)
    sub("scale", "Scale", "io.k8s.api.autoscaling.v1.Scale", { group: "autoscaling", kind: "Scale", version: "v1" });
  return paths;
}

/** Definitions a document with these kinds' paths refers to: the kinds, lists, Status, Patch, Scale... */
function rootsOf(kinds: KindDef[]): string[] {
  const roots = [`${META}Status`, `${META}Patch`, `${META}DeleteOptions`];
  for (const k of kinds) {
    roots.push(definitionName(k));
    if (k.subresources.scale) roots.push("io.k8s.api.autoscaling.v1.Scale");
  }
  return roots;
}

/** A List definition for each kind (its items), so list responses are described. */
function listDefinitions(kinds: KindDef[]): Record<string, Schema> {
  const out: Record<string, Schema> = {};
  for (const k of kinds) {
    const def = definitionName(k);
    out[`${def}List`] = {
      description: `${k.listKind} is a list of ${k.kind}`,
      type: "object",
      required: ["items"],
      properties: {
        apiVersion: {
          type: "string",
          description: "APIVersion defines the versioned schema of this representation of an object.",
        },
        items: { type: "array", description: `List of ${k.resource}.`, items: { $ref: REF_V2 + def } },
        kind: {
          type: "string",
          description: "Kind is a string value representing the REST resource this object represents.",
        },
        metadata: { $ref: `${REF_V2}${META}ListMeta`, description: "Standard list metadata." },
      },
      "x-kubernetes-group-version-kind": [{ group: k.group, kind: k.listKind, version: k.version }],
    };
  }
  return out;
}

function v2Document(kinds: KindDef[]): unknown {
  const defs = { ...definitionsFor(kinds), ...listDefinitions(kinds) };
  const used = reachable(defs, [...rootsOf(kinds), ...kinds.map((k) => `${definitionName(k)}List`)]).sort();
  const paths: Record<string, unknown> = {};
  for (const k of kinds) Object.assign(paths, kindPaths(k));
  return { swagger: "2.0", info: INFO, paths, definitions: Object.fromEntries(used.map((n) => [n, defs[n]])) };
}

/** v2 -> v3 schema: refs into components, a $ref with siblings wrapped in allOf (as upstream's v3 does). */
function toV3(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toV3);
  if (!value || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  // A "$ref" key whose value is a schema is a property named $ref (JSONSchemaProps has one), not a reference.
  for (const [k, v] of Object.entries(value))
    out[k] = k === "$ref" && typeof v === "string" ? v.replace("#/definitions/", "#/components/schemas/") : toV3(v);
  if (typeof out.$ref === "string" && Object.keys(out).length > 1) {
    const { $ref, ...rest } = out;
    return { ...rest, allOf: [{ $ref }] };
  }
  return out;
}

function v3Operation(o: Op): Op {
  const params = (o.parameters as Param[]).filter((p) => p.in !== "body").map(v3Param);
  const body = (o.parameters as Param[]).find((p) => p.in === "body");
  const { consumes, produces: _p, schemes: _s, parameters: _ps, responses, ...rest } = o;
  const content = (schema: unknown) =>
    Object.fromEntries(["application/json", "application/yaml"].map((t) => [t, { schema: toV3(schema) }]));
  return {
    ...rest,
    parameters: params,
    ...(body
      ? {
          requestBody: {
            content: Object.fromEntries((consumes as string[]).map((t) => [t, { schema: toV3(body.schema) }])),
            required: true,
          },
        }
      : {}),
    responses: Object.fromEntries(
      Object.entries(responses as Record<string, { description: string; schema?: unknown }>).map(([code, r]) => [
        code,
        r.schema ? { description: r.description, content: content(r.schema) } : { description: r.description },
      ]),
    ),
  };
}

function v3Param(p: Param): unknown {
  const { type, uniqueItems: _u, ...rest } = p;
  return { ...rest, schema: { type, uniqueItems: true } };
}

function v3Document(kinds: KindDef[]): unknown {
  const defs = { ...definitionsFor(kinds), ...listDefinitions(kinds) };
  const used = reachable(defs, [...rootsOf(kinds), ...kinds.map((k) => `${definitionName(k)}List`)]).sort();
  const paths: Record<string, unknown> = {};
  for (const k of kinds) {
    for (const [path, item] of Object.entries(kindPaths(k))) {
      paths[path] = Object.fromEntries(
        Object.entries(item).map(([m, o]) => [
          m,
          m === "parameters" ? (o as Param[]).map(v3Param) : v3Operation(o as Op),
        ]),
      );
    }
  }
  return {
    openapi: "3.0.0",
    info: INFO,
    paths,
    components: { schemas: Object.fromEntries(used.map((n) => [n, toV3(defs[n])])) },
  };
}

interface Built {
  v2: string;
  v3: Map<string, { body: string; hash: string }>;
}

/** Serves /openapi/v2 and /openapi/v3[/...] for the kinds `kinds()` returns now. */
export function createOpenApi(kinds: () => KindDef[]) {
  const ids = new WeakMap<KindDef, number>();
  let nextId = 0;
  let cached: { key: string; built: Partial<Built> } | undefined;
  const current = () => {
    const all = kinds();
    const key = all.map((k) => ids.get(k) ?? (ids.set(k, ++nextId), nextId)).join(",");
    if (cached?.key !== key) cached = { key, built: {} };
    return { all, built: cached.built };
  };
  const v3Docs = (): Built["v3"] => {
    const { all, built } = current();
    if (built.v3) return built.v3;
    const byGv = new Map<string, KindDef[]>();
    for (const k of all) {
      const path = k.group ? `apis/${k.group}/${k.version}` : `api/${k.version}`;
      byGv.set(path, [...(byGv.get(path) ?? []), k]);
    }
    built.v3 = new Map();
    for (const [path, ks] of [...byGv].sort(([a], [b]) => a.localeCompare(b))) {
      const body = JSON.stringify(v3Document(ks));
      built.v3.set(path, { body, hash: createHash("sha512").update(body).digest("hex").toUpperCase() });
    }
    return built.v3;
  };
  return {
    v2(req: Request): Response {
      const accept = req.headers.get("accept") ?? "";
      // kubectl 1.27-1.29 ask for the protobuf form only: an empty protobuf document keeps their
      // create/apply working (validation is then ours, server-side); JSON for everyone else.
      if (/protobuf/.test(accept) && !/application\/json|\*\/\*/.test(accept))
        return new Response(new Uint8Array(0), { headers: { "content-type": "application/octet-stream" } });
      const { all, built } = current();
      built.v2 ??= JSON.stringify(v2Document(all));
      return new Response(built.v2, { headers: { "content-type": "application/json" } });
    },
    v3Index(): Response {
      const paths = Object.fromEntries(
        [...v3Docs()].map(([path, d]) => [path, { serverRelativeURL: `/openapi/v3/${path}?hash=${d.hash}` }]),
      );
      return Response.json({ paths });
    },
    v3(req: Request, path: string): Response | undefined {
      const doc = v3Docs().get(path);
      if (!doc) return undefined;
      const hash = new URL(req.url).searchParams.get("hash");
      // An old hash moves to the current one; the current one may be cached forever.
      if (hash && hash !== doc.hash)
        return new Response(null, { status: 301, headers: { location: `/openapi/v3/${path}?hash=${doc.hash}` } });
      const headers: Record<string, string> = {
        "content-type": "application/json",
        etag: `"${doc.hash}"`,
        vary: "Accept",
      };
      headers["cache-control"] = hash ? "public, immutable, max-age=31536000" : "no-cache, private";
      return new Response(doc.body, { headers });
    },
  };
}
