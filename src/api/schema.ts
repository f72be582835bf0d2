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

/** The schema's complaints as Causes: `spec.containers[0].ports: Invalid value: "80": expected Array`. */
export function shapeCauses(schema: v.GenericSchema, obj: KubeObject): Cause[] {
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
