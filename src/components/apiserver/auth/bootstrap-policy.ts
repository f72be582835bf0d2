// The default roles and bindings kube-apiserver reconciles at every start
// (plugin/pkg/auth/authorizer/rbac/bootstrappolicy: policy.go, controller_policy.go,
// namespace_policy.go), written compactly: r("get,list", ",apps", "pods") is a rule with verbs
// get and list on pods in the core ("") and apps groups. Roles for this cluster's own controllers
// that upstream does not have (event TTL, local-path provisioner, ingress) follow the same shape.
import type { PolicyRule } from "./rules.ts";

const split = (s: string) => s.split(",");
export const r = (verbs: string, groups: string, resources: string, names?: string): PolicyRule => ({
  apiGroups: split(groups),
  resources: split(resources),
  ...(names ? { resourceNames: split(names) } : {}),
  verbs: split(verbs),
});
const url = (verbs: string, urls: string): PolicyRule => ({ nonResourceURLs: split(urls), verbs: split(verbs) });

const READ = "get,list,watch";
const WRITE = "create,delete,deletecollection,patch,update";
const events = r("create,update,patch", ",events.k8s.io", "events");
/** A controller's own kind: the verbs on it, and updates of its status and finalizers. */
const owns = (verbs: string, groups: string, resource: string): PolicyRule[] => [
  r(verbs, groups, resource),
  r("update", groups, `${resource}/status`),
  r("update", groups, `${resource}/finalizers`),
];
/** Checks other callers' credentials and permissions (as system:auth-delegator). */
const delegates = [
  r("create", "authentication.k8s.io", "tokenreviews"),
  r("create", "authorization.k8s.io", "subjectaccessreviews"),
];
/** Leader election on a Lease named after the component. */
const leaderLease = (name: string) => [
  r("create", "coordination.k8s.io", "leases"),
  r("get,update", "coordination.k8s.io", "leases", name),
];
const approver = (signer: string): BootstrapRole => ({
  name: `system:certificates.k8s.io:${signer}-approver`,
  rules: [r("approve", "certificates.k8s.io", "signers", `kubernetes.io/${signer}`)],
});

export interface BootstrapRole {
  name: string;
  rules: PolicyRule[];
  labels?: Record<string, string>;
  aggregateFrom?: string;
}
export interface BootstrapBinding {
  name: string;
  role: string;
  subjects: { kind: "User" | "Group" | "ServiceAccount"; name: string; namespace?: string }[];
}

const agg = (to: string) => ({ [`rbac.authorization.k8s.io/aggregate-to-${to}`]: "true" });

