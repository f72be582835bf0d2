// The structural shape of objects as valibot schemas: each field's type (a list, a map of
// strings, a port number...) is checked first, so the Kubernetes rules that follow can rely on
// it; valibot's issues become Causes with Kubernetes-style field paths.
import * as v from "valibot";
import type { Cause, KubeObject } from "./types.ts";

const str = v.string();
const int = v.pipe(v.number(), v.integer());
const strings = v.array(str);
const stringMap = v.record(str, str);
const quantity = v.union([str, v.number()]);
const opt = <T extends v.GenericSchema>(s: T) => v.optional(v.nullable(s));

export const OwnerReferenceSchema = v.looseObject({
  apiVersion: str,
  kind: str,
  name: str,
  uid: str,
  controller: opt(v.boolean()),
  blockOwnerDeletion: opt(v.boolean()),
});

export const ObjectMetaSchema = v.looseObject({
  name: opt(str),
  generateName: opt(str),
  namespace: opt(str),
  labels: opt(stringMap),
  annotations: opt(stringMap),
  ownerReferences: opt(v.array(OwnerReferenceSchema)),
  finalizers: opt(strings),
});

const PortOrName = v.union([int, str]);
const ProbeSchema = v.looseObject({
  exec: opt(v.looseObject({ command: strings })),
  httpGet: opt(v.looseObject({ path: opt(str), port: PortOrName, host: opt(str), scheme: opt(str) })),
  tcpSocket: opt(v.looseObject({ port: PortOrName, host: opt(str) })),
  initialDelaySeconds: opt(int),
  periodSeconds: opt(int),
  timeoutSeconds: opt(int),
  successThreshold: opt(int),
  failureThreshold: opt(int),
});

export const ContainerSchema = v.looseObject({
  name: str,
  image: opt(str),
  command: opt(strings),
  args: opt(strings),
  workingDir: opt(str),
  ports: opt(
    v.array(
      v.looseObject({ name: opt(str), containerPort: int, hostPort: opt(int), hostIP: opt(str), protocol: opt(str) }),
    ),
  ),
  env: opt(v.array(v.looseObject({ name: str, value: opt(str), valueFrom: opt(v.looseObject({})) }))),
  envFrom: opt(v.array(v.looseObject({ prefix: opt(str) }))),
  resources: opt(v.looseObject({ limits: opt(v.record(str, quantity)), requests: opt(v.record(str, quantity)) })),
  volumeMounts: opt(
    v.array(v.looseObject({ name: str, mountPath: str, readOnly: opt(v.boolean()), subPath: opt(str) })),
  ),
  livenessProbe: opt(ProbeSchema),
  readinessProbe: opt(ProbeSchema),
  startupProbe: opt(ProbeSchema),
  imagePullPolicy: opt(str),
  tty: opt(v.boolean()),
  stdin: opt(v.boolean()),
});

export const PodSpecSchema = v.looseObject({
  containers: v.array(ContainerSchema),
  initContainers: opt(v.array(ContainerSchema)),
  volumes: opt(v.array(v.looseObject({ name: str }))),
  restartPolicy: opt(str),
  nodeName: opt(str),
  nodeSelector: opt(stringMap),
  schedulerName: opt(str),
  terminationGracePeriodSeconds: opt(int),
  activeDeadlineSeconds: opt(int),
  hostname: opt(str),
  subdomain: opt(str),
  dnsPolicy: opt(str),
  dnsConfig: opt(
    v.looseObject({
      nameservers: opt(strings),
      searches: opt(strings),
      options: opt(v.array(v.looseObject({ name: opt(str), value: opt(str) }))),
    }),
  ),
  hostAliases: opt(v.array(v.looseObject({ ip: opt(str), hostnames: opt(strings) }))),
  tolerations: opt(v.array(v.looseObject({ key: opt(str), operator: opt(str), value: opt(str), effect: opt(str) }))),
  affinity: opt(v.looseObject({})),
  enableServiceLinks: opt(v.boolean()),
  serviceAccountName: opt(str),
});

