// The compiled shape checks (schemaCheck) against valibot's safeParse: for every schema in
// schema.ts, random objects (valid samples with random parts replaced) pass the one exactly when
// they pass the other, and shapeCauses' answers are valibot's.
import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import {
  ContainerSchema,
  CronJobSchema,
  DataSchema,
  MetaOnlySchema,
  ObjectMetaSchema,
  OwnerReferenceSchema,
  PodSchema,
  PodSpecSchema,
  PodTemplateSchema,
  ServiceSchema,
  schemaCheck,
  shapeCauses,
  workloadSchema,
} from "./schema.ts";
import type { KubeObject } from "./types.ts";
import { rng } from "../../test/helpers/rng.ts";

const meta = {
  name: "a",
  namespace: "ns",
  labels: { app: "x", tier: "web" },
  annotations: { note: "y" },
  ownerReferences: [
    { apiVersion: "v1", kind: "Pod", name: "o", uid: "u", controller: true, blockOwnerDeletion: false },
  ],
  finalizers: ["f"],
};
const probe = {
  exec: { command: ["true"] },
  httpGet: { path: "/", port: 80, host: "h", scheme: "HTTP" },
  tcpSocket: { port: "http" },
  initialDelaySeconds: 1,
  periodSeconds: 2,
  failureThreshold: 3,
};
const container = {
  name: "c",
  image: "busybox",
  command: ["sh"],
  args: ["-c", "x"],
  ports: [{ name: "http", containerPort: 80, hostPort: 8080, protocol: "TCP" }],
  env: [
    { name: "A", value: "1" },
    { name: "B", valueFrom: { fieldRef: {} } },
  ],
  envFrom: [{ prefix: "P" }],
  resources: { requests: { cpu: "10m", memory: 16 }, limits: { cpu: 1 } },
  volumeMounts: [{ name: "v", mountPath: "/v", readOnly: true, subPath: "s" }],
  livenessProbe: probe,
  readinessProbe: probe,
  imagePullPolicy: "Always",
  tty: false,
};
const podSpec = {
  containers: [container],
  initContainers: [container],
  volumes: [{ name: "v", emptyDir: {} }],
  restartPolicy: "Always",
  nodeSelector: { zone: "a" },
  terminationGracePeriodSeconds: 30,
  dnsConfig: { nameservers: ["1.1.1.1"], options: [{ name: "ndots", value: "2" }] },
  hostAliases: [{ ip: "1.2.3.4", hostnames: ["h"] }],
  tolerations: [{ key: "k", operator: "Exists", effect: "NoSchedule" }],
  affinity: {},
  enableServiceLinks: true,
};
const template = { metadata: meta, spec: podSpec };
const samples: [string, v.GenericSchema, unknown][] = [
  ["OwnerReference", OwnerReferenceSchema, meta.ownerReferences[0]],
  ["ObjectMeta", ObjectMetaSchema, meta],
  ["Container", ContainerSchema, container],
  ["PodSpec", PodSpecSchema, podSpec],
  ["PodTemplate", PodTemplateSchema, template],
  ["Pod", PodSchema, { apiVersion: "v1", kind: "Pod", metadata: meta, spec: podSpec, status: {} }],
  [
    "Service",
    ServiceSchema,
    {
      metadata: meta,
      spec: {
        type: "ClusterIP",
        selector: { app: "x" },
        ports: [{ name: "p", port: 80, targetPort: "http", nodePort: 30000, protocol: "TCP" }],
      },
    },
  ],
  ["Data", DataSchema, { metadata: meta, data: { a: "b" }, binaryData: {}, stringData: { c: "d" } }],
  ["MetaOnly", MetaOnlySchema, { metadata: meta, involvedObject: { kind: "Pod" } }],
  [
    "CronJob",
    CronJobSchema,
    {
      metadata: meta,
      spec: { schedule: "* * * * *", suspend: false, jobTemplate: { metadata: meta, spec: { template } } },
    },
  ],
  [
    "workload (LabelSelector)",
    workloadSchema(false),
    {
      metadata: meta,
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: "x" }, matchExpressions: [{ key: "k", operator: "In", values: ["v"] }] },
        template,
      },
    },
  ],
  ["workload (map selector)", workloadSchema(true), { metadata: meta, spec: { selector: { app: "x" }, template } }],
  ["workload (template optional)", workloadSchema(false, false), { metadata: meta, spec: { replicas: 1 } }],
];

