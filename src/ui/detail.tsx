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
      {obj && tab === "ports" && <PortForward api={api} pod={obj} notify={props.notify} />}
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

/**
 * Port-forward: a browser cannot listen on a port, so the API server opens one on 127.0.0.1 of its
 * host for this page (checked as pods/portforward for the page's identity) and the page links it.
 * The forward lasts until stopped, the pod goes or the page closes. The command works as well.
 */
function PortForward(props: { api: Api; pod: K8sObject; notify: ViewProps["notify"] }) {
  const { api, pod } = props;
  const ports: number[] = (pod.spec?.containers ?? []).flatMap(
    (c: { ports?: { containerPort: number }[] }) => c.ports?.map((p) => p.containerPort) ?? [],
  );
  const [port, setPort] = useState(String(ports[0] ?? 8080));
  const [busy, setBusy] = useState(false);
  const [, setVersion] = useState(0);
  useEffect(() => api.onForwards(() => setVersion((v) => v + 1)), [api]);
  const mine = [...api.forwards.values()].filter(
    (f) => f.target.namespace === pod.metadata.namespace && f.target.pod === pod.metadata.name,
  );
  const start = async () => {
    setBusy(true);
    try {
      const f = await api.startForward({
        namespace: pod.metadata.namespace ?? "",
        pod: pod.metadata.name,
        port: Number(port),
      });
      props.notify(`Forwarding 127.0.0.1:${f.port} -> ${f.target.pod}:${f.target.port}`);
    } catch (err) {
      props.notify(messageOf(err), "bad");
    } finally {
      setBusy(false);
    }
  };
  const cmd = `kube port-forward -n ${pod.metadata.namespace} pod/${pod.metadata.name} ${port}:${port}`;
  return (
    <div class="ports">
      <form
        class="forward"
        onSubmit={(e) => {
          e.preventDefault();
          void start();
        }}
      >
        <label>
          Pod port{" "}
          <input
            type="number"
            min="1"
            max="65535"
            name="forward-port"
            value={port}
            onInput={(e) => setPort((e.target as HTMLInputElement).value)}
          />
        </label>
        <button type="submit" disabled={busy}>
          Forward
        </button>
      </form>
      <p class="muted">
        The API server listens on a free port of 127.0.0.1 on its host (this machine, when the cluster runs here) and
        forwards each connection to the pod, as <code>kubectl port-forward</code> does.
      </p>
      <ul class="forwards" data-testid="forwards">
        {mine.map((f) => (
          <li data-testid="forward" data-port={f.target.port}>
            {f.ended ? (
              <>
                <span class="muted">
                  127.0.0.1:{f.port} → {f.target.port}: ended ({f.ended})
                </span>{" "}
              </>
            ) : (
              <>
                <a href={`http://127.0.0.1:${f.port}/`} target="_blank" rel="noreferrer" data-testid="forward-link">
                  http://127.0.0.1:{f.port}/
                </a>{" "}
                → {f.target.port}{" "}
                <button type="button" onClick={() => f.stop()}>
                  Stop
                </button>
              </>
            )}
          </li>
        ))}
      </ul>
      <p>
        From a terminal instead: <code data-testid="port-forward-command">{cmd}</code>{" "}
        <button type="button" onClick={() => void navigator.clipboard?.writeText(cmd).catch(() => {})}>
          Copy
        </button>
      </p>
    </div>
  );
}
