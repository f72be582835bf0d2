// metrics.k8s.io/v1beta1 (served by the API server from the kubelets' stats, not stored): the
// shapes the metrics API writes and the HPA controller and `kubectl top` read.
import type { KubeObject } from "../types.ts";

/** CPU and memory as quantities ("12m", "3Mi"). */
export interface ResourceUsage {
  cpu?: string;
  memory?: string;
}
export interface ContainerMetrics {
  name: string;
  usage: ResourceUsage;
}
export interface PodMetrics extends KubeObject {
  timestamp?: string;
  window?: string;
  containers: ContainerMetrics[];
}
export interface NodeMetrics extends KubeObject {
  timestamp?: string;
  window?: string;
  usage: ResourceUsage;
}
