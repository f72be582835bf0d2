// A container's environment as the kubelet builds it: service links (<NAME>_SERVICE_HOST and
// the docker-link variables) first, then envFrom, then env with valueFrom (ConfigMap and Secret
// keys, and the downward-API fields), with $(VAR) references expanded.
import { isLoopbackIp } from "../../api/cidr.ts";
import type { ConfigMap, Secret } from "../../api/kinds/core.ts";
import type { Container, Pod } from "../../api/kinds/pod.ts";
import type { Service } from "../../api/kinds/service.ts";
import { isNotFound, type Client, ignore } from "../../client/index.ts";
import { BY_NAMESPACE, type ServiceLister } from "./listers.ts";

/** The API server's own service in `default` (upstream's masterServices). */
const MASTER_SERVICE = "kubernetes";

export class EnvError extends Error {
  override name = "EnvError";
}

/**
 * Service environment variables for the services of a namespace, pointing at each cluster IP;
 * a cluster IP in 127.0.0.0/8 (the non-root range) is not reachable from a pod, so those point at
 * `bridge()`, the node's bridge address where the proxy also serves them (looked up only then).
 */
export function serviceEnv(services: Service[], bridge?: () => string | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  let bridgeAddr: string | undefined;
  for (const s of services) {
    const ip = s.spec?.clusterIP;
    if (!ip || ip === "None" || !s.spec?.ports?.length) continue;
    if (isLoopbackIp(ip)) bridgeAddr ??= bridge?.();
    const addr = isLoopbackIp(ip) && bridgeAddr ? bridgeAddr : ip;
    const name = s.metadata!.name!.toUpperCase().replace(/-/g, "_");
    const first = s.spec.ports[0]!;
    env[`${name}_SERVICE_HOST`] = addr;
    env[`${name}_SERVICE_PORT`] = String(first.port);
    for (const p of s.spec.ports)
      if (p.name) env[`${name}_SERVICE_PORT_${p.name.toUpperCase().replace(/-/g, "_")}`] = String(p.port);
    env[`${name}_PORT`] = `${(first.protocol ?? "TCP").toLowerCase()}://${addr}:${first.port}`;
    for (const p of s.spec.ports) {
      const proto = (p.protocol ?? "TCP").toUpperCase();
      const prefix = `${name}_PORT_${p.port}_${proto}`;
      env[prefix] = `${proto.toLowerCase()}://${addr}:${p.port}`;
      env[`${prefix}_PROTO`] = proto.toLowerCase();
      env[`${prefix}_PORT`] = String(p.port);
      env[`${prefix}_ADDR`] = addr;
    }
  }
  return env;
}

/** A downward API field of the pod (env valueFrom.fieldRef and downwardAPI volume items). */
export function fieldRef(pod: Pod, path: string): string {
  const m = pod.metadata ?? {};
  const label = path.match(/^metadata\.labels\['(.+)'\]$/);
  if (label) return m.labels?.[label[1]!] ?? "";
  const annotation = path.match(/^metadata\.annotations\['(.+)'\]$/);
  if (annotation) return m.annotations?.[annotation[1]!] ?? "";
  // Whole maps, as downwardAPI volumes write them: one key="value" line each, sorted.
  if (path === "metadata.labels" || path === "metadata.annotations") {
    const map = (path === "metadata.labels" ? m.labels : m.annotations) ?? {};
    return Object.keys(map)
      .sort()
      .map((k) => `${k}=${JSON.stringify(map[k])}`)
      .join("\n");
  }
  const values: Record<string, string | undefined> = {
    "metadata.name": m.name,
    "metadata.namespace": m.namespace,
    "metadata.uid": m.uid,
    "spec.nodeName": pod.spec.nodeName,
    "spec.serviceAccountName": pod.spec.serviceAccountName,
    "status.podIP": pod.status?.podIP,
    "status.hostIP": pod.status?.hostIP,
  };
  if (!(path in values)) throw new EnvError(`unsupported fieldRef ${path}`);
  return values[path] ?? "";
}

