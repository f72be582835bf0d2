// Pods: status, readiness, restarts, node, and live CPU/memory when metrics.k8s.io answers.
import type { K8sObject } from "../api.ts";
import { byFilter, targetOf, type ViewProps } from "../context.ts";
import { useLive, useMetrics, type MetricsHistory } from "../hooks.ts";
import { age, listPath, R } from "../resources.ts";
import { Badge, fmtBytes, fmtCpu, Notice, Spark, Table, type Column } from "../widgets.tsx";

interface ContainerStatus {
  name: string;
  ready?: boolean;
  restartCount?: number;
  state?: { waiting?: { reason?: string }; terminated?: { reason?: string }; running?: unknown };
}

export const containerStatuses = (p: K8sObject): ContainerStatus[] => p.status?.containerStatuses ?? [];

/** What kubectl's STATUS column says: a waiting/terminated reason, Terminating, else the phase. */
export function podStatus(p: K8sObject): string {
  if (p.metadata.deletionTimestamp) return "Terminating";
  for (const c of containerStatuses(p)) {
    if (c.state?.waiting?.reason) return c.state.waiting.reason;
    if (c.state?.terminated?.reason && p.status?.phase !== "Succeeded") return c.state.terminated.reason;
  }
  return p.status?.phase ?? "Pending";
}

export function statusTone(s: string): "ok" | "warn" | "bad" | "info" {
  if (s === "Running" || s === "Succeeded" || s === "Completed") return "ok";
  if (s === "Pending" || s === "ContainerCreating" || s === "Terminating") return "warn";
  return "bad";
}

export const restarts = (p: K8sObject) => containerStatuses(p).reduce((n, c) => n + (c.restartCount ?? 0), 0);
export const readyCount = (p: K8sObject) =>
  `${containerStatuses(p).filter((c) => c.ready).length}/${(p.spec?.containers ?? []).length}`;

export function podColumns(metrics?: MetricsHistory): Column<K8sObject>[] {
  const cols: Column<K8sObject>[] = [
    { title: "Name", cell: (p) => <span class="name">{p.metadata.name}</span> },
    { title: "Namespace", cell: (p) => p.metadata.namespace },
    { title: "Ready", cell: readyCount },
    {
      title: "Status",
      cell: (p) => {
        const s = podStatus(p);
        return <Badge tone={statusTone(s)}>{s}</Badge>;
      },
    },
    { title: "Restarts", cell: restarts, className: "num" },
    { title: "Node", cell: (p) => p.spec?.nodeName ?? "" },
    { title: "IP", cell: (p) => p.status?.podIP ?? "" },
    { title: "Age", cell: (p) => age(p.metadata.creationTimestamp) },
  ];
  if (metrics) {
    const of = (p: K8sObject) => metrics.series.get(`${p.metadata.namespace}/${p.metadata.name}`);
    cols.push(
      { title: "CPU", cell: (p) => <Spark values={of(p)?.cpu ?? []} label="CPU" format={fmtCpu} /> },
      { title: "Memory", cell: (p) => <Spark values={of(p)?.memory ?? []} label="Memory" format={fmtBytes} /> },
    );
  }
  return cols;
}

export function PodsView(props: ViewProps) {
  const pods = useLive(props.api, listPath(R.pods, props.namespace));
  const metrics = useMetrics(props.api, "pods", props.namespace);
  const rows = pods.items.filter(byFilter(props.filter));
  return (
    <section>
      <h2>
        Pods <span class="count">{rows.length}</span>
      </h2>
      <Notice error={pods.error} />
      {metrics.error && <p class="muted metrics-off">Metrics unavailable: {metrics.error}</p>}
      <Table
        testId="pods"
        rows={rows}
        columns={podColumns(metrics.error ? undefined : metrics)}
        nav={props.nav}
        open={(p) => props.open(targetOf(R.pods, p))}
        empty={pods.loaded ? "No pods." : "Loading…"}
      />
    </section>
  );
}