export const CLUSTER_ROLES: BootstrapRole[] = [
  { name: "cluster-admin", rules: [r("*", "*", "*"), url("*", "*")] },
  { name: "admin", rules: [], aggregateFrom: "admin" },
  { name: "edit", rules: [], aggregateFrom: "edit", labels: agg("admin") },
  { name: "view", rules: [], aggregateFrom: "view", labels: agg("edit") },
  {
    name: "system:aggregate-to-admin",
    labels: agg("admin"),
    rules: [
      r("create", "authorization.k8s.io", "localsubjectaccessreviews"),
      r(`${WRITE},get,list,watch`, "rbac.authorization.k8s.io", "rolebindings,roles"),
    ],
  },
  {
    name: "system:aggregate-to-edit",
    labels: agg("edit"),
    rules: [
      r(READ, "", "pods/attach,pods/exec,pods/portforward,pods/proxy,secrets,services/proxy"),
      r("impersonate", "", "serviceaccounts"),
      r("create,delete,deletecollection,patch,update", "", "pods,pods/attach,pods/exec,pods/portforward,pods/proxy"),
      r("create", "", "pods/eviction"),
      r(
        WRITE,
        "",
        "configmaps,events,persistentvolumeclaims,replicationcontrollers,replicationcontrollers/scale,secrets,serviceaccounts,services,services/proxy",
      ),
      r("create", "", "serviceaccounts/token"),
      r(
        WRITE,
        "apps",
        "daemonsets,deployments,deployments/rollback,deployments/scale,replicasets,replicasets/scale,statefulsets,statefulsets/scale",
      ),
      r(WRITE, "autoscaling", "horizontalpodautoscalers"),
      r(WRITE, "batch", "cronjobs,jobs"),
      r(
        WRITE,
        "extensions",
        "daemonsets,deployments,deployments/rollback,deployments/scale,ingresses,networkpolicies,replicasets,replicasets/scale,replicationcontrollers/scale",
      ),
      r(WRITE, "policy", "poddisruptionbudgets"),
      r(WRITE, "networking.k8s.io", "ingresses,networkpolicies"),
      r("create,delete,deletecollection,get,list,patch,update,watch", "coordination.k8s.io", "leases"),
    ],
  },
  {
    name: "system:aggregate-to-view",
    labels: agg("view"),
    rules: [
      r(
        READ,
        "",
        "configmaps,endpoints,persistentvolumeclaims,persistentvolumeclaims/status,pods,replicationcontrollers,replicationcontrollers/scale,serviceaccounts,services,services/status",
      ),
      r(
        READ,
        "",
        "bindings,events,limitranges,namespaces/status,pods/log,pods/status,replicationcontrollers/status,resourcequotas,resourcequotas/status",
      ),
      r(READ, "", "namespaces"),
      r(READ, "discovery.k8s.io", "endpointslices"),
      r(
        READ,
        "apps",
        "controllerrevisions,daemonsets,daemonsets/status,deployments,deployments/scale,deployments/status,replicasets,replicasets/scale,replicasets/status,statefulsets,statefulsets/scale,statefulsets/status",
      ),
      r(READ, "autoscaling", "horizontalpodautoscalers,horizontalpodautoscalers/status"),
      r(READ, "batch", "cronjobs,cronjobs/status,jobs,jobs/status"),
      r(
        READ,
        "extensions",
        "daemonsets,daemonsets/status,deployments,deployments/scale,deployments/status,ingresses,ingresses/status,networkpolicies,replicasets,replicasets/scale,replicasets/status,replicationcontrollers/scale",
      ),
      r(READ, "policy", "poddisruptionbudgets,poddisruptionbudgets/status"),
      r(READ, "networking.k8s.io", "ingresses,ingresses/status,networkpolicies"),
    ],
  },
  { name: "system:auth-delegator", rules: delegates },
  {
    name: "system:basic-user",
    rules: [
      r("create", "authorization.k8s.io", "selfsubjectaccessreviews,selfsubjectrulesreviews"),
      r("create", "authentication.k8s.io", "selfsubjectreviews"),
    ],
  },
  {
    name: "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
    rules: [r("create", "certificates.k8s.io", "certificatesigningrequests/nodeclient")],
  },
  {
    name: "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
    rules: [r("create", "certificates.k8s.io", "certificatesigningrequests/selfnodeclient")],
  },
  approver("kube-apiserver-client"),
  approver("kube-apiserver-client-kubelet"),
  approver("kubelet-serving"),
  approver("legacy-unknown"),
  {
    name: "system:discovery",
    rules: [url("get", "/api,/api/*,/apis,/apis/*,/healthz,/livez,/openapi,/openapi/*,/readyz,/version,/version/")],
  },
  {
    name: "system:heapster",
    rules: [r(READ, "", "events,namespaces,nodes,pods"), r(READ, "extensions", "deployments")],
  },
  { name: "system:kube-aggregator", rules: [r(READ, "", "endpoints,services")] },
  {
    name: "system:kube-controller-manager",
    rules: [
      events,
      ...leaderLease("kube-controller-manager"),
      r("create", "", "secrets,serviceaccounts"),
      r("delete", "", "secrets"),
      r("get", "", "configmaps,namespaces,secrets,serviceaccounts"),
      r("update", "", "secrets,serviceaccounts"),
      ...delegates,
      r("list,watch", "*", "*"),
      r("create", "", "serviceaccounts/token"),
    ],
  },
  { name: "system:kube-dns", rules: [r("list,watch", "", "endpoints,services")] },
  {
    name: "system:kube-scheduler",
    rules: [
      events,
      ...leaderLease("kube-scheduler"),
      r(READ, "", "nodes"),
      r("delete,get,list,watch", "", "pods"),
      r("create", "", "bindings,pods/binding"),
      r("patch,update", "", "pods/status"),
      r(READ, "", "replicationcontrollers,services"),
      r(READ, "apps,extensions", "replicasets"),
      r(READ, "apps", "statefulsets"),
      r(READ, "policy", "poddisruptionbudgets"),
      r(READ, "", "persistentvolumeclaims,persistentvolumes"),
      ...delegates,
      r(READ, "storage.k8s.io", "csinodes"),
      r(READ, "", "namespaces"),
      r(READ, "storage.k8s.io", "csidrivers"),
      r(READ, "storage.k8s.io", "csistoragecapacities"),
    ],
  },
  {
    name: "system:kubelet-api-admin",
    rules: [
      r(READ, "", "nodes"),
      r("proxy", "", "nodes"),
      r("*", "", "nodes/log,nodes/metrics,nodes/proxy,nodes/stats"),
    ],
  },
  {
    name: "system:monitoring",
    rules: [url("get", "/healthz,/healthz/*,/livez,/livez/*,/metrics,/metrics/slis,/readyz,/readyz/*")],
  },
  {
    name: "system:node",
    rules: [
      r("create", "authentication.k8s.io", "tokenreviews"),
      r("create", "authorization.k8s.io", "localsubjectaccessreviews,subjectaccessreviews"),
      r(READ, "", "services"),
      r("create,get,list,watch", "", "nodes"),
      r("patch,update", "", "nodes/status"),
      r("patch,update", "", "nodes"),
      r("create,patch,update", "", "events"),
      r(READ, "", "pods"),
      r("create,delete", "", "pods"),
      r("patch,update", "", "pods/status"),
      r("create", "", "pods/eviction"),
      r(READ, "", "configmaps,secrets"),
      r("get", "", "persistentvolumeclaims,persistentvolumes"),
      r("get", "", "endpoints"),
      r("create,get,list,watch", "certificates.k8s.io", "certificatesigningrequests"),
      r("create,delete,get,patch,update", "coordination.k8s.io", "leases"),
      r("get", "storage.k8s.io", "volumeattachments"),
      r("create", "", "serviceaccounts/token"),
      r("get,patch,update", "", "persistentvolumeclaims/status"),
      r(READ, "storage.k8s.io", "csidrivers"),
      r("create,delete,get,patch,update", "storage.k8s.io", "csinodes"),
      r(READ, "node.k8s.io", "runtimeclasses"),
    ],
  },
  {
    name: "system:node-bootstrapper",
    rules: [r("create,get,list,watch", "certificates.k8s.io", "certificatesigningrequests")],
  },
  { name: "system:node-problem-detector", rules: [r("get", "", "nodes"), r("patch", "", "nodes/status"), events] },
  {
    name: "system:node-proxier",
    rules: [
      r("list,watch", "", "endpoints,services"),
      r(READ, "", "nodes"),
      events,
      r("list,watch", "discovery.k8s.io", "endpointslices"),
    ],
  },
  {
    name: "system:persistent-volume-provisioner",
    rules: [
      r("create,delete,get,list,watch", "", "persistentvolumes"),
      r("get,list,update,watch", "", "persistentvolumeclaims"),
      r(READ, "storage.k8s.io", "storageclasses"),
      r("watch", "", "events"),
      events,
    ],
  },
  { name: "system:public-info-viewer", rules: [url("get", "/healthz,/livez,/readyz,/version,/version/")] },
  {
    name: "system:service-account-issuer-discovery",
    rules: [url("get", "/.well-known/openid-configuration,/openid/v1/jwks")],
  },
  {
    name: "system:volume-scheduler",
    rules: [
      r("get,list,patch,update,watch", "", "persistentvolumes"),
      r(READ, "storage.k8s.io", "storageclasses"),
      r("get,list,patch,update,watch", "", "persistentvolumeclaims"),
    ],
  },
  // This cluster's ingress controller (one per cluster, like ingress-nginx's role).
  {
    name: "system:kube-ingress",
    rules: [
      r(READ, "networking.k8s.io", "ingresses,ingressclasses"),
      r("create", "networking.k8s.io", "ingressclasses"),
      r(READ, "", "services,endpoints"),
      r("update,patch", "networking.k8s.io", "ingresses/status"),
      events,
    ],
  },
];

