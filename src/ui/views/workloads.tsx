// Workloads: Deployments, StatefulSets, DaemonSets, Jobs and CronJobs with their rollout state.
import type { K8sObject } from "../api.ts";
import { byFilter, targetOf, type ViewProps } from "../context.ts";
import { useLive } from "../hooks.ts";
import { age, listPath, type Res, R } from "../resources.ts";
import { Badge, Notice, Table, type Column } from "../widgets.tsx";

/** A short rollout state, as `kubectl rollout status` would judge it. */
export function rolloutState(res: Res, o: K8sObject): { text: string; tone: "ok" | "warn" | "bad" | "info" } {
  const s = o.status ?? {};
  const spec = o.spec ?? {};
  const observed = (s.observedGeneration ?? 0) >= (o.metadata.generation ?? 0);
  switch (res.kind) {
    case "Deployment": {
      const want = spec.replicas ?? 1;
      const failed = (s.conditions ?? []).some(
        (c: { type: string; reason?: string }) => c.type === "Progressing" && c.reason === "ProgressDeadlineExceeded",
      );
      if (failed) return { text: "failed (progress deadline exceeded)", tone: "bad" };
      if (
        observed &&
        (s.updatedReplicas ?? 0) === want &&
        (s.availableReplicas ?? 0) === want &&
        (s.replicas ?? 0) === want
      )
        return { text: "complete", tone: "ok" };
      return {
        text: `progressing ${s.updatedReplicas ?? 0}/${want} updated, ${s.availableReplicas ?? 0} available`,
        tone: "warn",
      };
    }
    case "StatefulSet": {
      const want = spec.replicas ?? 1;
      if (observed && (s.readyReplicas ?? 0) === want && (s.updatedReplicas ?? want) === want)
        return { text: "complete", tone: "ok" };
      return { text: `progressing ${s.readyReplicas ?? 0}/${want} ready`, tone: "warn" };
    }
    case "DaemonSet": {
      const want = s.desiredNumberScheduled ?? 0;
      if (observed && (s.updatedNumberScheduled ?? 0) === want && (s.numberAvailable ?? 0) === want)
        return { text: "complete", tone: "ok" };
      return { text: `progressing ${s.numberAvailable ?? 0}/${want} available`, tone: "warn" };
    }
    case "Job": {
      const done = (s.conditions ?? []).find(
        (c: { type: string; status: string }) => ["Complete", "Failed"].includes(c.type) && c.status === "True",
      );
      if (done) return { text: done.type, tone: done.type === "Complete" ? "ok" : "bad" };
      return { text: `running (${s.active ?? 0} active, ${s.succeeded ?? 0} succeeded)`, tone: "warn" };
    }
    case "CronJob":
      return {
        text: spec.suspend ? "suspended" : `last ${s.lastScheduleTime ? `${age(s.lastScheduleTime)} ago` : "never"}`,
        tone: spec.suspend ? "info" : "ok",
      };
  }
  return { text: "", tone: "info" };
}

export function readyOf(res: Res, o: K8sObject): string {
  const s = o.status ?? {};
  switch (res.kind) {
    case "Deployment":
    case "StatefulSet":
      return `${s.readyReplicas ?? 0}/${o.spec?.replicas ?? 1}`;
    case "DaemonSet":
      return `${s.numberReady ?? 0}/${s.desiredNumberScheduled ?? 0}`;
    case "Job":
      return `${s.succeeded ?? 0}/${o.spec?.completions ?? 1}`;
    case "CronJob":
      return o.spec?.schedule ?? "";
  }
  return "";
}

function columns(res: Res): Column<K8sObject>[] {
  return [
    { title: "Name", cell: (o) => <span class="name">{o.metadata.name}</span> },
    { title: "Namespace", cell: (o) => o.metadata.namespace },
    {
      title: res.kind === "CronJob" ? "Schedule" : res.kind === "Job" ? "Completions" : "Ready",
      cell: (o) => readyOf(res, o),
    },
    {
      title: "Rollout",
      cell: (o) => {
        const r = rolloutState(res, o);
        return <Badge tone={r.tone}>{r.text}</Badge>;
      },
    },
    { title: "Age", cell: (o) => age(o.metadata.creationTimestamp) },
  ];
}

function WorkloadTable(props: ViewProps & { res: Res; title: string; order: number }) {
  const live = useLive(props.api, listPath(props.res, props.namespace));
  const rows = live.items.filter(byFilter(props.filter));
  if (live.loaded && rows.length === 0 && !live.error) {
    props.nav.drop(props.res.plural);
    return null;
  }
  return (
    <div class="block">
      <h3>
        {props.title} <span class="count">{rows.length}</span>
      </h3>
      <Notice error={live.error} />
      <Table
        testId={props.res.plural}
        rows={rows}
        columns={columns(props.res)}
        nav={props.nav}
        order={props.order}
        open={(o) => props.open(targetOf(props.res, o))}
        empty="Loading…"
      />
    </div>
  );
}

export function WorkloadsView(props: ViewProps) {
  return (
    <section>
      <h2>Workloads</h2>
      <WorkloadTable {...props} res={R.deployments} title="Deployments" order={0} />
      <WorkloadTable {...props} res={R.statefulsets} title="StatefulSets" order={1} />
      <WorkloadTable {...props} res={R.daemonsets} title="DaemonSets" order={2} />
      <WorkloadTable {...props} res={R.jobs} title="Jobs" order={3} />
      <WorkloadTable {...props} res={R.cronjobs} title="CronJobs" order={4} />
    </section>
  );
}
