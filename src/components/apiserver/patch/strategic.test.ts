// Table-driven tests of the strategic merge patch, with cases ported from the
// semantics of apimachinery's strategicpatch tests and what kubectl sends.
import { describe, expect, test } from "bun:test";
import { applyPatch, parsePatchBody, patchTypeFromContentType, PatchError } from "./index.ts";

interface Case {
  name: string;
  kind?: string;
  current: unknown;
  patch: unknown;
  want?: unknown;
  /** The HTTP code of the expected PatchError. */
  error?: 400 | 409 | 422;
}

const c = (name: string, image = "busybox", extra: Record<string, unknown> = {}) => ({ name, image, ...extra });
const pod = (spec: Record<string, unknown>, metadata: Record<string, unknown> = { name: "p" }) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata,
  spec,
});
const deployment = (podSpec: Record<string, unknown>) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "d" },
  spec: { replicas: 1, template: { metadata: { labels: { app: "d" } }, spec: podSpec } },
});

const cases: Case[] = [
  {
    name: "the exact kubectl client-side apply patch changes the image and keeps everything else",
    current: pod(
      {
        containers: [c("c", "busybox", { imagePullPolicy: "Always", command: ["sleep", "3600"] })],
        restartPolicy: "Always",
      },
      { name: "p", annotations: { "kubectl.kubernetes.io/last-applied-configuration": '{"old":true}\n' } },
    ),
    patch: {
      metadata: { annotations: { "kubectl.kubernetes.io/last-applied-configuration": '{"new":true}\n' } },
      spec: { $setElementOrder$containers: [{ name: "c" }], containers: [{ image: "nginx", name: "c" }] },
    },
    want: pod(
      {
        containers: [c("c", "nginx", { imagePullPolicy: "Always", command: ["sleep", "3600"] })],
        restartPolicy: "Always",
      },
      { name: "p", annotations: { "kubectl.kubernetes.io/last-applied-configuration": '{"new":true}\n' } },
    ),
  },
  {
    name: "a map is merged recursively and null deletes a key",
    current: pod({}, { name: "p", labels: { a: "1", b: "2" } }),
    patch: { metadata: { labels: { b: null, c: "3" } } },
    want: pod({}, { name: "p", labels: { a: "1", c: "3" } }),
  },
  {
    name: "null for a field the object lacks changes nothing",
    current: pod({}),
    patch: { metadata: { labels: null } },
    want: pod({}),
  },
  {
    name: "containers merge by name: a container left out of the patch is kept",
    current: pod({ containers: [c("a"), c("b")] }),
    patch: { spec: { containers: [{ name: "b", image: "nginx" }] } },
    want: pod({ containers: [c("a"), c("b", "nginx")] }),
  },
  {
    // Go's mergeSortedSlice puts patch items the live list lacks first when there is no $setElementOrder.
    name: "a new container without $setElementOrder goes before the live ones, as in Kubernetes",
    current: pod({ containers: [c("a")] }),
    patch: { spec: { containers: [c("b")] } },
    want: pod({ containers: [c("b"), c("a")] }),
  },
  {
    name: "$patch: delete in a list removes the element with that key",
    current: pod({ containers: [c("a"), c("b"), c("c")] }),
    patch: { spec: { containers: [{ name: "b", $patch: "delete" }] } },
    want: pod({ containers: [c("a"), c("c")] }),
  },
  {
    name: "$patch: delete of an element that is not there is harmless",
    current: pod({ containers: [c("a")] }),
    patch: { spec: { containers: [{ name: "zz", $patch: "delete" }] } },
    want: pod({ containers: [c("a")] }),
  },
  {
    name: "$patch: replace in a list replaces the whole list",
    current: pod({ containers: [c("a"), c("b")] }),
    patch: { spec: { containers: [c("x"), { $patch: "replace" }] } },
    want: pod({ containers: [c("x")] }),
  },
  {
    name: "$patch: replace in a map replaces the whole map",
    current: pod({}, { name: "p", labels: { a: "1", b: "2" } }),
    patch: { metadata: { labels: { c: "3", $patch: "replace" } } },
    want: pod({}, { name: "p", labels: { c: "3" } }),
  },
  {
    name: "$patch: delete in a map clears the map",
    current: pod({ nodeSelector: { disk: "ssd" } }),
    patch: { spec: { nodeSelector: { $patch: "delete" } } },
    want: pod({ nodeSelector: {} }),
  },
  {
    name: "$setElementOrder reorders a merged list even when the patch list is empty",
    current: pod({ containers: [c("a"), c("b"), c("c")] }),
    patch: { spec: { $setElementOrder$containers: [{ name: "c" }, { name: "a" }, { name: "b" }] } },
    want: pod({ containers: [c("c"), c("a"), c("b")] }),
  },
  {
    name: "$setElementOrder puts patch items in its order and server-only items keep their live place",
    current: pod({ containers: [c("a"), c("b"), c("c")] }),
    patch: {
      spec: {
        $setElementOrder$containers: [{ name: "c" }, { name: "a" }],
        containers: [{ name: "a", image: "nginx" }],
      },
    },
    want: pod({ containers: [c("b"), c("c"), c("a", "nginx")] }),
  },
  {
    name: "$setElementOrder with a new element places it where the order says",
    current: pod({ containers: [c("a"), c("c")] }),
    patch: {
      spec: { $setElementOrder$containers: [{ name: "a" }, { name: "b" }, { name: "c" }], containers: [c("b")] },
    },
    want: pod({ containers: [c("a"), c("b"), c("c")] }),
  },
  {
    name: "$setElementOrder for a list the object lacks yields the patch list in that order",
    current: pod({ containers: [c("a")] }),
    patch: {
      spec: {
        $setElementOrder$volumes: [{ name: "v2" }, { name: "v1" }],
        volumes: [
          { name: "v2", emptyDir: {} },
          { name: "v1", emptyDir: {} },
        ],
      },
    },
    want: pod({
      containers: [c("a")],
      volumes: [
        { name: "v2", emptyDir: {} },
        { name: "v1", emptyDir: {} },
      ],
    }),
  },
  {
    name: "$setElementOrder that disagrees with the order of the patch list is a bad request",
    current: pod({ containers: [c("a"), c("b")] }),
    patch: { spec: { $setElementOrder$containers: [{ name: "a" }, { name: "b" }], containers: [c("b"), c("a")] } },
    error: 400,
  },
  {
    name: "a deleted element may accompany $setElementOrder",
    current: pod({ containers: [c("a"), c("b"), c("c")] }),
    patch: {
      spec: {
        $setElementOrder$containers: [{ name: "c" }, { name: "a" }],
        containers: [{ name: "b", $patch: "delete" }],
      },
    },
    want: pod({ containers: [c("c"), c("a")] }),
  },
  {
    name: "finalizers merge as a set of primitives",
    current: pod({}, { name: "p", finalizers: ["a", "b"] }),
    patch: { metadata: { finalizers: ["b", "c"] } },
    want: pod({}, { name: "p", finalizers: ["a", "b", "c"] }),
  },
  {
    name: "$deleteFromPrimitiveList removes values from a set list",
    current: pod({}, { name: "p", finalizers: ["a", "b", "c"] }),
    patch: { metadata: { $deleteFromPrimitiveList$finalizers: ["b"] } },
    want: pod({}, { name: "p", finalizers: ["a", "c"] }),
  },
  {
    name: "$deleteFromPrimitiveList for a list the object lacks adds nothing",
    current: pod({}),
    patch: { metadata: { $deleteFromPrimitiveList$finalizers: ["b"] } },
    want: pod({}),
  },
  {
    name: "$setElementOrder reorders a primitive set list",
    current: pod({}, { name: "p", finalizers: ["a", "b", "c"] }),
    patch: { metadata: { $setElementOrder$finalizers: ["c", "b", "a"] } },
    want: pod({}, { name: "p", finalizers: ["c", "b", "a"] }),
  },
  {
    name: "$retainKeys drops the keys of the live map it does not list",
    kind: "Deployment",
    current: { spec: { strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1 } } } },
    patch: { spec: { strategy: { $retainKeys: ["type"], type: "Recreate" } } },
    want: { spec: { strategy: { type: "Recreate" } } },
  },
  {
    name: "$retainKeys inside a merged list element keeps only the listed volume source",
    current: pod({ volumes: [{ name: "v", emptyDir: {} }] }),
    patch: { spec: { volumes: [{ name: "v", hostPath: { path: "/x" }, $retainKeys: ["hostPath", "name"] }] } },
    want: pod({ volumes: [{ name: "v", hostPath: { path: "/x" } }] }),
  },
  {
    name: "$retainKeys refuses a patch that sets a key it does not retain",
    kind: "Deployment",
    current: { spec: { strategy: { type: "RollingUpdate" } } },
    patch: { spec: { strategy: { $retainKeys: ["type"], rollingUpdate: { maxSurge: 1 } } } },
    error: 400,
  },
  {
    name: "lists without a strategy are replaced: tolerations and command",
    current: pod({
      containers: [c("a", "busybox", { command: ["sleep", "1"] })],
      tolerations: [{ key: "x", operator: "Exists" }],
    }),
    patch: {
      spec: { containers: [{ name: "a", command: ["true"] }], tolerations: [{ key: "y", operator: "Exists" }] },
    },
    want: pod({
      containers: [c("a", "busybox", { command: ["true"] })],
      tolerations: [{ key: "y", operator: "Exists" }],
    }),
  },
  {
    name: "env merges by name inside a Deployment's pod template",
    kind: "Deployment",
    current: deployment({
      containers: [
        c("a", "busybox", {
          env: [
            { name: "X", value: "1" },
            { name: "Y", value: "2" },
          ],
        }),
      ],
    }),
    patch: { spec: { template: { spec: { containers: [{ name: "a", env: [{ name: "Y", value: "3" }] }] } } } },
    want: deployment({
      containers: [
        c("a", "busybox", {
          env: [
            { name: "X", value: "1" },
            { name: "Y", value: "3" },
          ],
        }),
      ],
    }),
  },
  {
    name: "container ports merge by containerPort",
    current: pod({ containers: [c("a", "busybox", { ports: [{ containerPort: 80 }, { containerPort: 443 }] })] }),
    patch: { spec: { containers: [{ name: "a", ports: [{ containerPort: 80, name: "http" }] }] } },
    want: pod({
      containers: [c("a", "busybox", { ports: [{ containerPort: 80, name: "http" }, { containerPort: 443 }] })],
    }),
  },
  {
    name: "volume mounts merge by mountPath",
    current: pod({ containers: [c("a", "busybox", { volumeMounts: [{ name: "v", mountPath: "/a" }] })] }),
    patch: { spec: { containers: [{ name: "a", volumeMounts: [{ name: "w", mountPath: "/b" }] }] } },
    want: pod({
      containers: [
        c("a", "busybox", {
          volumeMounts: [
            { name: "w", mountPath: "/b" },
            { name: "v", mountPath: "/a" },
          ],
        }),
      ],
    }),
  },
  {
    name: "init containers of a CronJob's job template merge by name",
    kind: "CronJob",
    current: { spec: { jobTemplate: { spec: { template: { spec: { initContainers: [c("a"), c("b")] } } } } } },
    patch: { spec: { jobTemplate: { spec: { template: { spec: { initContainers: [{ name: "a", image: "x" }] } } } } } },
    want: { spec: { jobTemplate: { spec: { template: { spec: { initContainers: [c("a", "x"), c("b")] } } } } } },
  },
  {
    name: "ownerReferences merge by uid",
    kind: "ReplicaSet",
    current: {
      metadata: {
        ownerReferences: [
          { uid: "1", name: "a" },
          { uid: "2", name: "b" },
        ],
      },
    },
    patch: { metadata: { ownerReferences: [{ uid: "2", controller: true }] } },
    want: {
      metadata: {
        ownerReferences: [
          { uid: "1", name: "a" },
          { uid: "2", name: "b", controller: true },
        ],
      },
    },
  },
  {
    name: "node conditions and addresses merge by type",
    kind: "Node",
    current: {
      status: {
        conditions: [
          { type: "Ready", status: "False" },
          { type: "DiskPressure", status: "False" },
        ],
        addresses: [{ type: "InternalIP", address: "10.0.0.1" }],
      },
    },
    patch: {
      status: {
        conditions: [{ type: "Ready", status: "True" }],
        addresses: [{ type: "Hostname", address: "n1" }],
      },
    },
    want: {
      status: {
        conditions: [
          { type: "Ready", status: "True" },
          { type: "DiskPressure", status: "False" },
        ],
        addresses: [
          { type: "Hostname", address: "n1" },
          { type: "InternalIP", address: "10.0.0.1" },
        ],
      },
    },
  },
  {
    name: "node taints are atomic and are replaced",
    kind: "Node",
    current: { spec: { taints: [{ key: "a", effect: "NoSchedule" }] } },
    patch: { spec: { taints: [{ key: "b", effect: "NoSchedule" }] } },
    want: { spec: { taints: [{ key: "b", effect: "NoSchedule" }] } },
  },
  {
    name: "Service ports merge by port",
    kind: "Service",
    current: { spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443 }] } },
    patch: { spec: { ports: [{ port: 80, targetPort: 9090 }] } },
    want: { spec: { ports: [{ port: 80, targetPort: 9090 }, { port: 443 }] } },
  },
  {
    name: "Endpoints subsets are atomic",
    kind: "Endpoints",
    current: { subsets: [{ addresses: [{ ip: "1.1.1.1" }] }] },
    patch: { subsets: [{ addresses: [{ ip: "2.2.2.2" }] }] },
    want: { subsets: [{ addresses: [{ ip: "2.2.2.2" }] }] },
  },
  {
    name: "pod status conditions merge by type",
    current: { status: { phase: "Pending", conditions: [{ type: "PodScheduled", status: "True" }] } },
    patch: { status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] } },
    want: {
      status: {
        phase: "Running",
        conditions: [
          { type: "Ready", status: "True" },
          { type: "PodScheduled", status: "True" },
        ],
      },
    },
  },
  {
    name: "directives in a field the object lacks are applied, not stored",
    current: { metadata: { name: "p" } },
    patch: {
      spec: {
        $setElementOrder$containers: [{ name: "a" }],
        containers: [{ name: "a", image: "x", env: [{ name: "Z", $patch: "delete" }] }],
      },
    },
    want: { metadata: { name: "p" }, spec: { containers: [{ name: "a", image: "x", env: [] }] } },
  },
  {
    name: "a value of another type replaces the live one",
    current: pod({ containers: [c("a")] }, { name: "p", labels: { a: "1" } }),
    patch: { metadata: { labels: "oops" } },
    want: pod({ containers: [c("a")] }, { name: "p", labels: "oops" }),
  },
  {
    name: "an element of a merged list without its merge key is unprocessable",
    current: pod({ containers: [c("a")] }),
    patch: { spec: { containers: [{ image: "nginx" }] } },
    error: 422,
  },
  {
    name: "an unknown $patch directive is a bad request",
    current: pod({}),
    patch: { spec: { $patch: "explode" } },
    error: 400,
  },
  {
    name: "$patch: merge in a list is not supported",
    current: pod({ containers: [c("a")] }),
    patch: { spec: { containers: [{ $patch: "merge" }] } },
    error: 422,
  },
  {
    name: "a list of lists in a merged list is unprocessable",
    current: pod({}, { name: "p", finalizers: ["a"] }),
    patch: { metadata: { finalizers: [["b"]] } },
    error: 422,
  },
  {
    name: "a patch that is not an object is a bad request",
    current: pod({}),
    patch: [{ op: "add" }],
    error: 400,
  },
  {
    name: "unknown kinds still merge metadata and status conditions",
    kind: "Widget",
    current: { metadata: { finalizers: ["a"] }, status: { conditions: [{ type: "A", status: "True" }] } },
    patch: { metadata: { finalizers: ["b"] }, status: { conditions: [{ type: "B", status: "True" }] } },
    want: {
      metadata: { finalizers: ["b", "a"] },
      status: {
        conditions: [
          { type: "B", status: "True" },
          { type: "A", status: "True" },
        ],
      },
    },
  },
];

