// The LimitRanger admission step: a new pod's containers get their namespace's LimitRange
// defaults (`default` for limits, `defaultRequest` for requests, else the limit), then are
// checked against `max` and `min`; a container outside them is refused with 403, naming the
// bound, as Kubernetes does.
import { parseQuantity } from "../../api/quantity.ts";
import type { Pod, PodSpec } from "../../api/kinds/pod.ts";
import type { LimitRange } from "../../api/kinds/stored.ts";
import { forbidden } from "./errors.ts";

export function applyLimitRanges(pod: Pod, ranges: LimitRange[]): void {
  const items = ranges.flatMap((r) => (r.spec?.limits ?? []).filter((i) => i.type === "Container"));
  if (!items.length) return;
  // Validation has not run yet: the spec may lack its containers.
  const spec: Partial<PodSpec> = pod.spec ?? {};
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
    const res = (c.resources ??= {});
    for (const item of items) {
      for (const [k, v] of Object.entries(item.default ?? {})) if (!res.limits?.[k]) (res.limits ??= {})[k] = v;
      for (const [k, v] of Object.entries(item.defaultRequest ?? {}))
        if (!res.requests?.[k]) (res.requests ??= {})[k] = v;
      for (const [k, v] of Object.entries(res.limits ?? {}))
        if (!res.requests?.[k] && (item.default?.[k] || item.defaultRequest?.[k] === undefined))
          (res.requests ??= {})[k] = v;
    }
    for (const item of items) {
      for (const [k, max] of Object.entries(item.max ?? {})) {
        const limit = res.limits?.[k];
        if (!limit)
          throw forbidden(
            `pods "${pod.metadata?.name ?? ""}" is forbidden: maximum ${usage(k)} per Container is ${max}.  No limit is specified`,
          );
        if (parseQuantity(limit) > parseQuantity(max))
          throw forbidden(
            `pods "${pod.metadata?.name ?? ""}" is forbidden: maximum ${usage(k)} per Container is ${max}, but limit is ${limit}`,
          );
      }
      for (const [k, min] of Object.entries(item.min ?? {})) {
        const request = res.requests?.[k];
        if (!request)
          throw forbidden(
            `pods "${pod.metadata?.name ?? ""}" is forbidden: minimum ${usage(k)} per Container is ${min}.  No request is specified`,
          );
        if (parseQuantity(request) < parseQuantity(min))
          throw forbidden(
            `pods "${pod.metadata?.name ?? ""}" is forbidden: minimum ${usage(k)} per Container is ${min}, but request is ${request}`,
          );
      }
    }
  }
}

const usage = (resource: string) => `${resource} usage`;
