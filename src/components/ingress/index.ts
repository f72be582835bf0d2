// The ingress controller: one HTTP listener (127.0.0.1, port 80 as root, else 8080; config
// ingressPort) that routes by the rules of every Ingress to the backend service's cluster IP and
// port, which the service proxy serves. Requests stream both ways; X-Forwarded-* headers are set.
// Each Ingress's status gets the listener's address (kubectl's ADDRESS column). A default
// IngressClass `kube` is created so manifests naming no class have one to point at.
import type { Service } from "../../api/kinds/service.ts";
import type { Ingress } from "../../api/kinds/stored.ts";
import { Informer, isAlreadyExists, isNotFound, keyOf, ignore, isConflict } from "../../client/index.ts";
import { clientOf, type Component, type ComponentContext } from "../types.ts";
import { route, type Backend } from "./routes.ts";

const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"];

export const ingressComponent: Component = {
  name: "ingress",
  async start(ctx: ComponentContext) {
    const client = clientOf(ctx, "system:kube-ingress");
    const ingresses = new Informer<Ingress>(client.resource<Ingress>("ingresses.networking.k8s.io"));
    const services = new Informer<Service>(client.resource<Service>("services"));
    ingresses.start();
    services.start();
    await Promise.all([ingresses.waitForSync(), services.waitForSync()]);

    const target = (b: Backend): string | undefined => {
      const svc = services.get(`${b.namespace}/${b.service}`);
      const ip = svc?.spec?.clusterIP;
      if (!ip || ip === "None") return undefined;
      const port = b.port.number ?? svc?.spec?.ports?.find((p) => p.name === b.port.name)?.port;
      return port ? `http://${ip}:${port}` : undefined;
    };
    const hostname = "127.0.0.1";
    const serve = () =>
      Bun.serve({
        hostname,
        port: ctx.config.ingressPort,
        idleTimeout: 0,
        async fetch(req, srv) {
          const url = new URL(req.url);
          const host = req.headers.get("host") ?? url.host;
          const backend = route(ingresses.list(), host, url.pathname);
          const base = backend && target(backend);
          if (!base)
            return new Response("404 page not found\n", { status: 404, headers: { "content-type": "text/plain" } });
          const headers = new Headers(req.headers);
          for (const h of HOP_BY_HOP) headers.delete(h);
          headers.set("x-forwarded-for", srv.requestIP(req)?.address ?? "");
          headers.set("x-forwarded-host", host);
          headers.set("x-forwarded-proto", "http");
          try {
            const res = await fetch(`${base}${url.pathname}${url.search}`, {
              method: req.method,
              headers,
              body: req.body,
              redirect: "manual",
              signal: req.signal,
              decompress: false,
            } as RequestInit);
            const out = new Headers(res.headers);
            for (const h of HOP_BY_HOP) out.delete(h);
            return new Response(res.body, { status: res.status, statusText: res.statusText, headers: out });
          } catch {
            return new Response("502 bad gateway\n", { status: 502, headers: { "content-type": "text/plain" } });
          }
        },
      });
    let server: ReturnType<typeof serve> | undefined;
    try {
      server = serve();
      ctx.log("ingress", `serving Ingresses on http://${hostname}:${server.port}`);
    } catch (e) {
      // A port already taken (another web server) must not stop the cluster.
      ctx.log(
        "ingress",
        `cannot listen on ${hostname}:${ctx.config.ingressPort} (${(e as Error).message}); Ingresses are not served (see --ingress-port)`,
      );
    }

    // Status: every Ingress reports this listener's address.
    const publish = async (ing: Ingress) => {
      if (!server) return;
      const lb = ing.status?.loadBalancer?.ingress;
      if (lb?.length === 1 && lb[0]!.ip === hostname) return;
      await client
        .resource<Ingress>("ingresses.networking.k8s.io", ing.metadata!.namespace)
        .updateStatus({ ...ing, status: { loadBalancer: { ingress: [{ ip: hostname }] } } })
        .catch((e) =>
          isNotFound(e) || isConflict(e)
            ? undefined
            : ctx.log("ingress", `status of ${keyOf(ing)}: ${(e as Error).message}`),
        );
    };
    ingresses.on({ add: publish, update: (_, i) => publish(i) });
    for (const i of ingresses.list()) void publish(i);
    await client
      .resource("ingressclasses.networking.k8s.io")
      .create({
        apiVersion: "networking.k8s.io/v1",
        kind: "IngressClass",
        metadata: { name: "kube", annotations: { "ingressclass.kubernetes.io/is-default-class": "true" } },
        spec: { controller: "kube.io/ingress" },
      })
      .catch(ignore(isAlreadyExists));

    return {
      async stop() {
        ingresses.stop();
        services.stop();
        await server?.stop(true);
      },
    };
  },
};
