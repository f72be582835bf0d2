// The Endpoints controller: for each Service with a selector, an Endpoints object of the same
// name listing ready pods under addresses and the others under notReadyAddresses, with target
// ports resolved per pod (numbers, or names looked up in the pod's container ports).
import { podReady } from "../../../api/kinds/pod.ts";
import { podTerminal } from "../../../api/kinds/pod.ts";
import type { KubeObject } from "../../../api/types.ts";
import { matchesLabels, requirementsOf } from "../../../api/selectors.ts";
import { isAlreadyExists, isNotFound, keyOf, splitKey, ignore } from "../../../client/index.ts";
import { Controller } from "../base.ts";

type Port = { name?: string; port: number; targetPort?: number | string; protocol?: string };
type Address = {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef: { kind: "Pod"; namespace: string; name: string; uid: string };
};
type Subset = {
  addresses?: Address[];
  notReadyAddresses?: Address[];
  ports: { name?: string; port: number; protocol: string }[];
};

/**
 * `svc` names the service: a pod whose spec.subdomain is that name gets its spec.hostname on its
 * address (what DNS serves as <hostname>.<svc>.<ns>.svc); publishNotReadyAddresses lists every pod
 * as ready, as upstream does.
 */
export function endpointsSubsets(
  svcPorts: Port[],
  pods: KubeObject[],
  svc: { name?: string; publishNotReadyAddresses?: boolean } = {},
): Subset[] {
  const groups = new Map<string, Subset>();
  for (const pod of pods) {
    const ip = (pod.status as { podIP?: string } | undefined)?.podIP;
    if (!ip || pod.metadata?.deletionTimestamp || podTerminal(pod)) continue;
    const containerPorts = (
      (pod.spec as { containers?: { ports?: { name?: string; containerPort: number; protocol?: string }[] }[] })
        ?.containers ?? []
    ).flatMap((c) => c.ports ?? []);
    const ports: Subset["ports"] = [];
    for (const sp of svcPorts) {
      const tp = sp.targetPort ?? sp.port;
      const port =
        typeof tp === "number"
          ? tp
          : /^\d+$/.test(tp)
            ? Number(tp)
            : containerPorts.find((c) => c.name === tp && (c.protocol ?? "TCP") === (sp.protocol ?? "TCP"))
                ?.containerPort;
      if (port === undefined) continue; // this pod has no such named port
      ports.push({ ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol ?? "TCP" });
    }
    if (ports.length === 0) continue;
    const key = JSON.stringify(ports);
    const subset = groups.get(key) ?? groups.set(key, { ports }).get(key)!;
    const podSpec = pod.spec as { hostname?: string; subdomain?: string } | undefined;
    const hostname =
      podSpec?.hostname && svc.name && podSpec.subdomain === svc.name ? { hostname: podSpec.hostname } : {};
    const address: Address = {
      ip,
      ...hostname,
      ...((pod.spec as { nodeName?: string })?.nodeName
        ? { nodeName: (pod.spec as { nodeName: string }).nodeName }
        : {}),
      targetRef: {
        kind: "Pod",
        namespace: pod.metadata!.namespace!,
        name: pod.metadata!.name!,
        uid: pod.metadata!.uid!,
      },
    };
    if (svc.publishNotReadyAddresses || podReady(pod)) (subset.addresses ??= []).push(address);
    else (subset.notReadyAddresses ??= []).push(address);
  }
  const byIp = (a: Address, b: Address) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0);
  return [...groups.values()].map((s) => ({
    ...(s.addresses ? { addresses: s.addresses.sort(byIp) } : {}),
    ...(s.notReadyAddresses ? { notReadyAddresses: s.notReadyAddresses.sort(byIp) } : {}),
    ports: s.ports,
  }));
}

export class EndpointsController extends Controller {
  readonly name = "endpoints";

  setup(): void {
    const services = this.ctx.informers.get("services");
    services.on({ add: this.enqueue, update: (_, s) => this.enqueue(s), delete: this.enqueue });
    this.ctx.informers.register("endpoints");
    const forPod = (p: KubeObject) => {
      for (const s of services.list()) {
        const sel = (s.spec as { selector?: Record<string, string> } | undefined)?.selector;
        if (
          s.metadata?.namespace === p.metadata?.namespace &&
          sel &&
          Object.keys(sel).length &&
          matchesLabels(requirementsOf(sel), p.metadata?.labels)
        )
          this.enqueue(s);
      }
    };
    this.ctx.informers.get("pods").on({ add: forPod, update: (old, p) => (forPod(old), forPod(p)), delete: forPod });
  }

  async reconcile(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const api = this.ctx.client.resource("endpoints", namespace);
    const svc = this.ctx.informers.get("services").get(key);
    const current = this.ctx.informers.get("endpoints").get(key);
    if (!svc) {
      // Only Endpoints this controller made (they carry no selector-less marker) are removed.
      if (current && current.metadata?.labels?.["endpoints.kube/managed"] === "true")
        await api.delete(name!).catch(ignore(isNotFound));
      return;
    }
    const sel = (svc.spec as { selector?: Record<string, string> } | undefined)?.selector;
    if (!sel || Object.keys(sel).length === 0) return; // manual Endpoints
    const reqs = requirementsOf(sel);
    const pods = this.ctx.informers
      .get("pods")
      .list()
      .filter((p) => p.metadata?.namespace === namespace && matchesLabels(reqs, p.metadata?.labels));
    const spec = svc.spec as { ports?: Port[]; publishNotReadyAddresses?: boolean };
    const subsets = endpointsSubsets(spec.ports ?? [], pods, {
      name,
      publishNotReadyAddresses: spec.publishNotReadyAddresses,
    });
    const labels = { ...svc.metadata?.labels, "endpoints.kube/managed": "true" };
    if (
      current &&
      JSON.stringify(current.subsets ?? []) === JSON.stringify(subsets) &&
      JSON.stringify(current.metadata?.labels ?? {}) === JSON.stringify(labels)
    )
      return;
    const ep = {
      apiVersion: "v1",
      kind: "Endpoints",
      metadata: { name, namespace, labels, ...(current ? { resourceVersion: current.metadata?.resourceVersion } : {}) },
      subsets,
    };
    if (current) await api.update(ep);
    else
      await api
        .create(ep)
        .catch((e) => (isAlreadyExists(e) ? this.queue.addRateLimited(keyOf(svc)) : Promise.reject(e)));
  }
}
