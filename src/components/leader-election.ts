// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection package: when
// several API servers share one etcd, one process runs the scheduler (and one the controllers).
// A candidate takes the Lease when it is free or its holder has not renewed it for
// leaseDurationSeconds *as observed locally* (no clock comparison between machines); the leader
// renews every retry period and steps down when it could not renew for the renew deadline, which
// is shorter than the lease, so it has stopped before anyone else may take over. Every write is
// an update guarded by the Lease's resourceVersion: of two candidates racing, one gets a 409.
import { hostname } from "node:os";
import { randomUUID } from "node:crypto";
import { microTime } from "../api/time.ts";
import type { Lease, LeaseSpec } from "../api/kinds/core.ts";
import { isAlreadyExists, isConflict, isNotFound, type Client } from "../client/index.ts";
import { clientOf, type Component, type RunningComponent } from "./types.ts";

export interface LeaderElectionConfig {
  client: Client;
  namespace: string;
  name: string;
  /** Unique per process: hostname_uuid, as upstream. */
  identity?: string;
  /** Upstream's defaults for kube-scheduler and kube-controller-manager: 15 s, 10 s, 2 s. */
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onStartedLeading(): Promise<void>;
  onStoppedLeading(): Promise<void>;
  log?: (message: string) => void;
}

export interface LeaderElector {
  identity: string;
  isLeader(): boolean;
  /** Stops electing; a leader stops leading and releases the Lease so another takes over at once. */
  stop(): Promise<void>;
}

export const LEASE_DURATION_MS = 15_000;
export const RENEW_DEADLINE_MS = 10_000;
export const RETRY_PERIOD_MS = 2_000;

let processIdentity: string | undefined;
/** hostname_uuid, as upstream; one per process, so its log names one candidate. */
export function defaultIdentity(): string {
  processIdentity ??= `${hostname()}_${randomUUID()}`;
  return processIdentity;
}