export const PodTemplateSchema = v.looseObject({ metadata: opt(ObjectMetaSchema), spec: PodSpecSchema });

const LabelSelectorSchema = v.looseObject({
  matchLabels: opt(stringMap),
  matchExpressions: opt(v.array(v.looseObject({ key: str, operator: str, values: opt(strings) }))),
});

export const PodSchema = v.looseObject({ metadata: ObjectMetaSchema, spec: PodSpecSchema });

export const ServiceSchema = v.looseObject({
  metadata: ObjectMetaSchema,
  spec: opt(
    v.looseObject({
      type: opt(str),
      selector: opt(stringMap),
      clusterIP: opt(str),
      sessionAffinity: opt(str),
      externalName: opt(str),
      ports: opt(
        v.array(
          v.looseObject({
            name: opt(str),
            port: int,
            targetPort: opt(PortOrName),
            nodePort: opt(int),
            protocol: opt(str),
          }),
        ),
      ),
    }),
  ),
});

/** A workload: spec.replicas, a selector (LabelSelector, or a plain map for RCs) and a pod template. */
export function workloadSchema(mapSelector: boolean, templateRequired = true) {
  return v.looseObject({
    metadata: ObjectMetaSchema,
    spec: v.looseObject({
      replicas: opt(int),
      minReadySeconds: opt(int),
      selector: opt(mapSelector ? stringMap : LabelSelectorSchema),
      template: templateRequired ? PodTemplateSchema : opt(PodTemplateSchema),
    }),
  });
}

export const DataSchema = v.looseObject({
  metadata: ObjectMetaSchema,
  data: opt(stringMap),
  binaryData: opt(stringMap),
  stringData: opt(stringMap),
});
export const MetaOnlySchema = v.looseObject({ metadata: ObjectMetaSchema });
export const CronJobSchema = v.looseObject({
  metadata: ObjectMetaSchema,
  spec: opt(
    v.looseObject({
      schedule: opt(str),
      timeZone: opt(str),
      startingDeadlineSeconds: opt(int),
      suspend: opt(v.boolean()),
      jobTemplate: opt(
        v.looseObject({
          metadata: opt(ObjectMetaSchema),
          spec: opt(v.looseObject({ template: opt(PodTemplateSchema) })),
        }),
      ),
    }),
  ),
});

function pathOf(issue: v.BaseIssue<unknown>): string {
  let out = "";
  for (const item of issue.path ?? []) {
    const key = (item as { key: unknown }).key;
    out += typeof key === "number" ? `[${key}]` : out ? `.${String(key)}` : String(key);
  }
  return out;
}

/** Whether a value passes a schema: what `v.safeParse(schema, value).success` answers, without its copy of the value. */
type Check = (value: unknown) => boolean;

/** What compileCheck reads of a valibot schema or action. */
interface SchemaNode {
  kind?: string;
  type?: string;
  pipe?: SchemaNode[];
  wrapped?: SchemaNode;
  item?: SchemaNode;
  key?: SchemaNode;
  value?: SchemaNode;
  options?: SchemaNode[];
  entries?: Record<string, SchemaNode>;
  default?: unknown;
  fallback?: unknown;
}

/** A record key valibot skips (its _isValidObjectKey). */
const skippedKey = (o: object, k: string) =>
  !Object.hasOwn(o, k) || k === "__proto__" || k === "prototype" || k === "constructor";

/**
 * The schema as one plain function per node, checked against the same conditions as valibot
 * 1.x's `~run` of each schema: safeParse builds a copy of the whole object (a new object per
 * looseObject, array and record) and a dataset per value, ~3 us of every pod create. Only the
 * schema types and actions used in this file are compiled; any other, or a default or fallback,
 * makes the whole schema undefined (valibot alone checks it).
 */
