// API Priority and Fairness for the cluster's own components. They call the API server in process
// (no socket), so serve()'s FlowControl never sees them; kube-apiserver puts the same clients in
// priority levels of their own through its bootstrap FlowSchemas (kubelets in "system" and
// "node-high", the controller manager and scheduler in "workload-high", other service accounts in
// "workload-low", everyone else in "global-default"), each level with a share of the server's
// seats and a queue per flow beyond them. In one process the seats matter more than upstream: every
// request in flight advances in the same turn of the event loop, so without a bound 5,000 pod
// creates of the ReplicaSet controllers advance together, each turn takes seconds of CPU, and a
// user's write waits tens of seconds for its few turns. With the seats a turn does a bounded amount
// of work and requests that are not queued here (the admin's, everything over the socket, which
// serve()'s FlowControl limits) get their turns at once.
import type { UserInfo } from "./auth/attributes.ts";
import { isLongRunning } from "./flowcontrol.ts";
import { Gauge, type Registry } from "../metrics/hub.ts";

/** kube-apiserver's suggested priority levels and their nominalConcurrencyShares (flowcontrol v1). */
export const PRIORITY_LEVELS = {
  system: 30,
  "node-high": 40,
  "leader-election": 10,
  "workload-high": 40,
  "workload-low": 100,
  "global-default": 20,
  "catch-all": 5,
} as const;

export type PriorityLevel = keyof typeof PRIORITY_LEVELS | "exempt";

const NODES = "system:nodes";
const MASTERS = "system:masters";
const SERVICE_ACCOUNTS = "system:serviceaccounts";
const KUBE_SYSTEM_SA = "system:serviceaccount:kube-system:";
const CONTROL_PLANE = new Set(["system:kube-controller-manager", "system:kube-scheduler"]);

/**
 * The FlowSchema and level upstream's bootstrap configuration picks for a request, in matching
 * precedence: exempt (system:masters), system-leader-election (controller manager, scheduler and
 * kube-system service accounts on leases), system-node-high (nodes on nodes and leases),
 * system-nodes, kube-controller-manager / kube-scheduler / kube-system-service-accounts,
 * service-accounts, global-default.
 */
export function flowSchemaOf(user: UserInfo | undefined, path: string): [schema: string, level: PriorityLevel] {
  if (!user) return ["global-default", "global-default"];
  const groups = user.groups;
  if (groups.includes(MASTERS)) return ["exempt", "exempt"];
  const kubeSystemSa = user.name.startsWith(KUBE_SYSTEM_SA);
  const controlPlane = CONTROL_PLANE.has(user.name) || kubeSystemSa;
  const leases = path.includes("/leases");
  if (controlPlane && leases) return ["system-leader-election", "leader-election"];
  if (groups.includes(NODES))
    return leases || /\/nodes(\/|$)/.test(path) ? ["system-node-high", "node-high"] : ["system-nodes", "system"];
  if (controlPlane)
    return [kubeSystemSa ? "kube-system-service-accounts" : user.name.slice("system:".length), "workload-high"];
  if (groups.includes(SERVICE_ACCOUNTS)) return ["service-accounts", "workload-low"];
  return ["global-default", "global-default"];
}

export const levelOf = (user: UserInfo | undefined, path: string): PriorityLevel => flowSchemaOf(user, path)[1];

/** What apiserver_flowcontrol_* report per FlowSchema and level. */
export interface FlowStats {
  schema: string;
  level: PriorityLevel;
  executing: number;
  waiting: number;
}

export interface PriorityLevelsOptions {
  /** Seats over all levels (upstream: --max-requests-inflight + --max-mutating-requests-inflight). Default 64. */
  seats?: number;
  /**
   * How long a request waits for a seat before it runs without one. In-process components do not
   * retry a 429, and a handler holding a seat may wait on another in-process request: a bound wait
   * can never deadlock. Default 30 s.
   */
  maxWaitMs?: number;
}

type Level = {
  seats: number;
  executing: number;
  /** One FIFO per flow (user); flows take turns, one request each (fair queuing in small). */
  flows: Map<string, (() => void)[]>;
};

export class PriorityLevels {
  private readonly levels = new Map<PriorityLevel, Level>();
  /** By FlowSchema and level, for the metrics. */
  readonly stats = new Map<string, FlowStats>();
  private readonly maxWaitMs: number;

  constructor(opts: PriorityLevelsOptions = {}) {
    const total = opts.seats ?? 64;
    const shares = Object.values(PRIORITY_LEVELS).reduce((a, b) => a + b, 0);
    // Upstream's nominal concurrency limit: ceil(server limit * shares / sum of shares).
    for (const [name, share] of Object.entries(PRIORITY_LEVELS))
      this.levels.set(name as PriorityLevel, {
        seats: Math.max(1, Math.ceil((total * share) / shares)),
        executing: 0,
        flows: new Map(),
      });
    this.maxWaitMs = opts.maxWaitMs ?? 30_000;
  }