export function runLeaderElection(cfg: LeaderElectionConfig): LeaderElector {
  const identity = cfg.identity ?? defaultIdentity();
  const leaseMs = cfg.leaseDurationMs ?? LEASE_DURATION_MS;
  const renewDeadline = cfg.renewDeadlineMs ?? RENEW_DEADLINE_MS;
  const retry = cfg.retryPeriodMs ?? RETRY_PERIOD_MS;
  const leases = cfg.client.resource<Lease>("leases.coordination.k8s.io", cfg.namespace);
  const what = `${cfg.namespace}/${cfg.name}`;
  const log = cfg.log ?? (() => {});
  const stopping = new AbortController();
  let leading = false;
  let observed: { record: string; at: number; lease?: Lease } = { record: "", at: 0 };
  /** When another's Lease, as observed here, runs out: the next attempt is then, not a retry later. */
  let othersExpireAt = Number.POSITIVE_INFINITY;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      const wake = () => {
        clearTimeout(t);
        resolve();
      };
      stopping.signal.addEventListener("abort", wake, { once: true });
    });

  /** One attempt to take or keep the Lease; true when this process holds it afterwards. */
  async function tryAcquireOrRenew(): Promise<boolean> {
    const now = Date.now();
    let lease: Lease;
    try {
      lease = await leases.get(cfg.name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      const spec: LeaseSpec = {
        holderIdentity: identity,
        leaseDurationSeconds: Math.round(leaseMs / 1000),
        acquireTime: microTime(),
        renewTime: microTime(),
        leaseTransitions: 0,
      };
      try {
        observed = {
          record: JSON.stringify(spec),
          at: now,
          lease: await leases.create({
            apiVersion: "coordination.k8s.io/v1",
            kind: "Lease",
            metadata: { name: cfg.name, namespace: cfg.namespace },
            spec,
          }),
        };
        return true;
      } catch (e) {
        if (isAlreadyExists(e)) return false;
        throw e;
      }
    }
    const spec = lease.spec ?? {};
    const record = JSON.stringify(spec);
    // The holder's clock is not ours: what counts is how long we have seen the record unchanged.
    if (record !== observed.record) observed = { record, at: now, lease };
    const holder = spec.holderIdentity ?? "";
    const expired = observed.at + (spec.leaseDurationSeconds ?? leaseMs / 1000) * 1000 <= now;
    if (holder && holder !== identity && !expired) {
      othersExpireAt = observed.at + (spec.leaseDurationSeconds ?? leaseMs / 1000) * 1000;
      return false;
    }
    const mine = holder === identity;
    const next: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.round(leaseMs / 1000),
      acquireTime: mine && spec.acquireTime ? spec.acquireTime : microTime(),
      renewTime: microTime(),
      leaseTransitions: mine ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
    };
    try {
      // The resourceVersion read above fences the write: a concurrent change makes it a 409.
      const updated = await leases.update({ ...lease, spec: next });
      observed = { record: JSON.stringify(updated.spec ?? next), at: Date.now(), lease: updated };
      return true;
    } catch (e) {
      if (isConflict(e)) return false;
      throw e;
    }
  }

  const attempt = () =>
    tryAcquireOrRenew().catch((err: Error) => {
      log(`error retrieving resource lock ${what}: ${err.message}`);
      return false;
    });

  async function release(): Promise<void> {
    const lease = observed.lease;
    if (!lease || lease.spec?.holderIdentity !== identity) return;
    // As upstream's ReleaseOnCancel: an empty holder with a 1 s lease, so the next candidate need not wait.
    const spec: LeaseSpec = {
      leaseDurationSeconds: 1,
      acquireTime: microTime(),
      renewTime: microTime(),
      leaseTransitions: lease.spec?.leaseTransitions ?? 0,
    };
    await leases.update({ ...lease, spec }).catch(() => {});
  }

  const done = (async () => {
    while (!stopping.signal.aborted) {
      // Jittered as upstream (JitterFactor 1.2), so candidates do not try in lockstep; but no later than
      // the moment the holder's Lease expires as observed here, which cuts up to a retry off a takeover.
      for (othersExpireAt = Number.POSITIVE_INFINITY; !stopping.signal.aborted && !(await attempt()); ) {
        const untilExpiry = Math.max(0, othersExpireAt - Date.now()) + 5;
        await sleep(Math.min(retry * (1 + Math.random() * 1.2), untilExpiry));
        othersExpireAt = Number.POSITIVE_INFINITY;
      }
      if (stopping.signal.aborted) break;
      leading = true;
      log(`successfully acquired lease ${what} as ${identity}`);
      await cfg.onStartedLeading();
      let renewed = Date.now();
      while (!stopping.signal.aborted) {
        await sleep(retry);
        if (stopping.signal.aborted) break;
        if (await attempt()) renewed = Date.now();
        else if (Date.now() - renewed >= renewDeadline) {
          log(`failed to renew lease ${what}: timed out waiting for the condition; leaderelection lost`);
          break;
        }
      }
      leading = false;
      await cfg.onStoppedLeading();
    }
    await release();
  })();

  return {
    identity,
    isLeader: () => leading,
    async stop() {
      stopping.abort();
      await done;
    },
  };
}

/**
 * A component that runs only while this process leads: `kube up` on a shared etcd wraps the
 * scheduler (Lease kube-system/kube-scheduler) and the controllers (kube-controller-manager).
 */
export function leaderElected(component: Component, lease: string, user: string): Component {
  return {
    name: component.name,
    async start(ctx) {
      let running: RunningComponent | undefined;
      const log = (m: string) => ctx.log(component.name, m);
      const elector = runLeaderElection({
        client: clientOf(ctx, user),
        namespace: "kube-system",
        name: lease,
        log,
        onStartedLeading: async () => {
          running = await component.start(ctx).catch((err: Error) => {
            log(`failed to start as leader: ${err.message}`);
            return undefined;
          });
        },
        onStoppedLeading: async () => {
          await running?.stop().catch(() => {});
          running = undefined;
        },
      });
      log(`attempting to acquire leader lease kube-system/${lease} as ${elector.identity}`);
      return { stop: () => elector.stop() };
    },
  };
}
