// One object, live: overview and actions (scale, restart, delete), YAML (server-side apply),
// events, and for pods logs, an exec terminal and port-forwarding.
import { useEffect, useState } from "preact/hooks";
import type { Api, K8sObject } from "./api.ts";
import { messageOf } from "./api.ts";
import type { Target, ViewProps } from "./context.ts";
import { useLive, useMetrics } from "./hooks.ts";
import { Logs } from "./logs.tsx";
import { age, listPath, matches, objectPath, R } from "./resources.ts";
import { Terminal } from "./terminal.tsx";
import { podColumns } from "./views/pods.tsx";
import { readyOf, rolloutState } from "./views/workloads.tsx";
import { Badge, fmtBytes, fmtCpu, Notice, Rows, Spark, Table } from "./widgets.tsx";
import { YamlEditor } from "./yaml-editor.tsx";

type Tab = "overview" | "yaml" | "events" | "logs" | "terminal" | "ports";

export function Detail(props: { target: Target; close(): void } & Omit<ViewProps, "nav" | "filter">) {
  const { target, api } = props;
  const [tab, setTab] = useState<Tab>("overview");
  const listOne = `${listPath(target.res, target.namespace ?? "")}?fieldSelector=${encodeURIComponent(
    `metadata.name=${target.name}`,
  )}`;
  const live = useLive(api, listOne);
  const obj = live.items.find((o) => o.metadata.name === target.name);
  const path = objectPath(target.res, target.namespace, target.name);
  const isPod = target.res === R.pods;
  const tabs: Tab[] = ["overview", "yaml", "events", ...(isPod ? (["logs", "terminal", "ports"] as Tab[]) : [])];
  useEffect(() => setTab("overview"), [path]);
  return (
    <aside class="detail" data-testid="detail">
      <header>
        <div>
          <span class="kind">{target.res.kind}</span> <strong>{target.name}</strong>
          {target.namespace && <span class="muted"> in {target.namespace}</span>}
        </div>
        <button type="button" class="close" title="Close (Esc)" onClick={props.close}>
          ×
        </button>
      </header>
      <nav class="tabs">
        {tabs.map((t) => (
          <button type="button" class={t === tab ? "active" : ""} data-tab={t} onClick={() => setTab(t)}>
            {t === "ports" ? "port-forward" : t}
          </button>
        ))}
      </nav>
      <Notice error={live.error} />
      {live.loaded && !obj && <p class="muted">{target.name} does not exist (any more).</p>}
      {obj && tab === "overview" && <Overview {...props} obj={obj} path={path} />}
      {obj && tab === "yaml" && <YamlEditor api={api} path={path} obj={obj} notify={props.notify} />}
      {tab === "events" && <Events api={api} target={target} uid={obj?.metadata.uid} />}
      {obj && tab === "logs" && <Logs api={api} pod={obj} />}
      {obj && tab === "terminal" && <Terminal api={api} pod={obj} />}
      {obj && tab === "ports" && <PortForward pod={obj} />}
    </aside>
  );
}

function Overview(
  props: { obj: K8sObject; path: string; target: Target; close(): void } & Omit<ViewProps, "nav" | "filter">,
) {
  const { obj, target, api } = props;
  const res = target.res;
  const act = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
      props.notify(what, "ok");
    } catch (err) {
      props.notify(messageOf(err), "bad");
    }
  };
  const [replicas, setReplicas] = useState<string>(String(obj.spec?.replicas ?? 1));
  useEffect(() => setReplicas(String(obj.spec?.replicas ?? 1)), [obj.spec?.replicas]);
  const labels = Object.entries(obj.metadata.labels ?? {});
  return (
    <div class="overview">
      <div class="actions">
        {res.scalable && (
          <form
            class="scale"
            onSubmit={(e) => {
              e.preventDefault();
              void act(`Scaled ${target.name} to ${replicas}`, () =>
                api.mergePatch(`${props.path}/scale`, { spec: { replicas: Number(replicas) } }),
              );
            }}
          >
            <label>
              Replicas{" "}
              <input
                type="number"
                min="0"
                name="replicas"
                value={replicas}
                onInput={(e) => setReplicas((e.target as HTMLInputElement).value)}
              />
            </label>
            <button type="submit">Scale</button>
          </form>
        )}
        {res.restartable && (
          <button
            type="button"
            onClick={() =>
              act(`Restarted ${target.name}`, () =>
                api.mergePatch(props.path, {
                  spec: {
                    template: {
                      metadata: { annotations: { "kubectl.kubernetes.io/restartedAt": new Date().toISOString() } },
                    },
                  },
                }),
              )
            }
          >
            Restart
          </button>
        )}
        <button
          type="button"
          class="danger"
          onClick={() => {
            if (confirm(`Delete ${res.kind} ${target.name}?`))
              void act(`Deleted ${target.name}`, async () => {
                await api.remove(props.path);
                props.close();
              });
          }}
        >
          Delete
        </button>
      </div>
      <dl>
        <dt>Created</dt>
        <dd>
          {obj.metadata.creationTimestamp} ({age(obj.metadata.creationTimestamp)})
        </dd>
        {labels.length > 0 && (
          <>
            <dt>Labels</dt>
            <dd>
              {labels.map(([k, v]) => (
                <code class="label">
                  {k}={v}
                </code>
              ))}
            </dd>
          </>
        )}
        {["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"].includes(res.kind) && (
          <>
            <dt>Ready</dt>
            <dd>{readyOf(res, obj)}</dd>
            <dt>Rollout</dt>
            <dd>
              <Badge tone={rolloutState(res, obj).tone}>{rolloutState(res, obj).text}</Badge>
            </dd>
          </>
        )}
        {res === R.pods && <PodFacts api={api} pod={obj} />}
      </dl>
      {obj.spec?.selector && res !== R.services && res !== R.pods && <WorkloadPods {...props} />}
    </div>
  );
}