  /** The seats of `level` (0 for exempt, which has no limit). */
  seatsOf(level: PriorityLevel): number {
    return this.levels.get(level)?.seats ?? 0;
  }

  /** Requests executing and waiting in `level`. */
  stateOf(level: PriorityLevel): { executing: number; waiting: number } {
    const l = this.levels.get(level);
    let waiting = 0;
    for (const q of l?.flows.values() ?? []) waiting += q.length;
    return { executing: l?.executing ?? 0, waiting };
  }

  /**
   * Serves `handle` in the request's level: at once while the level has a free seat and nobody
   * waits, else after the requests queued before it. Long-running requests (watches, exec, logs
   * that follow) take no seat, as upstream's; the seat is held until the handler's Response exists.
   */
  run(req: Request, user: UserInfo | undefined, handle: () => Promise<Response>): Promise<Response> {
    const url = new URL(req.url);
    const [schema, name] = flowSchemaOf(user, url.pathname);
    const level = this.levels.get(name);
    if (!level || isLongRunning(req, url)) return handle();
    const stats = this.statsOf(schema, name);
    const flow = user?.name ?? "";
    if (level.executing < level.seats && level.flows.size === 0) {
      level.executing++;
      return this.seated(level, stats, handle);
    }
    stats.waiting++;
    return new Promise<boolean>((resolve) => {
      const queue = level.flows.get(flow) ?? [];
      if (queue.length === 0) level.flows.set(flow, queue);
      let timer: ReturnType<typeof setTimeout> | undefined;
      // Called by dispatch() with the seat already taken for this request.
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      queue.push(wake);
      timer = setTimeout(() => {
        // Waited too long: leave the queue and run without a seat (see maxWaitMs).
        const i = queue.indexOf(wake);
        if (i < 0) return;
        queue.splice(i, 1);
        if (queue.length === 0 && level.flows.get(flow) === queue) level.flows.delete(flow);
        resolve(false);
      }, this.maxWaitMs);
    }).then((seat) => {
      stats.waiting--;
      return seat ? this.seated(level, stats, handle) : handle();
    });
  }

  private statsOf(schema: string, level: PriorityLevel): FlowStats {
    const key = `${schema} ${level}`;
    const known = this.stats.get(key);
    if (known) return known;
    const s = { schema, level, executing: 0, waiting: 0 };
    this.stats.set(key, s);
    return s;
  }

  /** Runs `handle` on a seat already taken, and gives the seat to the next waiting request. */
  private async seated(level: Level, stats: FlowStats, handle: () => Promise<Response>): Promise<Response> {
    stats.executing++;
    try {
      return await handle();
    } finally {
      stats.executing--;
      level.executing--;
      this.dispatch(level);
    }
  }

  /** Gives free seats to the waiting flows in turn (each flow to the back of the line once served). */
  private dispatch(level: Level): void {
    while (level.executing < level.seats && level.flows.size > 0) {
      const [flow, queue] = level.flows.entries().next().value as [string, (() => void)[]];
      level.flows.delete(flow);
      const wake = queue.shift()!;
      if (queue.length) level.flows.set(flow, queue);
      level.executing++; // taken now for the woken request, which runs a microtask later
      wake();
    }
  }
}

/** kube-apiserver's apiserver_flowcontrol_* series for the in-process priority levels. */
export function registerFlowControlMetrics(levels: PriorityLevels, registry: Registry): void {
  const registers = [registry];
  new Gauge({
    name: "apiserver_flowcontrol_nominal_limit_seats",
    help: "Nominal number of execution seats configured for each priority level",
    labelNames: ["priority_level"],
    registers,
    collect() {
      for (const level of Object.keys(PRIORITY_LEVELS) as PriorityLevel[])
        this.set({ priority_level: level }, levels.seatsOf(level));
    },
  });
  const perFlow = (name: string, help: string, value: (s: FlowStats) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ["flow_schema", "priority_level"],
      registers,
      collect() {
        for (const s of levels.stats.values()) this.set({ flow_schema: s.schema, priority_level: s.level }, value(s));
      },
    });
  perFlow(
    "apiserver_flowcontrol_current_executing_requests",
    "Number of requests in initial (for a WATCH) or any (for a non-WATCH) execution stage in the API Priority and Fairness subsystem",
    (s) => s.executing,
  );
  perFlow(
    "apiserver_flowcontrol_current_inqueue_requests",
    "Number of requests currently pending in queues of the API Priority and Fairness subsystem",
    (s) => s.waiting,
  );
}
