// Services, with links that open from the host: in this project cluster IPs, LoadBalancer
// addresses (127.0.0.x) and NodePorts (127.0.0.1) all answer on the host itself.
import type { K8sObject } from "../api.ts";
import { byFilter, targetOf, type ViewProps } from "../context.ts";
import { useLive } from "../hooks.ts";
import { age, listPath, R } from "../resources.ts";
import { Notice, Table } from "../widgets.tsx";

interface Port {
  name?: string;
  port: number;
  protocol?: string;
  nodePort?: number;
  targetPort?: number | string;
}

/** http(s) links for a service's TCP ports, from each address the host can reach. */
export function serviceLinks(s: K8sObject): { href: string; label: string }[] {
  const ports = ((s.spec?.ports ?? []) as Port[]).filter((p) => (p.protocol ?? "TCP") === "TCP");
  const out: { href: string; label: string }[] = [];
  const scheme = (p: Port) => (p.port === 443 || p.name === "https" ? "https" : "http");
  const ip = s.spec?.clusterIP;
  for (const p of ports) {
    if (ip && ip !== "None") out.push({ href: `${scheme(p)}://${ip}:${p.port}/`, label: `${ip}:${p.port}` });
    for (const ing of (s.status?.loadBalancer?.ingress ?? []) as { ip?: string; hostname?: string }[]) {
      const host = ing.ip ?? ing.hostname;
      if (host) out.push({ href: `${scheme(p)}://${host}:${p.port}/`, label: `${host}:${p.port}` });
    }
    if (p.nodePort) out.push({ href: `http://127.0.0.1:${p.nodePort}/`, label: `127.0.0.1:${p.nodePort}` });
  }
  return out;
}

export function ServicesView(props: ViewProps) {
  const services = useLive(props.api, listPath(R.services, props.namespace));
  const rows = services.items.filter(byFilter(props.filter));
  return (
    <section>
      <h2>
        Services <span class="count">{rows.length}</span>
      </h2>
      <Notice error={services.error} />
      <Table
        testId="services"
        rows={rows}
        nav={props.nav}
        open={(s) => props.open(targetOf(R.services, s))}
        columns={[
          { title: "Name", cell: (s) => <span class="name">{s.metadata.name}</span> },
          { title: "Namespace", cell: (s) => s.metadata.namespace },
          { title: "Type", cell: (s) => s.spec?.type ?? "ClusterIP" },
          { title: "Cluster IP", cell: (s) => s.spec?.clusterIP ?? "" },
          {
            title: "Ports",
            cell: (s) =>
              ((s.spec?.ports ?? []) as Port[])
                .map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ""}/${p.protocol ?? "TCP"}`)
                .join(", "),
          },
          {
            title: "Open",
            cell: (s) => (
              <span class="links">
                {serviceLinks(s).map((l) => (
                  <a href={l.href} target="_blank" rel="noopener noreferrer">
                    {l.label}
                  </a>
                ))}
              </span>
            ),
          },
          { title: "Age", cell: (s) => age(s.metadata.creationTimestamp) },
        ]}
      />
    </section>
  );
}