function expand(value: string, env: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([-._a-zA-Z0-9]+)\)/g, (all, name: string | undefined) =>
    all === "$$" ? "$" : name && name in env ? env[name]! : all,
  );
}

/** Upstream's IsServiceIPSet: services without a cluster IP (headless) give no variables. */
const hasClusterIp = (s: Service) => !!s.spec?.clusterIP && s.spec.clusterIP !== "None";

/**
 * The services whose variables a pod's containers get, as upstream's getServiceEnvVarMap: those of
 * its namespace when service links are on, and the API server's `default/kubernetes` always
 * (in-cluster clients find the API through it), unless its namespace has a service of that name.
 * Sorted by name, so a container's environment keeps one order.
 */
export function podServices(services: ServiceLister, pod: Pod): Service[] {
  const ns = pod.metadata!.namespace!;
  const links = pod.spec.enableServiceLinks !== false;
  const out = links ? services.byIndex(BY_NAMESPACE, ns) : [];
  const master = services.get(`default/${MASTER_SERVICE}`);
  if (master && !out.some((s) => s.metadata?.name === MASTER_SERVICE && hasClusterIp(s))) out.push(master);
  return out.sort((a, b) => (a.metadata!.name! < b.metadata!.name! ? -1 : 1));
}

export async function containerEnv(
  client: Client,
  services: ServiceLister,
  pod: Pod,
  c: Container,
  serviceHost?: () => string | undefined,
): Promise<Record<string, string>> {
  const ns = pod.metadata!.namespace!;
  const cache = new Map<string, ConfigMap | Secret | undefined>();
  const load = async (
    resource: "configmaps" | "secrets",
    name: string,
    optional?: boolean,
  ): Promise<ConfigMap | Secret | undefined> => {
    const key = `${resource}/${name}`;
    if (!cache.has(key))
      cache.set(key, await client.resource<ConfigMap | Secret>(resource, ns).get(name).catch(ignore(isNotFound)));
    const obj = cache.get(key);
    if (!obj && !optional)
      throw new EnvError(`${resource === "configmaps" ? "configmap" : "secret"} "${name}" not found`);
    return obj;
  };
  const data = (obj: ConfigMap | Secret | undefined, secret: boolean): Record<string, string> => {
    const d = obj?.data ?? {};
    return secret ? Object.fromEntries(Object.entries(d).map(([k, v]) => [k, Buffer.from(v, "base64").toString()])) : d;
  };
  const env: Record<string, string> = serviceEnv(podServices(services, pod), serviceHost);
  for (const from of c.envFrom ?? []) {
    const secret = !!from.secretRef;
    // Validation does not require a ref or its name yet (upstream does).
    const ref = (from.configMapRef ?? from.secretRef)!;
    const obj = await load(secret ? "secrets" : "configmaps", ref.name!, ref.optional);
    for (const [k, v] of Object.entries(data(obj, secret))) env[`${from.prefix ?? ""}${k}`] = v;
  }
  for (const e of c.env ?? []) {
    if (e.valueFrom?.fieldRef) env[e.name] = fieldRef(pod, e.valueFrom.fieldRef.fieldPath);
    else if (e.valueFrom?.configMapKeyRef || e.valueFrom?.secretKeyRef) {
      const secret = !!e.valueFrom.secretKeyRef;
      const ref = (e.valueFrom.configMapKeyRef ?? e.valueFrom.secretKeyRef)!;
      const obj = await load(secret ? "secrets" : "configmaps", ref.name!, ref.optional);
      const value = data(obj, secret)[ref.key];
      if (value === undefined && !ref.optional && obj)
        throw new EnvError(`couldn't find key ${ref.key} in ${secret ? "Secret" : "ConfigMap"} ${ns}/${ref.name}`);
      if (value !== undefined) env[e.name] = value;
    } else if (e.valueFrom?.resourceFieldRef)
      env[e.name] = String(c.resources?.limits?.[e.valueFrom.resourceFieldRef.resource.replace(/^limits\./, "")] ?? "");
    else env[e.name] = expand(e.value ?? "", env);
  }
  return env;
}
