// The controllers component: every controller in one process, sharing informers; each
// reconciles keys from its own work queue.
import type { Component, ComponentContext } from "../types.ts";
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

export const CONTROLLERS: (new (ctx: ControllerContext) => Controller)[] = [ReplicationManager, ReplicaSetController, DeploymentController, EndpointsController, GarbageCollector, NamespaceController, NodeLifecycleController, JobController, CronJobController, DaemonSetController, StatefulSetController, EventTTLController, ServiceAccountsController, RootCAPublisher, LocalPathProvisioner, DisruptionController, HorizontalPodAutoscalerController, ResourceQuotaController];

export async function startControllers(ctx: Omit<ControllerContext, "informers">, which = CONTROLLERS): Promise<{ stop(): Promise<void>; informers: InformerFactory }> {
  const informers = new InformerFactory(ctx.client);
  const full: ControllerContext = { ...ctx, informers };
  const controllers = which.map((C) => new C(full));
  for (const c of controllers) c.setup();
  await informers.startAll();
  for (const c of controllers) c.run();
  return {
    informers,
    async stop() {
      await Promise.all(controllers.map((c) => c.stop()));
      informers.stopAll();
    },
  };
}

export const controllersComponent: Component = {
  name: "controllers",
  async start(ctx: ComponentContext) {
    return startControllers({ client: ctx.client, log: (m) => ctx.log("controllers", m), settings: ctx.settings, clusterCa: ctx.clusterCa, dataDir: ctx.dataDir });
  },
};
