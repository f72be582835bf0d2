// The components `kube up` starts after the API server, in order.
import type { Component } from "../components/types.ts";
import { controllersComponent } from "../components/controllers/index.ts";
import { kubeletComponent } from "../components/kubelet/index.ts";
import { schedulerComponent } from "../components/scheduler/index.ts";
import { proxyComponent } from "../components/proxy/index.ts";
import { ingressComponent } from "../components/ingress/index.ts";
import { dnsComponent } from "../components/dns/index.ts";
import { routesComponent } from "../components/routes/index.ts";

export function clusterComponents(): Component[] {
  // DNS before the kubelet, so pods started at once already get the kube-dns nameserver.
  // Pod routes after the kubelet: its node has its podCIDR by then.
  return [
    schedulerComponent,
    controllersComponent,
    dnsComponent,
    kubeletComponent,
    routesComponent,
    proxyComponent,
    ingressComponent,
  ];
}
