// The strategic-merge-patch strategy table: which lists are merged (and by which key)
// instead of replaced, as the Go struct tags `patchStrategy:"merge" patchMergeKey:"..."`
// declare them in k8s.io/api. Only fields with a strategy (or on the way to one) are
// listed; any field not found here is handled generically: objects merge
// recursively, lists are replaced (atomic), as apimachinery does for untagged fields.

/** What the patch engines need to know about one field (or the root object). */
export interface Shape {
  /** Known fields of this object, or of each element when this is a list. */
  fields?: Record<string, Shape>;
  /** `patchStrategy:"merge"`: a list of objects merged by `key`, or (no key) a set of primitives. */
  merge?: { key?: string };
}

/** A list merged by `key`, whose elements have the given fields. */
const keyed = (key: string, fields?: Record<string, Shape>): Shape => ({ merge: { key }, fields });
/** A list of primitives merged as a set (e.g. finalizers). */
const set: Shape = { merge: {} };
const byType = keyed("type");

const objectMeta: Shape = {
  fields: {
    finalizers: set,
    ownerReferences: keyed("uid"),
  },
};

const container: Record<string, Shape> = {
  ports: keyed("containerPort"),
  env: keyed("name"),
  volumeMounts: keyed("mountPath"),
  volumeDevices: keyed("devicePath"),
  // envFrom, resizePolicy, args, command: atomic.
};

const podSpec: Shape = {
  fields: {
    containers: keyed("name", container),
    initContainers: keyed("name", container),
    ephemeralContainers: keyed("name", container),
    // `merge,retainKeys` in Go; $retainKeys directives are honoured wherever they appear.
    volumes: keyed("name"),
    imagePullSecrets: keyed("name"),
    hostAliases: keyed("ip"),
    topologySpreadConstraints: keyed("topologyKey"),
    schedulingGates: keyed("name"),
    resourceClaims: keyed("name"),
    // tolerations, readinessGates: atomic (no patchStrategy tag).
  },
};

const podTemplateSpec: Shape = { fields: { metadata: objectMeta, spec: podSpec } };

const podStatus: Shape = {
  fields: {
    conditions: byType,
    podIPs: keyed("ip"),
    hostIPs: keyed("ip"),
  },
};

/** Status of the workload kinds: only `conditions` has a strategy. */
const conditionsStatus: Shape = { fields: { conditions: byType } };

const withTemplate = (extra: Record<string, Shape> = {}): Shape => ({
  fields: { template: podTemplateSpec, ...extra },
});

const meta = (spec?: Shape, status: Shape = conditionsStatus): Shape => ({
  fields: { metadata: objectMeta, ...(spec ? { spec } : {}), status },
});

const byKind: Record<string, Shape> = {
  Pod: meta(podSpec, podStatus),
  PodTemplate: { fields: { metadata: objectMeta, template: podTemplateSpec } },
  ReplicationController: meta(withTemplate()),
  ReplicaSet: meta(withTemplate()),
  Deployment: meta(withTemplate()),
  DaemonSet: meta(withTemplate()),
  StatefulSet: meta(withTemplate()),
  Job: meta(withTemplate()),
  CronJob: meta({ fields: { jobTemplate: { fields: { metadata: objectMeta, spec: withTemplate() } } } }),
  Service: meta({ fields: { ports: keyed("port") } }),
  Node: meta(
    { fields: { podCIDRs: set } }, // taints: atomic
    { fields: { conditions: byType, addresses: keyed("type") } },
  ),
  Namespace: meta(),
  // Endpoints subsets, ConfigMap/Secret data, Event fields: no strategies beyond metadata.
};

/** Used for kinds not listed above: metadata and status conditions still merge. */
const generic: Shape = meta(undefined);

/** The root shape for a kind; unknown kinds get the generic one. */
export function shapeFor(kind: string): Shape {
  return byKind[kind] ?? generic;
}

/** The shape of a field inside an object of the given shape (undefined: no strategy known). */
export function fieldShape(parent: Shape | undefined, field: string): Shape | undefined {
  return parent?.fields?.[field];
}

/** The shape of each element of a list field. */
export function elementShape(list: Shape | undefined): Shape | undefined {
  return list?.fields ? { fields: list.fields } : undefined;
}
