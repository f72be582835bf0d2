// The kubelet's stats summary (GET /stats/summary; k8s.io/kubelet/pkg/apis/stats/v1alpha1, the
// part served): cumulative CPU time and working-set memory per node and per container. The
// kubelet writes it; the API server's metrics.k8s.io and `kube top` read it.

export interface CPUStats {
  time?: string;
  usageCoreNanoSeconds: number;
}
export interface MemoryStats {
  time?: string;
  workingSetBytes: number;
}
export interface NodeStats {
  nodeName: string;
  cpu: CPUStats;
  memory: MemoryStats;
}
export interface ContainerStats {
  name: string;
  cpu: CPUStats;
  memory: MemoryStats;
}
export interface PodStats {
  podRef: { name: string; namespace: string; uid: string };
  containers: ContainerStats[];
}
export interface Summary {
  node?: NodeStats;
  /** Every node this kubelet process runs (one process can run several simulated nodes). */
  nodes: NodeStats[];
  pods: PodStats[];
}