/** system:controller:NAME roles, each bound to the service account kube-system/NAME. */
export const CONTROLLER_ROLES: BootstrapRole[] = [
  {
    name: "clusterrole-aggregation-controller",
    rules: [r("escalate,get,list,watch,update,patch", "rbac.authorization.k8s.io", "clusterroles")],
  },
  {
    name: "cronjob-controller",
    rules: [
      r("get,list,watch,update", "batch", "cronjobs"),
      r("get,list,watch,create,update,delete,patch", "batch", "jobs"),
      r("update", "batch", "cronjobs/status"),
      r("update", "batch", "cronjobs/finalizers"),
      r("list,watch,delete", "", "pods"),
      events,
    ],
  },
  {
    name: "daemon-set-controller",
    rules: [
      ...owns(READ, "extensions,apps", "daemonsets"),
      r("list,watch", "", "nodes"),
      r("list,watch,create,delete,patch", "", "pods"),
      r("create", "", "pods/binding"),
      r("get,list,watch,create,delete,update,patch", "apps", "controllerrevisions"),
      events,
    ],
  },
  {
    name: "deployment-controller",
    rules: [
      ...owns("get,list,watch,update", "extensions,apps", "deployments"),
      r("get,list,watch,create,update,patch,delete", "apps,extensions", "replicasets"),
      r("get,list,watch,update", "", "pods"),
      events,
      // Not upstream: this controller writes the revision annotation and status with merge
      // patches, and scales ReplicaSets through their scale subresource.
      r("patch", "apps", "deployments,deployments/status,replicasets/scale"),
    ],
  },
  {
    name: "disruption-controller",
    rules: [
      r(READ, "extensions,apps", "deployments"),
      r(READ, "apps,extensions", "replicasets"),
      r(READ, "", "replicationcontrollers"),
      r(READ, "policy", "poddisruptionbudgets"),
      r(READ, "apps", "statefulsets"),
      r("update", "policy", "poddisruptionbudgets/status"),
      r("patch,update", "", "pods/status"),
      r("get", "*", "*/scale"),
      events,
    ],
  },
  {
    name: "endpoint-controller",
    rules: [
      r(READ, "", "services,pods"),
      r("get,list,watch,create,update,delete", "", "endpoints"),
      r("create", "", "endpoints/restricted"),
      events,
    ],
  },
  { name: "generic-garbage-collector", rules: [r("get,list,watch,patch,update,delete", "*", "*"), events] },
  {
    name: "horizontal-pod-autoscaler",
    rules: [
      r(READ, "autoscaling", "horizontalpodautoscalers"),
      r("update", "autoscaling", "horizontalpodautoscalers/status"),
      r("get,update", "*", "*/scale"),
      // Not upstream: this controller sets replicas with a merge patch of the scale subresource.
      r("patch", "*", "*/scale"),
      r("list,watch", "", "pods"),
      r("list,watch", "metrics.k8s.io", "pods"),
      r(READ, "custom.metrics.k8s.io", "*"),
      r(READ, "external.metrics.k8s.io", "*"),
      events,
    ],
  },
  {
    name: "job-controller",
    rules: [
      ...owns("get,list,watch,update,patch", "batch", "jobs"),
      r("list,watch,create,delete,patch", "", "pods"),
      events,
    ],
  },
  {
    name: "namespace-controller",
    rules: [
      r("get,list,watch,delete", "", "namespaces"),
      r("update", "", "namespaces/finalize,namespaces/status"),
      r("get,list,watch,delete,deletecollection", "*", "*"),
    ],
  },
  {
    name: "node-controller",
    rules: [
      r("get,list,watch,update,delete,patch", "", "nodes"),
      r("patch,update", "", "nodes/status"),
      r("patch,update", "", "pods/status"),
      r("list,watch,get,delete", "", "pods"),
      events,
    ],
  },
  {
    name: "persistent-volume-binder",
    rules: [
      r("get,list,watch,update,create,delete", "", "persistentvolumes"),
      r("update", "", "persistentvolumes/status"),
      r("get,list,watch,update", "", "persistentvolumeclaims"),
      r("update", "", "persistentvolumeclaims/status"),
      r("list,watch,get,create,delete", "", "pods"),
      r(READ, "storage.k8s.io", "storageclasses"),
      r("list,watch", "", "nodes"),
      events,
      r("watch", "", "events"),
      r("get", "", "services"),
    ],
  },
  {
    name: "replicaset-controller",
    rules: [
      ...owns("get,list,watch,update", "apps,extensions", "replicasets"),
      r("list,watch,patch,create,delete", "", "pods"),
      events,
    ],
  },
  {
    name: "replication-controller",
    rules: [
      ...owns("get,list,watch,update", "", "replicationcontrollers"),
      r("list,watch,patch,create,delete", "", "pods"),
      events,
    ],
  },
  {
    name: "resourcequota-controller",
    rules: [r("list,watch", "*", "*"), r("update", "", "resourcequotas/status"), events],
  },
  { name: "service-account-controller", rules: [r("create", "", "serviceaccounts"), events] },
  // Upstream's cloud service controller; here the proxy's LoadBalancer address writer acts as it.
  {
    name: "service-controller",
    rules: [
      r("get,list,watch", "", "services"),
      r("patch,update", "", "services/status"),
      r("list,watch", "", "nodes"),
      events,
    ],
  },
  {
    name: "statefulset-controller",
    rules: [
      r("list,watch", "", "pods"),
      ...owns(READ, "apps", "statefulsets"),
      r("get,create,delete,update,patch", "", "pods"),
      r("get,create,delete,update,patch,list,watch", "apps", "controllerrevisions"),
      r("get,create,list,watch", "", "persistentvolumeclaims"),
      r("update,delete", "", "persistentvolumeclaims"),
      r("update", "", "pods/finalizers"),
      events,
    ],
  },
  { name: "root-ca-cert-publisher", rules: [r("create,update", "", "configmaps"), events] },
  // Not upstream: Kubernetes expires events with etcd leases; here a controller deletes them.
  { name: "event-ttl-controller", rules: [r("list,watch,delete", "", "events")] },
  // Not upstream: the local-path provisioner (as in k3s) makes a volume per claim.
  {
    name: "local-path-provisioner",
    rules: [
      r("get,list,watch,create,delete,update,patch", "", "persistentvolumes"),
      r("update,patch", "", "persistentvolumes/status,persistentvolumeclaims/status"),
      r("get,list,watch,update,patch", "", "persistentvolumeclaims"),
      r("get,list,watch,create", "storage.k8s.io", "storageclasses"),
      r("list,watch", "", "pods"),
      events,
    ],
  },
].map((c) => ({ ...c, name: `system:controller:${c.name}` }));

