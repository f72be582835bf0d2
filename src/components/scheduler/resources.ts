// Resource requests as Kubernetes computes them for scheduling: the larger of the sum of
// app containers and the largest init container, per resource.
import { cpuMillis, memoryBytes, parseQuantity } from "../../api/quantity.ts";
import type { PodRequests, SchedNode, SchedPod } from "./types.ts";

/** Upstream's requests for a container that names no cpu or memory request, used by scoring only (schedutil's DefaultMilliCPURequest and DefaultMemoryRequest): a node full of such pods does not look empty. */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

type Container = { resources?: { requests?: Record<string, string> } };

function containerRequests(c: Container): PodRequests {
  const r = c.resources?.requests;
  const cpu = cpuMillis(r?.cpu);
  const memory = memoryBytes(r?.memory);
  return {
    cpu,
    memory,
    nonZeroCpu: r?.cpu === undefined ? DEFAULT_MILLI_CPU_REQUEST : cpu,
    nonZeroMemory: r?.memory === undefined ? DEFAULT_MEMORY_REQUEST : memory,
  };
}

export function podRequests(pod: SchedPod): PodRequests {
  const apps: PodRequests = { cpu: 0, memory: 0, nonZeroCpu: 0, nonZeroMemory: 0 };
  for (const c of pod.spec.containers ?? []) {
    const one = containerRequests(c);
    apps.cpu += one.cpu;
    apps.memory += one.memory;
    apps.nonZeroCpu += one.nonZeroCpu;
    apps.nonZeroMemory += one.nonZeroMemory;
  }
  for (const init of pod.spec.initContainers ?? []) {
    const one = containerRequests(init);
    apps.cpu = Math.max(apps.cpu, one.cpu);
    apps.memory = Math.max(apps.memory, one.memory);
    apps.nonZeroCpu = Math.max(apps.nonZeroCpu, one.nonZeroCpu);
    apps.nonZeroMemory = Math.max(apps.nonZeroMemory, one.nonZeroMemory);
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
