// Nodes with their capacity, and usage charts when metrics.k8s.io answers.
import type { K8sObject } from "../api.ts";
import { byFilter, targetOf, type ViewProps } from "../context.ts";
import { bytes, cpuCores, useLive, useMetrics } from "../hooks.ts";
import { age, listPath, R } from "../resources.ts";
import { Badge, fmtBytes, fmtCpu, Notice, Spark, Table } from "../widgets.tsx";

const ready = (n: K8sObject) =>
  (n.status?.conditions ?? []).find((c: { type: string }) => c.type === "Ready")?.status === "True";

export function NodesView(props: ViewProps) {
  const nodes = useLive(props.api, listPath(R.nodes, ""));
  const metrics = useMetrics(props.api, "nodes", "");
  const rows = nodes.items.filter(byFilter(props.filter));
  const usage = (n: K8sObject) => metrics.series.get(`/${n.metadata.name}`);
  const pct = (used: number | undefined, total: number) =>
    used === undefined || !total ? "" : ` (${Math.round((used / total) * 100)}%)`;
  return (
    <section>
      <h2>
        Nodes <span class="count">{rows.length}</span>
      </h2>
      <Notice error={nodes.error} />
      {metrics.error && <p class="muted metrics-off">Metrics unavailable: {metrics.error}</p>}
      <Table
        testId="nodes"
        rows={rows}
        nav={props.nav}
        open={(n) => props.open(targetOf(R.nodes, n))}
        columns={[
          { title: "Name", cell: (n) => <span class="name">{n.metadata.name}</span> },
          {
            title: "Status",
            cell: (n) => <Badge tone={ready(n) ? "ok" : "bad"}>{ready(n) ? "Ready" : "NotReady"}</Badge>,
          },
          { title: "CPU capacity", cell: (n) => n.status?.capacity?.cpu ?? "" },
          { title: "Memory capacity", cell: (n) => fmtBytes(bytes(n.status?.capacity?.memory)) },
          { title: "Pods capacity", cell: (n) => n.status?.capacity?.pods ?? "" },
          {
            title: "CPU usage",
            cell: (n) => (
              <>
                <Spark values={usage(n)?.cpu ?? []} label="CPU" format={fmtCpu} />
                <span class="muted">{pct(usage(n)?.cpu.at(-1), cpuCores(n.status?.allocatable?.cpu))}</span>
              </>
            ),
          },
          {
            title: "Memory usage",
            cell: (n) => (
              <>
                <Spark values={usage(n)?.memory ?? []} label="Memory" format={fmtBytes} />
                <span class="muted">{pct(usage(n)?.memory.at(-1), bytes(n.status?.allocatable?.memory))}</span>
              </>
            ),
          },
          { title: "Age", cell: (n) => age(n.metadata.creationTimestamp) },
        ]}
      />
    </section>
  );
}