function randomValue(r: () => number, depth = 0): unknown {
  const pick = Math.floor(r() * 14);
  switch (pick) {
    case 0:
      return "s";
    case 1:
      return 80;
    case 2:
      return 1.5;
    case 3:
      return Number.NaN;
    case 4:
      return null;
    case 5:
      return undefined;
    case 6:
      return true;
    case 7:
      return depth > 2 ? [] : [randomValue(r, depth + 1), randomValue(r, depth + 1)];
    case 8:
      return depth > 2 ? {} : { name: randomValue(r, depth + 1), port: randomValue(r, depth + 1) };
    case 9:
      return [];
    case 10:
      return {};
    case 11:
      return -3;
    case 12:
      return ["a", "b"];
    default:
      return { a: "b" };
  }
}

/** Every path to an object or array slot of `value`, with the container and key. */
function slots(value: unknown, out: [Record<string, unknown>, string][] = []): [Record<string, unknown>, string][] {
  if (value && typeof value === "object") {
    for (const k of Object.keys(value)) {
      out.push([value as Record<string, unknown>, k]);
      slots((value as Record<string, unknown>)[k], out);
    }
  }
  return out;
}

function mutated(sample: unknown, r: () => number): unknown {
  const obj = structuredClone(sample);
  const n = 1 + Math.floor(r() * 3);
  for (let i = 0; i < n; i++) {
    const all = slots(obj);
    if (!all.length) break;
    const [holder, key] = all[Math.floor(r() * all.length)]!;
    const what = r();
    if (what < 0.2) delete holder[key];
    else if (what < 0.3) holder.extra = randomValue(r);
    else holder[key] = randomValue(r);
  }
  return r() < 0.03 ? randomValue(r) : obj;
}

describe("schemaCheck", () => {
  test("every schema of schema.ts is compiled, and its valid sample passes", () => {
    for (const [name, schema, sample] of samples) {
      const check = schemaCheck(schema);
      expect(check, name).toBeDefined();
      expect(v.safeParse(schema, sample).success, name).toBe(true);
      expect(check!(sample), name).toBe(true);
    }
  });

  test("random objects pass the compiled check exactly when they pass valibot, and shapeCauses answers as valibot", () => {
    const r = rng(20);
    let failing = 0;
    for (let i = 0; i < 30_000; i++) {
      const [name, schema, sample] = samples[i % samples.length]!;
      const obj = mutated(sample, r);
      const want = v.safeParse(schema, obj).success;
      if (schemaCheck(schema)!(obj) !== want) throw new Error(`${name}: ${JSON.stringify(obj)} valibot ${want}`);
      if (!want) failing++;
      if (i % 10 === 0 && obj && typeof obj === "object" && !Array.isArray(obj)) {
        const causes = shapeCauses(schema, obj as KubeObject);
        expect(causes.length === 0).toBe(want);
      }
    }
    // Both outcomes are well represented.
    expect(failing).toBeGreaterThan(5_000);
    expect(failing).toBeLessThan(25_000);
  });

  test("keys valibot's records skip (__proto__, constructor, prototype) are skipped, an object's own keys are not", () => {
    const labels = JSON.parse('{"metadata":{"labels":{"__proto__":5,"constructor":1,"prototype":[],"ok":"x"}}}');
    expect(v.safeParse(MetaOnlySchema, labels).success).toBe(true);
    expect(schemaCheck(MetaOnlySchema)!(labels)).toBe(true);
    for (const text of ['{"metadata":{"labels":{"a":1}}}', '{"metadata":{"name":5}}', '{"metadata":[]}', "{}"]) {
      const obj = JSON.parse(text);
      expect(schemaCheck(MetaOnlySchema)!(obj)).toBe(v.safeParse(MetaOnlySchema, obj).success);
    }
  });

  test("a schema with a part it does not compile (a default, an unknown action) is left to valibot", () => {
    expect(schemaCheck(v.looseObject({ a: v.optional(v.string(), "x") }))).toBeUndefined();
    expect(schemaCheck(v.looseObject({ a: v.pipe(v.string(), v.minLength(2)) }))).toBeUndefined();
    expect(schemaCheck(v.looseObject({ a: v.nullish(v.string()) }))).toBeUndefined();
    const obj = { metadata: {}, a: "x" } as unknown as KubeObject;
    expect(shapeCauses(v.looseObject({ a: v.pipe(v.string(), v.minLength(2)) }), obj)).toEqual([
      { reason: "FieldValueInvalid", field: "a", message: 'Invalid value: "x": expected >=2' },
    ]);
  });
});