/** Test tables write "$setElementOrder$x" for readability; the wire form is "$setElementOrder/x". */
function wire(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(wire);
  if (typeof v !== "object" || v === null) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k.replace(/^(\$[A-Za-z]+)\$/, "$1/"), wire(x)]));
}

describe("strategic merge patch", () => {
  for (const tc of cases) {
    test(tc.name, () => {
      const current = structuredClone(tc.current);
      const patch = wire(tc.patch);
      const patchCopy = structuredClone(patch);
      const run = () => applyPatch(tc.kind ?? "Pod", current, patch, "strategic");
      if (tc.error) {
        let err: unknown;
        try {
          run();
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(PatchError);
        expect((err as PatchError).code).toBe(tc.error);
      } else {
        expect(run()).toEqual(tc.want);
      }
      // Inputs are never modified.
      expect(current).toEqual(tc.current);
      expect(patch).toEqual(patchCopy);
    });
  }
});

describe("patches as kubectl sends them (wire JSON)", () => {
  const live = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "d", annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{}" } },
    spec: {
      replicas: 1,
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } },
      template: {
        spec: {
          containers: [
            {
              name: "c",
              image: "busybox",
              env: [
                { name: "A", value: "1" },
                { name: "B", value: "2" },
              ],
            },
          ],
        },
      },
    },
  };
  const run = (body: string) => {
    const type = patchTypeFromContentType("application/strategic-merge-patch+json")!;
    return applyPatch("Deployment", live, parsePatchBody(type, body), type) as typeof live;
  };

  test("the client-side apply patch recorded in KUBECTL.md, verbatim, sets the image and the annotation", () => {
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p", annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{}" } },
      spec: { containers: [{ name: "c", image: "busybox", imagePullPolicy: "Always" }] },
    };
    const body =
      '{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\\"apiVersion\\":\\"v1\\"}\\n"}},' +
      '"spec":{"$setElementOrder/containers":[{"name":"c"}],"containers":[{"image":"nginx","name":"c"}]}}';
    const type = patchTypeFromContentType("application/strategic-merge-patch+json")!;
    expect(applyPatch("Pod", pod, parsePatchBody(type, body), type)).toEqual({
      ...pod,
      metadata: {
        name: "p",
        annotations: { "kubectl.kubernetes.io/last-applied-configuration": '{"apiVersion":"v1"}\n' },
      },
      spec: { containers: [{ name: "c", image: "nginx", imagePullPolicy: "Always" }] },
    });
  });

  test("removing an env var from the configuration deletes it and keeps the order", () => {
    const out = run(
      '{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"c"}],"containers":[{"$setElementOrder/env":[{"name":"A"}],"env":[{"$patch":"delete","name":"B"}],"name":"c"}]}}}}',
    );
    expect(out.spec.template.spec.containers[0]!.env).toEqual([{ name: "A", value: "1" }]);
  });

  test("adding a container after the existing one lands where $setElementOrder says", () => {
    const out = run(
      '{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"c"},{"name":"d"}],"containers":[{"image":"redis","name":"d"}]}}}}',
    );
    expect(out.spec.template.spec.containers.map((c) => c.name)).toEqual(["c", "d"]);
  });

  test("switching the strategy to Recreate with $retainKeys drops rollingUpdate", () => {
    const out = run('{"spec":{"strategy":{"$retainKeys":["type"],"rollingUpdate":null,"type":"Recreate"}}}');
    expect(out.spec.strategy).toEqual({ type: "Recreate" } as typeof live.spec.strategy);
  });

  test("kubectl label's merge of labels keeps the rest of the object", () => {
    const out = run('{"metadata":{"labels":{"tier":"web"}}}') as typeof live & { metadata: { labels: unknown } };
    expect(out.metadata.labels).toEqual({ tier: "web" });
    expect(out.spec).toEqual(live.spec);
  });
});
