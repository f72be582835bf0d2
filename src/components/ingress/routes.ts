// Ingress routing as a pure function: which backend a request's host and path reach, by the
// rules of every Ingress (this cluster has one ingress controller, so every class is served).
// Hosts match exactly or by a leading "*." wildcard (one label); paths by pathType: Exact, or
// Prefix (whole path elements; ImplementationSpecific is treated as Prefix). The longest matching
// path wins, exact before prefix; then the Ingress's defaultBackend.
import type { HTTPIngressPath, Ingress } from "../../api/kinds/stored.ts";

export interface Backend {
  namespace: string;
  service: string;
  port: { number?: number; name?: string };
}

function hostMatches(ruleHost: string | undefined, host: string): boolean {
  if (!ruleHost) return true;
  if (ruleHost.startsWith("*.")) {
    const rest = ruleHost.slice(1);
    return host.endsWith(rest) && !host.slice(0, -rest.length).includes(".") && host.length > rest.length;
  }
  return ruleHost === host;
}

function pathMatches(p: HTTPIngressPath, path: string): boolean {
  const want = p.path || "/";
  if (p.pathType === "Exact") return path === want;
  if (want === "/") return true;
  const prefix = want.replace(/\/+$/, "");
  return path === prefix || path.startsWith(`${prefix}/`);
}

/** The backend for host and path, or undefined (404). */
export function route(ingresses: Ingress[], host: string, path: string): Backend | undefined {
  const bare = host.replace(/:\d+$/, "").toLowerCase();
  let best: { len: number; exact: boolean; backend: Backend } | undefined;
  for (const ing of ingresses) {
    const spec = ing.spec ?? {};
    for (const rule of spec.rules ?? []) {
      if (!hostMatches(rule.host, bare)) continue;
      for (const p of rule.http?.paths ?? []) {
        const svc = p.backend?.service;
        if (!svc || !pathMatches(p, path)) continue;
        const len = (p.path || "/").length;
        const exact = p.pathType === "Exact";
        // Specific hosts beat the catch-all rule; then longer paths; then Exact over Prefix.
        const score = len + (rule.host ? 1e6 : 0);
        const bestScore = best ? best.len : -1;
        if (!best || score > bestScore || (score === bestScore && exact && !best.exact))
          best = {
            len: score,
            exact,
            backend: { namespace: ing.metadata!.namespace!, service: svc.name, port: svc.port ?? {} },
          };
      }
    }
  }
  if (best) return best.backend;
  for (const ing of ingresses) {
    const svc = ing.spec?.defaultBackend?.service;
    if (svc) return { namespace: ing.metadata!.namespace!, service: svc.name, port: svc.port ?? {} };
  }
  return undefined;
}
