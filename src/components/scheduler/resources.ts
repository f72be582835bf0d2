// Resource requests as Kubernetes computes them for scheduling: the larger of the sum of
// app containers and the largest init container, per resource.
import { cpuMillis, memoryBytes, parseQuantity } from "../../api/quantity.ts";
import type { SchedNode, SchedPod } from "./types.ts";

function sum(containers: { resources?: { requests?: Record<string, string> } }[] | undefined): {
  cpu: number;
  memory: number;
} {
  let cpu = 0;
  let memory = 0;
  for (const c of containers ?? []) {
    cpu += cpuMillis(c.resources?.requests?.cpu);
    memory += memoryBytes(c.resources?.requests?.memory);
  }
  return { cpu, memory };
}

export function podRequests(pod: SchedPod): { cpu: number; memory: number } {
  const apps = sum(pod.spec.containers);
  for (const init of pod.spec.initContainers ?? []) {
    const one = sum([init]);
    apps.cpu = Math.max(apps.cpu, one.cpu);
    apps.memory = Math.max(apps.memory, one.memory);
  }
  return apps;
}

export function hostPorts(pod: SchedPod): string[] {
  const out: string[] = [];
  for (const c of pod.spec.containers ?? [])
    for (const p of c.ports ?? [])
      if (p.hostPort) out.push(`${p.protocol ?? "TCP"}/${p.hostIP || "0.0.0.0"}/${p.hostPort}`);
  return out;
}

export function allocatable(node: SchedNode): { cpu: number; memory: number; pods: number } {
  const a = node.status?.allocatable ?? node.status?.capacity ?? {};
  return {
    cpu: cpuMillis(a.cpu ?? "0"),
    memory: memoryBytes(a.memory ?? "0"),
    pods: a.pods ? Math.floor(parseQuantity(a.pods)) : 110,
  };
}
