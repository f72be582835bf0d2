// Names more than one component (and the CLI) agree on, as k8s.io/api's well_known_labels.go and
// well_known_taints.go: one spelling each.

/** Node labels the kubelet sets and the scheduler's topology rules read. */
export const LABEL_HOSTNAME = "kubernetes.io/hostname";
export const LABEL_OS = "kubernetes.io/os";
export const LABEL_ARCH = "kubernetes.io/arch";
/** Our own: a node of the sim runtime (no containers behind its pods). */
export const LABEL_HOLLOW = "kube.io/hollow";

/** Taints the node lifecycle controller puts on nodes and that DaemonSet pods tolerate. */
export const TAINT_NOT_READY = "node.kubernetes.io/not-ready";
export const TAINT_UNREACHABLE = "node.kubernetes.io/unreachable";
export const TAINT_UNSCHEDULABLE = "node.kubernetes.io/unschedulable";
export const TAINT_DISK_PRESSURE = "node.kubernetes.io/disk-pressure";
export const TAINT_MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure";

/**
 * Labels the kubelet's runtime puts on every container it creates: how a restarted kubelet adopts
 * its containers and how `kube down` finds a cluster's containers.
 */
export const CONTAINER_LABELS = {
  /** The node whose kubelet made the container (several hollow or test nodes share one engine). */
  node: "io.kube.node",
  podUid: "io.kube.pod.uid",
  podName: "io.kube.pod.name",
  podNamespace: "io.kube.pod.namespace",
  containerName: "io.kube.container.name",
  /** "infra" for the container holding the pod's namespaces, "app" for the pod's containers. */
  kind: "io.kube.container.kind",
  /** Id of the infra container an app container joined. */
  sandboxId: "io.kube.sandbox.id",
  /** Set by the kubelet on app containers: how many times this container was restarted before. */
  restartCount: "io.kube.container.restart-count",
} as const;

/** The cluster DNS Service: the DNS component publishes it, the proxy routes it, kubelets write its IP into resolv.conf. */
export const DNS_NAMESPACE = "kube-system";
export const DNS_SERVICE = "kube-dns";