function compileCheck(schema: SchemaNode): Check | undefined {
  if (schema.default !== undefined || schema.fallback !== undefined) return undefined;
  if (schema.pipe) {
    const [base, ...actions] = schema.pipe;
    const check = base && compileCheck(base);
    if (!check) return undefined;
    for (const a of actions) {
      if (a.kind === "metadata") continue;
      // integer() is the one action here: Number.isInteger on a value its schema typed.
      if (a.kind !== "validation" || a.type !== "integer") return undefined;
    }
    return actions.some((a) => a.kind !== "metadata") ? (x) => check(x) && Number.isInteger(x) : check;
  }
  switch (schema.type) {
    case "string":
      return (x) => typeof x === "string";
    case "number":
      return (x) => typeof x === "number" && !Number.isNaN(x);
    case "boolean":
      return (x) => typeof x === "boolean";
    case "optional": {
      const w = schema.wrapped && compileCheck(schema.wrapped);
      return w && ((x) => x === undefined || w(x));
    }
    case "nullable": {
      const w = schema.wrapped && compileCheck(schema.wrapped);
      return w && ((x) => x === null || w(x));
    }
    case "array": {
      const item = schema.item && compileCheck(schema.item);
      if (!item) return undefined;
      return (x) => {
        if (!Array.isArray(x)) return false;
        for (let i = 0; i < x.length; i++) if (!item(x[i])) return false;
        return true;
      };
    }
    case "record": {
      // Any string passes a plain string() key; own keys other than valibot's skipped ones are checked.
      if (schema.key?.type !== "string" || schema.key.pipe || !schema.value) return undefined;
      const value = compileCheck(schema.value);
      if (!value) return undefined;
      return (x) => {
        if (!x || typeof x !== "object") return false;
        for (const k in x) if (!skippedKey(x, k) && !value((x as Record<string, unknown>)[k])) return false;
        return true;
      };
    }
    case "union": {
      const options = (schema.options ?? []).map(compileCheck);
      if (!options.length || options.some((o) => !o)) return undefined;
      const all = options as Check[];
      return (x) => all.some((o) => o(x));
    }
    case "loose_object": {
      const entries: { key: string; check: Check; optional: boolean }[] = [];
      for (const [key, entry] of Object.entries(schema.entries ?? {})) {
        const check = compileCheck(entry);
        // A missing key passes an optional entry only (nullish and exact_optional are not compiled).
        if (!check || entry.type === "nullish" || entry.type === "exact_optional") return undefined;
        entries.push({ key, check, optional: entry.type === "optional" });
      }
      return (x) => {
        if (!x || typeof x !== "object") return false;
        for (const e of entries) {
          // `in`, as valibot: a key present with an undefined value is checked as undefined.
          if (e.key in x) {
            if (!e.check((x as Record<string, unknown>)[e.key])) return false;
          } else if (!e.optional) return false;
        }
        return true;
      };
    }
    default:
      return undefined;
  }
}

/** Each schema's compiled check, made on its first use (null: not compiled). */
const checks = new WeakMap<v.GenericSchema, Check | null>();

export function schemaCheck(schema: v.GenericSchema): Check | undefined {
  let check = checks.get(schema);
  if (check === undefined) {
    check = compileCheck(schema as unknown as SchemaNode) ?? null;
    checks.set(schema, check);
  }
  return check ?? undefined;
}

/**
 * The schema's complaints as Causes: `spec.containers[0].ports: Invalid value: "80": expected Array`.
 * An object that passes the compiled check has none; any other is parsed by valibot for its issues.
 */
export function shapeCauses(schema: v.GenericSchema, obj: KubeObject): Cause[] {
  if (schemaCheck(schema)?.(obj)) return [];
  const r = v.safeParse(schema, obj);
  if (r.success) return [];
  const seen = new Set<string>();
  const causes: Cause[] = [];
  for (const issue of r.issues) {
    const field = pathOf(issue);
    if (seen.has(field)) continue;
    seen.add(field);
    if (issue.input === undefined) causes.push({ reason: "FieldValueRequired", field, message: "Required value" });
    else
      causes.push({
        reason: "FieldValueInvalid",
        field,
        message: `Invalid value: ${JSON.stringify(issue.input)?.slice(0, 80)}: expected ${issue.expected ?? "a valid value"}`,
      });
  }
  return causes;
}