const group = (name: string) => ({ kind: "Group" as const, name });
const user = (name: string) => ({ kind: "User" as const, name });
const kubeSystemSa = (name: string) => ({ kind: "ServiceAccount" as const, name, namespace: "kube-system" });
/** A binding named after its role. */
const binding = (role: string, ...subjects: BootstrapBinding["subjects"]): BootstrapBinding => ({
  name: role,
  role,
  subjects,
});

export const CLUSTER_ROLE_BINDINGS: BootstrapBinding[] = [
  binding("cluster-admin", group("system:masters")),
  binding("system:monitoring", group("system:monitoring")),
  binding("system:discovery", group("system:authenticated")),
  binding("system:basic-user", group("system:authenticated")),
  binding("system:public-info-viewer", group("system:authenticated"), group("system:unauthenticated")),
  binding("system:node-proxier", user("system:kube-proxy")),
  binding("system:kube-controller-manager", user("system:kube-controller-manager")),
  binding("system:kube-dns", kubeSystemSa("kube-dns")),
  binding("system:kube-scheduler", user("system:kube-scheduler")),
  binding("system:volume-scheduler", user("system:kube-scheduler")),
  // Nodes are authorized by the Node authorizer; the binding exists without subjects, as upstream.
  binding("system:node"),
  binding("system:service-account-issuer-discovery", group("system:serviceaccounts")),
  binding("system:kube-ingress", user("system:kube-ingress")),
  ...CONTROLLER_ROLES.map((c) => binding(c.name, kubeSystemSa(c.name.slice("system:controller:".length)))),
];

