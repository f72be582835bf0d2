// The Endpoints controller: for each Service with a selector, an Endpoints object of the same
// name listing ready pods under addresses and the others under notReadyAddresses, with target
// ports resolved per pod (numbers, or names looked up in the pod's container ports).
import { podReady } from "../../../api/kinds/pod.ts";
import { podTerminal } from "../../../api/kinds/pod.ts";
import type { EndpointAddress, EndpointPort, Endpoints, EndpointSubset } from "../../../api/kinds/core.ts";
import type { Pod } from "../../../api/kinds/pod.ts";
import type { Service, ServicePort } from "../../../api/kinds/service.ts";
import { matchesLabels, requirementsOf } from "../../../api/selectors.ts";
import { isAlreadyExists, isNotFound, keyOf, splitKey, ignore } from "../../../client/index.ts";
import { Controller } from "../base.ts";

/**
 * `svc` names the service: a pod whose spec.subdomain is that name gets its spec.hostname on its
 * address (what DNS serves as <hostname>.<svc>.<ns>.svc); publishNotReadyAddresses lists every pod
 * as ready, as upstream does.
 */
export function endpointsSubsets(
  svcPorts: ServicePort[],
  pods: Pod[],
  svc: { name?: string; publishNotReadyAddresses?: boolean } = {},
): EndpointSubset[] {
  const groups = new Map<string, EndpointSubset>();
  for (const pod of pods) {
    const ip = pod.status?.podIP;
    if (!ip || pod.metadata?.deletionTimestamp || podTerminal(pod)) continue;
    const containerPorts = (pod.spec?.containers ?? []).flatMap((c) => c.ports ?? []);
    const ports: EndpointPort[] = [];
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
    const podSpec = pod.spec;
    const hostname =
      podSpec?.hostname && svc.name && podSpec.subdomain === svc.name ? { hostname: podSpec.hostname } : {};
    const address: EndpointAddress = {
      ip,
      ...hostname,
      ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
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
  const byIp = (a: EndpointAddress, b: EndpointAddress) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0);
  return [...groups.values()].map((s) => ({
    ...(s.addresses ? { addresses: s.addresses.sort(byIp) } : {}),
    ...(s.notReadyAddresses ? { notReadyAddresses: s.notReadyAddresses.sort(byIp) } : {}),
    ports: s.ports,
  }));
}

export class EndpointsController extends Controller {
  readonly name = "endpoints";

  setup(): void {
    const services = this.ctx.informers.get<Service>("services");
    services.on({ add: this.enqueue, update: (_, s) => this.enqueue(s), delete: this.enqueue });
    this.ctx.informers.register("endpoints");
    const forPod = (p: Pod) => {
      for (const s of services.list()) {
        const sel = s.spec?.selector;
        if (
          s.metadata?.namespace === p.metadata?.namespace &&
          sel &&
          Object.keys(sel).length &&
          matchesLabels(requirementsOf(sel), p.metadata?.labels)
        )
          this.enqueue(s);
      }
    };
    this.ctx.informers
      .get<Pod>("pods")
      .on({ add: forPod, update: (old, p) => (forPod(old), forPod(p)), delete: forPod });
  }

  async reconcile(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const api = this.ctx.client.resource<Endpoints>("endpoints", namespace);
    const svc = this.ctx.informers.get<Service>("services").get(key);
    const current = this.ctx.informers.get<Endpoints>("endpoints").get(key);
    if (!svc) {
      // Only Endpoints this controller made (they carry no selector-less marker) are removed.
      if (current && current.metadata?.labels?.["endpoints.kube/managed"] === "true")
        await api.delete(name!).catch(ignore(isNotFound));
      return;
    }
    const sel = svc.spec?.selector;
    if (!sel || Object.keys(sel).length === 0) return; // manual Endpoints
    const reqs = requirementsOf(sel);
    const pods = this.ctx.informers
      .get<Pod>("pods")
      .list()
      .filter((p) => p.metadata?.namespace === namespace && matchesLabels(reqs, p.metadata?.labels));
    const spec = svc.spec ?? {};
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
