// The controllers component: every controller in one process, sharing informers; each
// reconciles keys from its own work queue.
import { clientOf, type Component, type ComponentContext } from "../types.ts";
import { realClock, type Clock, type SharedInformerFactory } from "../../client/index.ts";
import { clusterConfig, type ClusterConfig } from "../config.ts";
import { registerWorkqueueMetrics } from "../metrics/workqueue.ts";
import { InformerFactory, type Controller, type ControllerContext } from "./base.ts";
import { DaemonSetController } from "./daemonset/index.ts";
import { GarbageCollector } from "./gc/index.ts";
import { JobController } from "./job/index.ts";
import { NamespaceController } from "./namespace/index.ts";
import { NodeLifecycleController } from "./nodelifecycle/index.ts";
import { StatefulSetController } from "./statefulset/index.ts";
import { ReplicaSetController, ReplicationManager } from "./replication/index.ts";
import { DeploymentController } from "./deployment/index.ts";
import { EndpointsController } from "./endpoints/index.ts";
import { EventTTLController } from "./eventttl/index.ts";
import { ServiceAccountsController } from "./serviceaccount/index.ts";
import { RootCAPublisher } from "./rootca/index.ts";
import { LocalPathProvisioner } from "./localpath/index.ts";
import { CronJobController } from "./cronjob/index.ts";
import { DisruptionController } from "./disruption/index.ts";
import { HorizontalPodAutoscalerController } from "./hpa/index.ts";
import { ResourceQuotaController } from "./resourcequota/index.ts";
import { ClusterRoleAggregationController } from "./clusterroleaggregation/index.ts";
import { TokenCleaner } from "./tokencleaner/index.ts";
import { NodeIpamController } from "./nodeipam/index.ts";

export const CONTROLLERS: (new (ctx: ControllerContext) => Controller)[] = [
  ReplicationManager,
  ReplicaSetController,
  DeploymentController,
  EndpointsController,
  GarbageCollector,
  NamespaceController,
  NodeLifecycleController,
  NodeIpamController,
  JobController,
  CronJobController,
  DaemonSetController,
  StatefulSetController,
  EventTTLController,
  ServiceAccountsController,
  RootCAPublisher,
  LocalPathProvisioner,
  DisruptionController,
  HorizontalPodAutoscalerController,
  ResourceQuotaController,
  ClusterRoleAggregationController,
  TokenCleaner,
];

/** The service account (kube-system/NAME, bound to system:controller:NAME) each controller acts as. */
const SERVICE_ACCOUNTS = new Map<Function, string>([
  [ReplicationManager, "replication-controller"],
  [ReplicaSetController, "replicaset-controller"],
  [DeploymentController, "deployment-controller"],
  [EndpointsController, "endpoint-controller"],
  [GarbageCollector, "generic-garbage-collector"],
  [NamespaceController, "namespace-controller"],
  [NodeLifecycleController, "node-controller"],
  // Upstream's nodeipam controller also acts as node-controller.
  [NodeIpamController, "node-controller"],
  [JobController, "job-controller"],
  [CronJobController, "cronjob-controller"],
  [DaemonSetController, "daemon-set-controller"],
  [StatefulSetController, "statefulset-controller"],
  [EventTTLController, "event-ttl-controller"],
  [ServiceAccountsController, "service-account-controller"],
  [RootCAPublisher, "root-ca-cert-publisher"],
  [LocalPathProvisioner, "local-path-provisioner"],
  [DisruptionController, "disruption-controller"],
  [HorizontalPodAutoscalerController, "horizontal-pod-autoscaler"],
  [ClusterRoleAggregationController, "clusterrole-aggregation-controller"],
  [ResourceQuotaController, "resourcequota-controller"],
  [TokenCleaner, "token-cleaner"],
]);

/**
 * Starts the controllers once their informers have synced, except the background ones (metadata of every
 * object, for the garbage collector and quota counts), which list once `background` resolves; the
 * controllers that read those wait for them before their workers start.
 */
export async function startControllers(
  ctx: Omit<ControllerContext, "informers" | "config" | "clock"> & { config?: Partial<ClusterConfig>; clock?: Clock },
  which = CONTROLLERS,
  background?: Promise<unknown>,
  shared?: SharedInformerFactory,
): Promise<{ stop(): Promise<void>; informers: InformerFactory; controllers: Controller[] }> {
  // Shared informers read as the controller manager (list/watch of everything); each controller
  // writes as its own service account, as kube-controller-manager --use-service-account-credentials.
  const informers = new InformerFactory(ctx.client, background, shared);
  const full: ControllerContext = {
    ...ctx,
    informers,
    config: clusterConfig(ctx.config),
    clock: ctx.clock ?? realClock,
  };
  const controllers = which.map((C) => {
    const sa = SERVICE_ACCOUNTS.get(C);
    return new C(sa && ctx.clientFor ? { ...full, client: ctx.clientFor(sa) } : full);
  });
  for (const c of controllers) c.setup();
  await informers.startAll();
  for (const c of controllers) c.run();
  return {
    informers,
    controllers,
    async stop() {
      await Promise.all(controllers.map((c) => c.stop()));
      informers.stopAll();
    },
  };
}

export const controllersComponent: Component = {
  name: "controllers",
  async start(ctx: ComponentContext) {
    const clientFor =
      ctx.clientAs &&
      ((sa: string) =>
        ctx.clientAs!({
          name: `system:serviceaccount:kube-system:${sa}`,
          groups: ["system:serviceaccounts", "system:serviceaccounts:kube-system"],
        }));
    const running = await startControllers(
      {
        client: clientOf(ctx, "system:kube-controller-manager"),
        clientFor,
        log: (m) => ctx.log("controllers", m),
        config: ctx.config,
        clock: ctx.clock,
        clusterCa: ctx.clusterCa,
        dataDir: ctx.dataDir,
      },
      CONTROLLERS,
      ctx.started,
      ctx.informers,
    );
    const registry = ctx.metrics?.registry();
    if (registry) registerWorkqueueMetrics(registry, () => running.controllers);
    return {
      async stop() {
        if (registry) ctx.metrics?.remove(registry);
        await running.stop();
      },
    };
  },
};