/** kube-controller-manager's and kube-scheduler's leader election on a ConfigMap (the legacy lock). */
const leaderLocking = (component: string) => `system::leader-locking-${component}`;
const inKubeSystem = <T>(o: T) => ({ namespace: "kube-system", ...o });

/** Roles in kube-system (namespace_policy.go). */
export const NAMESPACE_ROLES: (BootstrapRole & { namespace: string })[] = [
  {
    name: "extension-apiserver-authentication-reader",
    rules: [r(READ, "", "configmaps", "extension-apiserver-authentication")],
  },
  ...["kube-controller-manager", "kube-scheduler"].map((c) => ({
    name: leaderLocking(c),
    rules: [r("watch", "", "configmaps"), r("get,update", "", "configmaps", c)],
  })),
  // The token cleaner deletes expired bootstrap token Secrets, which live only in kube-system.
  { name: "system:controller:token-cleaner", rules: [r("delete,get,list,watch", "", "secrets"), events] },
  // Ours: the DNS component publishes its own Service and Endpoints (kube-system/kube-dns) at each start.
  {
    name: "system::kube-dns-publisher",
    rules: [r("create", "", "services,endpoints"), r("get,update,patch", "", "services,endpoints", "kube-dns")],
  },
].map(inKubeSystem);
export const NAMESPACE_ROLE_BINDINGS: (BootstrapBinding & { namespace: string })[] = [
  {
    name: "system::extension-apiserver-authentication-reader",
    role: "extension-apiserver-authentication-reader",
    subjects: [user("system:kube-controller-manager"), user("system:kube-scheduler")],
  },
  ...["kube-controller-manager", "kube-scheduler"].map((c) =>
    binding(leaderLocking(c), user(`system:${c}`), kubeSystemSa(c)),
  ),
  binding("system:controller:token-cleaner", kubeSystemSa("token-cleaner")),
  binding("system::kube-dns-publisher", kubeSystemSa("kube-dns")),
].map(inKubeSystem);
