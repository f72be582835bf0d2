// Preact hooks over the API: a live list (list + watch, see api.ts) and polled metrics history.
import { useEffect, useState } from "preact/hooks";
import { type Api, type K8sObject, messageOf, watchList } from "./api.ts";

export interface Live {
  items: K8sObject[];
  /** Set while the watch is down (retrying) or forbidden. */
  error?: string;
  loaded: boolean;
}

const keyOf = (o: K8sObject) => `${o.metadata.namespace ?? ""}/${o.metadata.name}`;

/** Objects under `path` (a list path, or undefined for none), kept current by a watch. */
export function useLive(api: Api, path: string | undefined): Live {
  const [live, setLive] = useState<Live>({ items: [], loaded: false });
  useEffect(() => {
    setLive({ items: [], loaded: false });
    if (!path) return;
    const byKey = new Map<string, K8sObject>();
    let scheduled = false;
    let error: string | undefined;
    // Events come in bursts (a rollout): one render per frame.
    const flush = () => {
      if (scheduled) return;
      scheduled = true;
      setTimeout(() => {
        scheduled = false;
        const items = [...byKey.values()].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
        setLive({ items, error, loaded: true });
      }, 16);
    };
    return watchList(api, path, {
      reset(items) {
        byKey.clear();
        for (const o of items) byKey.set(keyOf(o), o);
        flush();
      },
      event(type, obj) {
        if (type === "DELETED") byKey.delete(keyOf(obj));
        else byKey.set(keyOf(obj), obj);
        flush();
      },
      state(e) {
        error = e;
        flush();
      },
    });
  }, [api, path]);
  return live;
}

export interface Usage {
  cpu: number[];
  memory: number[];
}

export interface MetricsHistory {
  /** Samples per "namespace/name" (nodes: "/name"), oldest first, at most MAX_SAMPLES. */
  series: Map<string, Usage>;
  error?: string;
}

const MAX_SAMPLES = 30;

/** Polls metrics.k8s.io (`nodes` or `pods`) every 10 s and keeps a short history for charts. */
export function useMetrics(api: Api, what: "nodes" | "pods", namespace: string): MetricsHistory {
  const [state, setState] = useState<MetricsHistory>({ series: new Map() });
  useEffect(() => {
    const series = new Map<string, Usage>();
    let stopped = false;
    const path =
      what === "pods" && namespace
        ? `/apis/metrics.k8s.io/v1beta1/namespaces/${namespace}/pods`
        : `/apis/metrics.k8s.io/v1beta1/${what}`;
    const poll = async () => {
      try {
        const list = await api.get<{ items: MetricItem[] }>(path);
        for (const m of list.items ?? []) {
          const key = `${m.metadata.namespace ?? ""}/${m.metadata.name}`;
          const u = m.usage ?? sum(m.containers ?? []);
          const s = series.get(key) ?? { cpu: [], memory: [] };
          s.cpu = [...s.cpu, cpuCores(u.cpu)].slice(-MAX_SAMPLES);
          s.memory = [...s.memory, bytes(u.memory)].slice(-MAX_SAMPLES);
          series.set(key, s);
        }
        if (!stopped) setState({ series: new Map(series) });
      } catch (err) {
        if (!stopped) setState({ series: new Map(series), error: messageOf(err) });
      }
    };
    void poll();
    const timer = setInterval(poll, 10_000);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [api, what, namespace]);
  return state;
}

interface MetricItem {
  metadata: { name: string; namespace?: string };
  usage?: { cpu?: string; memory?: string };
  containers?: { usage: { cpu?: string; memory?: string } }[];
}

function sum(containers: { usage: { cpu?: string; memory?: string } }[]): { cpu: string; memory: string } {
  let cpu = 0;
  let mem = 0;
  for (const c of containers) {
    cpu += cpuCores(c.usage.cpu);
    mem += bytes(c.usage.memory);
  }
  return { cpu: `${cpu}`, memory: `${mem}` };
}

/** "250m", "1", "12345n" -> cores. */
export function cpuCores(q: string | undefined): number {
  if (!q) return 0;
  const m = /^([0-9.]+)([numk]?)$/.exec(q);
  if (!m) return 0;
  const scale = { n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, "": 1 }[m[2] as "n"];
  return Number(m[1]) * scale;
}

/** "128Mi", "1Gi", "1000k", "2048" -> bytes. */
export function bytes(q: string | undefined): number {
  if (!q) return 0;
  const m = /^([0-9.]+)([KMGTP]i?|k)?$/.exec(q);
  if (!m) return 0;
  const units: Record<string, number> = {
    "": 1,
    k: 1e3,
    K: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    P: 1e15,
    Ki: 1024,
    Mi: 1024 ** 2,
    Gi: 1024 ** 3,
    Ti: 1024 ** 4,
    Pi: 1024 ** 5,
  };
  return Number(m[1]) * (units[m[2] ?? ""] ?? 1);
}