function PodFacts(props: { api: Api; pod: K8sObject }) {
  const { pod } = props;
  const metrics = useMetrics(props.api, "pods", pod.metadata.namespace ?? "");
  const m = metrics.series.get(`${pod.metadata.namespace}/${pod.metadata.name}`);
  return (
    <>
      <dt>Node</dt>
      <dd>{pod.spec?.nodeName ?? "(not scheduled)"}</dd>
      <dt>IP</dt>
      <dd>{pod.status?.podIP ?? ""}</dd>
      <dt>Containers</dt>
      <dd>
        {(pod.status?.containerStatuses ?? []).map(
          (c: { name: string; image: string; ready: boolean; restartCount: number; state?: object }) => (
            <div>
              <code>{c.name}</code> {c.image}{" "}
              <Badge tone={c.ready ? "ok" : "warn"}>{c.ready ? "ready" : "not ready"}</Badge> restarts {c.restartCount}{" "}
              <span class="muted">{Object.keys(c.state ?? {})[0]}</span>
            </div>
          ),
        )}
      </dd>
      <dt>Usage</dt>
      <dd>
        {metrics.error ? (
          <span class="muted metrics-off">Metrics unavailable: {metrics.error}</span>
        ) : (
          <>
            CPU <Spark values={m?.cpu ?? []} label="CPU" format={fmtCpu} /> Memory{" "}
            <Spark values={m?.memory ?? []} label="Memory" format={fmtBytes} />
          </>
        )}
      </dd>
    </>
  );
}

/** The pods a workload selects (Jobs and ReplicaSets select by label too; CronJobs own Jobs instead). */
function WorkloadPods(props: { obj: K8sObject; target: Target } & Omit<ViewProps, "nav" | "filter">) {
  const pods = useLive(props.api, listPath(R.pods, props.target.namespace ?? ""));
  const mine = pods.items.filter((p) => matches(props.obj.spec?.selector, p.metadata.labels));
  return (
    <div class="block">
      <h3>
        Pods <span class="count">{mine.length}</span>
      </h3>
      <Table
        testId="workload-pods"
        rows={mine}
        columns={podColumns()}
        nav={new Rows(-1)}
        open={(p) => props.open({ res: R.pods, namespace: p.metadata.namespace, name: p.metadata.name })}
      />
    </div>
  );
}

function Events(props: { api: Api; target: Target; uid?: string }) {
  const live = useLive(props.api, listPath(R.events, props.target.namespace ?? "default"));
  const mine = live.items
    .filter((e) => {
      const io = e.involvedObject as { kind?: string; name?: string; uid?: string } | undefined;
      return (
        io && (props.uid ? io.uid === props.uid : io.name === props.target.name && io.kind === props.target.res.kind)
      );
    })
    .sort((a, b) => String(b.lastTimestamp ?? "").localeCompare(String(a.lastTimestamp ?? "")));
  return (
    <div>
      <Notice error={live.error} />
      <Table
        testId="events"
        rows={mine}
        nav={new Rows(-1)}
        open={() => {}}
        empty={live.loaded ? "No events." : "Loading…"}
        columns={[
          { title: "Type", cell: (e) => <Badge tone={e.type === "Warning" ? "bad" : "info"}>{String(e.type)}</Badge> },
          { title: "Reason", cell: (e) => String(e.reason ?? "") },
          { title: "Message", cell: (e) => String(e.message ?? "") },
          { title: "Count", cell: (e) => String(e.count ?? 1), className: "num" },
          { title: "Last seen", cell: (e) => age((e.lastTimestamp ?? e.eventTime) as string | undefined) },
        ]}
      />
    </div>
  );
}

/** Browsers cannot listen on ports: the page gives the command that forwards from this host. */
function PortForward(props: { pod: K8sObject }) {
  const ports = (props.pod.spec?.containers ?? []).flatMap(
    (c: { ports?: { containerPort: number }[] }) => c.ports?.map((p) => p.containerPort) ?? [],
  );
  const port = ports[0] ?? 8080;
  const cmd = `kube port-forward -n ${props.pod.metadata.namespace} pod/${props.pod.metadata.name} ${port}:${port}`;
  return (
    <div class="ports">
      <p>A browser cannot open a listening port on this host, so the forward runs from a terminal:</p>
      <pre data-testid="port-forward-command">{cmd}</pre>
      <button type="button" onClick={() => void navigator.clipboard?.writeText(cmd).catch(() => {})}>
        Copy
      </button>
      <p>
        then open <a href={`http://127.0.0.1:${port}/`}>http://127.0.0.1:{port}/</a> (kubectl 1.31+ works too:{" "}
        <code>kubectl port-forward</code>). Pod IPs ({props.pod.status?.podIP ?? "none yet"}) are reachable from this
        host directly as well.
      </p>
    </div>
  );
}
