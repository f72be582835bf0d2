// The API server: a hono app serving Kubernetes REST + watch for every kind in the registry
// over one store. `fetch` serves in-process clients (no socket) and `serve` puts it on HTTP.
import { isAlreadyExists } from "../../client/index.ts";
import { createMetrics, METRICS_GROUP, metricsGroup, metricsResourceList } from "./metrics.ts";
import { TokenIssuer, type TokenPolicy } from "./sa-tokens.ts";
import { ADMIN_USER, Authenticator, impersonate, wantsImpersonation } from "./auth/authn.ts";
import {
  pathAttributes,
  requestAttributes,
  setUser,
  userOf,
  type Attributes,
  type UserInfo,
} from "./auth/attributes.ts";
import { createAuthorizer } from "./auth/authorizer.ts";
import { forbiddenError } from "./auth/forbidden.ts";
import { createReviews, REVIEW_GROUPS } from "./auth/reviews.ts";
import { readObject } from "./body.ts";
import { Hono } from "hono";
import { randomBytes } from "node:crypto";
import type { KindDef, KubeObject } from "../../api/types.ts";
import { allKinds, KindRegistry } from "../../api/registry.ts";
import { withServerHooks } from "./hooks.ts";
import { CustomResources } from "./crds.ts";
import type { Store } from "../../store/types.ts";
import { createAdmission } from "./admission.ts";
import {
  aggregatedContentType,
  aggregatedDiscovery,
  apiGroupList,
  apiResourceList,
  apiVersions,
  type DiscoveryVersion,
  serverVersion,
  wantsAggregated,
} from "./discovery.ts";
import { HttpError, statusResponse } from "./errors.ts";
import { Objects } from "./objects.ts";
import { createOpenApi } from "./openapi.ts";
import { objectKey, parseResourcePath, type ResourcePath, resourceRoute } from "./paths.ts";
import { getsNow, handleResource, objectResponse } from "./resources.ts";
import { wantsTable } from "./table.ts";
import { defaultServiceRanges, type ServiceRanges } from "./service-alloc.ts";
import { createKubeletProxy, execBridge, kubeletOf, maybeUpgradeExec, proxyToNode } from "./kubelet-proxy.ts";
import { ListStreams } from "./list-stream.ts";
import { type ForwardDeps, openForward } from "./dashboard-forward.ts";
import type { Server, ServerWebSocket } from "bun";
import { FlowControl, type FlowControlOptions } from "./flowcontrol.ts";
import { PriorityLevels, type PriorityLevelsOptions, registerFlowControlMetrics } from "./priority-levels.ts";
import { ensurePriorityClasses } from "./priority.ts";
import { ApiServerMetrics, type Series } from "./request-metrics.ts";
import type { HistogramChild } from "../metrics/vec.ts";
import { EXPOSITION_TYPE, MetricsHub } from "../metrics/hub.ts";
import { isDashboardPath, mountDashboard } from "./dashboard.ts";
import { maybeUpgradeWatchMux, watchMuxHandlers, type WatchMuxData } from "./dashboard-watch.ts";
import { contained } from "../../util/websocket.ts";
import { withWebSocketBearer } from "./auth/websocket-bearer.ts";
import { bootstrapTokenUser } from "./auth/bootstrap-tokens.ts";
import type { NodeClusterConfig } from "../../api/bootstrap-token.ts";
import { NodeCredentials } from "./auth/node-credentials.ts";
import { isJoinPath, mountJoin } from "./join.ts";

export interface ApiServerOptions {
  store: Store;
  /** Bearer token every request must carry (health and version endpoints excepted); none = open. */
  token?: string;
  kinds?: KindDef[];
  serviceRanges?: ServiceRanges;
  kubeletProxy?: (req: Request, pod: KubeObject, sub: string) => Promise<Response>;
  bookmarkIntervalMs?: number;
  /** Key that signs service account tokens; random (tokens die with the process) when absent. */
  serviceAccountKey?: Uint8Array;
  /** Token lifetimes (kube-apiserver's --service-account-max-token-expiration / -extend-token-expiration). */
  serviceAccountTokens?: TokenPolicy;
  /** Key shared with the kubelets (util/kubelet-auth.ts); random when absent. */
  kubeletKey?: Uint8Array;
  /**
   * Where /metrics gathers this process's component registries (metrics/hub.ts); a hub of its
   * own when absent; false turns metrics off (no /metrics, nothing measured).
   */
  metrics?: MetricsHub | false;
  /** PEM of the cluster CA, served at /cacerts for joining nodes (join.ts). */
  clusterCa?: string;
  /** What joined nodes are told about the cluster (join.ts). */
  nodeConfig?: NodeClusterConfig;
  /** Where the server says what a client is not told (why a join token was refused). */
  log?: (message: string) => void;
  /** Seats of the priority levels in-process components wait in (fetchLocal). */
  priorityLevels?: PriorityLevelsOptions;
}

export interface ApiServer {
  fetch: (req: Request) => Promise<Response>;
  /** fetch()'s answer when it is ready without waiting (a GET of one object, mostly); else undefined. */
  fetchNow: (req: Request) => Response | undefined;
  /** fetch() without asking fetchNow() (the caller already has; serve() asks it before flow control queues). */
  fetchAfterNow: (req: Request) => Promise<Response>;
  /**
   * fetch() for the cluster's own components in this process: the request waits for a seat in its
   * priority level (priority-levels.ts), as kube-apiserver's API Priority and Fairness queues them.
   */
  fetchLocal: (req: Request) => Promise<Response>;
  /** WebSocket exec/attach: Bun.serve's fetch calls this first (it needs the server to upgrade). */
  upgrade: (req: Request, server: Server<unknown>) => Promise<Response | undefined | "upgraded">;
  /** Resolves once the built-in namespaces and the bootstrap RBAC policy exist. */
  ready: Promise<void>;
  /** A bearer token for one of the cluster's own components, acting as `user` (in memory only). */
  tokenFor(user: UserInfo): string;
  /** The key the API server and its kubelets prove themselves to each other with (in-process kubelets get it). */
  kubeletKey: Uint8Array;
  /** The hub /metrics serves (components of this process add their registries); absent when metrics are off. */
  metrics?: MetricsHub;
  /** How many whole-collection LISTs (unpaged, streamed) are being written now. */
  streamingLists(): number;
  close(): void;
}

const TOKEN_DEPENDENCIES = /\/(pods|serviceaccounts)(\/|$)|^\/api\/v1\/namespaces\/[^/]+$/;
const NO_QUERY = new URLSearchParams();
const OPEN_PATHS = new Set(["/healthz", "/livez", "/readyz", "/version"]);
export const SYSTEM_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

export function createApiServer(opts: ApiServerOptions): ApiServer {
  const builtin = new KindRegistry(opts.kinds ?? allKinds());
  const hub = opts.metrics === false ? undefined : (opts.metrics ?? new MetricsHub());
  const apiMetrics: ApiServerMetrics | undefined =
    hub &&
    new ApiServerMetrics(hub.registry(), {
      lookup: (group, version, resource): KindDef | undefined => registry.byResource(group, version, resource),
      extraResource: (group, resource) =>
        (group === METRICS_GROUP && metricsResourceList.resources.some((r) => r.name === resource)) ||
        REVIEW_GROUPS.some((g) => g.group.name === group && g.list.resources.some((r) => r.name === resource)),
      kinds: (): KindDef[] => registry.all(),
      store: opts.store,
    });
  const store: Store = apiMetrics ? apiMetrics.instrumentStore(opts.store) : opts.store;
  const admission = createAdmission({ store, objects: () => objects, lookup: (r) => builtin.byPlural(r) });
  const objects: Objects = new Objects({ store, admission });
  const nodesKind = builtin.byPlural("nodes");
  const kubeletKey = opts.kubeletKey ?? randomBytes(32);
  const kubeletProxy =
    opts.kubeletProxy ?? (nodesKind ? createKubeletProxy(objects, nodesKind, kubeletKey) : undefined);
  const tokens = new TokenIssuer(opts.serviceAccountKey, opts.serviceAccountTokens);
  // This server's registry: the built-in kinds with their server hooks; custom resources join it at run time.
  const registry = new KindRegistry(
    withServerHooks(builtin.all(), {
      store,
      objects,
      lookup: (r) => builtin.byPlural(r),
      ranges: opts.serviceRanges ?? defaultServiceRanges,
      tokens,
      kubeletProxy,
    }),
  );
  const plainCrd = registry.byResource("apiextensions.k8s.io", "v1", "customresourcedefinitions");
  const crdKind: KindDef | undefined = plainCrd && { ...plainCrd };
  const customResources = crdKind && new CustomResources({ store, objects, registry, crdKind });
  if (crdKind && customResources) {
    crdKind.hooks = { ...plainCrd!.hooks, ...customResources.hooks() };
    registry.add(crdKind);
  }
  const byResource = { get: (r: string) => registry.byPlural(r) };
  const lookup = (group: string, version: string, resource: string) => registry.byResource(group, version, resource);
  const saKinds = { serviceaccounts: byResource.get("serviceaccounts"), pods: byResource.get("pods") };
  const log = opts.log ?? (() => {});
  const nodeCredentials = new NodeCredentials(opts.serviceAccountKey ?? randomBytes(32));
  const authn = new Authenticator(opts.token, tokens, objects, saKinds, {
    bootstrap: (token) => bootstrapTokenUser(objects, byResource.get("secrets"), token, log),
    credentials: nodeCredentials,
  });
  const authz = createAuthorizer(objects, (r) => byResource.get(r));
  const streams = new ListStreams();
  const deps = {
    objects,
    bookmarkIntervalMs: opts.bookmarkIntervalMs,
    streams,
    known: (apiVersion: string, kind: string) => !!registry.of(apiVersion, kind),
    beforeWrite: (req: Request, kind: KindDef, namespace: string | undefined, obj: KubeObject) =>
      authz.beforeWrite(userOf(req) ?? ADMIN_USER, kind, namespace, obj),
  };
  /**
   * Who the request acts as (after impersonation) and whether it may do what it asks; throws the
   * 401/403. The cluster token without impersonation headers is decided without a lookup.
   */
  const adminBearer = opts.token && `Bearer ${opts.token}`;
  const admit = async (req: Request): Promise<UserInfo> => {
    const auth = req.headers.get("authorization");
    let user: UserInfo | undefined;
    if (!adminBearer || auth === adminBearer) user = ADMIN_USER;
    else user = await authn.authenticate(req);
    if (!user) throw new HttpError(401, "Unauthorized", "Unauthorized");
    if (wantsImpersonation(req)) user = await impersonate(req, user, authz.authorize);
    if (user === ADMIN_USER) return user;
    const attrs: Attributes = requestAttributes(user, req.method.toUpperCase(), new URL(req.url));
    const d = await authz.authorize(attrs);
    if (!d.allowed) throw forbiddenError(attrs, d.reason);
    return user;
  };
  let isReady = false;
  const ready = ensureNamespaces(objects, byResource.get("namespaces"), byResource.get("serviceaccounts"))
    .then(() => ensurePriorityClasses(objects, byResource.get("priorityclasses")))
    .then(() => customResources?.load())
    .then(() => authz.bootstrap())
    .then(() => {
      isReady = true;
    });

  const app = new Hono();
  app.onError((err) => statusResponse(err));
  // First, so that requests refused by authentication or authorization are counted as well.
  if (apiMetrics) app.use("*", apiMetrics.middleware());
  app.notFound((c) =>
    statusResponse(
      new HttpError(
        404,
        "NotFound",
        `the server could not find the requested resource (${c.req.method} ${c.req.path})`,
      ),
    ),
  );
  /** Authenticates and authorizes the request, serves it, and drops what a write made stale. */
  const guarded = async (req: Request, path: string, handle: () => Promise<void>): Promise<void> => {
    setUser(req, await admit(req));
    await handle();
    if (req.method !== "GET") {
      // RBAC objects changed: the authorizer re-reads them before its next decision.
      if (path.startsWith("/apis/rbac.authorization.k8s.io/")) authz.invalidate();
      // What a service account token depends on may be gone: tokens are re-checked (revocation stays immediate).
      if (TOKEN_DEPENDENCIES.test(path)) authn.forgetCheckedTokens();
    }
  };
  app.use("*", async (c, next) => {
    const req = c.req.raw;
    if (OPEN_PATHS.has(c.req.path) && !req.headers.has("authorization")) return next();
    // The dashboard's page and login exchange are public; what it shows comes from authorized API calls.
    if (isDashboardPath(c.req.path)) return next();
    // Joining nodes: the CA is public, and the credential request authenticates its bootstrap token itself.
    if (isJoinPath(c.req.path)) return next();
    await guarded(req, c.req.path, next);
  });

  app.get("/version", (c) => c.json(serverVersion));
  // Authorized as upstream: nonResourceURL /metrics, verb get (cluster-admin, system:monitoring).
  if (hub)
    app.get("/metrics", async () => new Response(await hub.text(), { headers: { "content-type": EXPOSITION_TYPE } }));
  const tokenValid = async (token: string) => !!(await authn.userOfToken(token));
  mountDashboard(app, tokenValid);
  mountJoin(app, {
    ca: opts.clusterCa,
    authenticate: (req) => authn.authenticate(req),
    credentials: nodeCredentials,
    kubeletKey,
    log,
    nodeConfig: opts.nodeConfig,
  });
  for (const p of ["/healthz", "/livez"]) app.get(p, (c) => c.text("ok"));
  app.get("/readyz", (c) => (isReady ? c.text("ok") : c.text("[-]namespaces not ready", 500)));
  app.get("/api", (c) => {
    const v = wantsAggregated(c.req.header("accept"));
    if (v) return aggregated(v, [{ name: "", lists: [apiResourceList(registry.all(), "v1") as never] }]);
    return c.json(apiVersions(c.req.header("host") ?? "127.0.0.1"));
  });
  const metrics =
    byResource.get("nodes") && byResource.get("pods")
      ? createMetrics(objects, { nodes: byResource.get("nodes")!, pods: byResource.get("pods")! }, kubeletKey)
      : undefined;
  app.get("/apis", (c) => {
    const list = apiGroupList(registry.all()) as { groups: (typeof metricsGroup)[] };
    const groups = [...list.groups, ...(metrics ? [metricsGroup] : []), ...REVIEW_GROUPS.map((g) => g.group)];
    const v = wantsAggregated(c.req.header("accept"));
    if (!v) return c.json({ ...list, groups });
    const listOf = (gv: string) =>
      gv === metricsResourceList.groupVersion
        ? metricsResourceList
        : (REVIEW_GROUPS.find((g) => g.list.groupVersion === gv)?.list ?? apiResourceList(registry.all(), gv));
    return aggregated(
      v,
      groups.map((g) => ({ name: g.name, lists: g.versions.map((gv) => listOf(gv.groupVersion) as never) })),
    );
  });
  // Reviews: answered from the authenticator and authorizer, never stored.
  const reviews = createReviews(authz, authn);
  for (const g of REVIEW_GROUPS) {
    app.get(`/apis/${g.group.name}`, (c) => c.json({ kind: "APIGroup", apiVersion: "v1", ...g.group }));
    app.get(`/apis/${g.group.name}/v1`, (c) => c.json(g.list));
    const review = async (req: Request, res: string, namespace?: string) => {
      const answer = await reviews(userOf(req) ?? ADMIN_USER, g.group.name, res, namespace, await readObject(req));
      if (!answer) throw new HttpError(404, "NotFound", "the server could not find the requested resource");
      return Response.json(answer, { status: 201 });
    };
    app.post(`/apis/${g.group.name}/v1/namespaces/:ns/:res`, (c) =>
      review(c.req.raw, c.req.param("res"), c.req.param("ns")),
    );
    app.post(`/apis/${g.group.name}/v1/:res`, (c) => review(c.req.raw, c.req.param("res")));
  }
  if (metrics) {
    app.get(`/apis/${METRICS_GROUP}`, (c) => c.json({ kind: "APIGroup", apiVersion: "v1", ...metricsGroup }));
    app.get(`/apis/${METRICS_GROUP}/v1beta1`, (c) => c.json(metricsResourceList));
    app.get(`/apis/${METRICS_GROUP}/v1beta1/*`, (c) =>
      metrics(c.req.raw, c.req.path.split("/").slice(4).filter(Boolean)),
    );
  }
  const openapi = createOpenApi(() => registry.all());
  app.get("/openapi/v2", (c) => openapi.v2(c.req.raw));
  app.get("/openapi/v3", () => openapi.v3Index());
  app.get("/openapi/v3/*", (c) => openapi.v3(c.req.raw, c.req.path.slice("/openapi/v3/".length)) ?? c.notFound());

  const resources = async (req: Request, group: string, version: string, rest: string): Promise<Response> => {
    const segments = rest.split("/").filter(Boolean);
    if (segments.length === 0 && req.method === "GET") {
      const list = apiResourceList(registry.all(), group ? `${group}/${version}` : version);
      if (list) return Response.json(list);
    }
    const path = parseResourcePath(group, version, segments, lookup);
    if (!path) throw new HttpError(404, "NotFound", `the server could not find the requested resource`);
    return handleResource(deps, req, path);
  };
  app.get("/api/v1/nodes/:name/proxy/*", (c) =>
    proxyToNode(
      objects,
      byResource.get("nodes")!,
      c.req.param("name"),
      c.req.path.split("/").slice(6).join("/"),
      c.req.raw,
      kubeletKey,
    ),
  );
  app.all("/api/:version/*", (c) =>
    resources(c.req.raw, "", c.req.param("version"), c.req.path.split("/").slice(3).join("/")),
  );
  app.all("/api/:version", (c) => resources(c.req.raw, "", c.req.param("version"), ""));
  app.all("/apis/:group/:version/*", (c) =>
    resources(c.req.raw, c.req.param("group"), c.req.param("version"), c.req.path.split("/").slice(4).join("/")),
  );
  app.all("/apis/:group/:version", (c) => resources(c.req.raw, c.req.param("group"), c.req.param("version"), ""));
  app.get("/apis/:group", (c) => {
    const group = (apiGroupList(registry.all()) as { groups: { name: string }[] }).groups.find(
      (g) => g.name === c.req.param("group"),
    );
    if (!group) throw new HttpError(404, "NotFound", "the server could not find the requested resource");
    return c.json({ kind: "APIGroup", apiVersion: "v1", ...group });
  });

  // Requests on resources skip the hono app (its router, context and middleware chain were a third
  // of a GET's time, and ~4% of a scheduling run's CPU for the creates, bindings and Events):
  // measured, guarded and answered by the same functions its middleware and route call. HEAD,
  // OPTIONS and other methods keep hono's handling.
  const notResources = new Set([METRICS_GROUP, ...REVIEW_GROUPS.map((g) => g.group.name)]);
  const directMethods = new Set(["GET", "POST", "PUT", "PATCH", "DELETE"]);
  /** The generic resource route of a request, unless another route serves it. */
  const directRoute = (method: string, url: string) => {
    if (!directMethods.has(method)) return undefined;
    const r = resourceRoute(url);
    // Served elsewhere: percent-encoded paths (hono decodes them), a node's proxy and groups with routes of their own.
    if (!r || (r.group === "" && r.rest.startsWith("nodes/") && r.rest.split("/")[2] === "proxy")) return undefined;
    return notResources.has(r.group) ? undefined : r;
  };
  const direct = (req: Request): Promise<Response> | undefined => {
    const r = directRoute(req.method, req.url);
    if (!r) return undefined;
    const handle = async () => {
      let res = undefined as unknown as Response;
      await guarded(req, r.path, async () => {
        res = await resources(req, r.group, r.version, r.rest).catch(statusResponse);
      });
      return res;
    };
    const measured = () => handle().catch(statusResponse);
    return apiMetrics ? apiMetrics.measure(req, measured) : measured();
  };

  /**
   * A GET of one object answered in the same turn of the event loop (no promise, no await) when
   * nothing on its way has to wait: a URL without query, a requester known without a lookup and
   * allowed by RBAC as read, no impersonation, the stored text as it is from a store that reads in
   * process. The same checks as direct() in the same order, so the same answers; undefined leaves
   * the request to direct(), before anything was counted or read.
   */
  const rawGetNow = opts.store.getNow?.bind(opts.store);
  const fetchNow = (req: Request): Response | undefined => {
    if (req.method !== "GET" || !rawGetNow) return undefined;
    const url = req.url;
    if (url.includes("?")) return undefined;
    const t = nowTarget(url);
    if (!t) return undefined;
    const headers = req.headers;
    if (wantsImpersonation(req) || wantsTable(headers.get("accept") ?? undefined)) return undefined;
    const user = adminBearer && headers.get("authorization") !== adminBearer ? authn.userNow(req) : ADMIN_USER;
    if (!user) return undefined;
    if (user !== ADMIN_USER && !allowedNow(t, user)) return undefined;
    if (!apiMetrics) return t.answer();
    if (!t.series) t.series = apiMetrics.seriesNow(req);
    return apiMetrics.measureNow(req, t.answer, t.series);
  };
  /** Whether RBAC allows the user's GET of t now; an allow is kept until the next RBAC write. */
  const allowedNow = (t: NowTarget, user: UserInfo): boolean => {
    const gen = authz.rbac.generation();
    if (gen !== 0 && t.allowed.get(user) === gen) return true;
    if (!authz.authorizeNow(pathAttributes(user, "GET", t.route.path, NO_QUERY))?.allowed) return false;
    if (gen !== 0) t.allowed.set(user, gen);
    return true;
  };
  /** The stored text of t's object (read and timed as the instrumented store's get), or its 404. */
  const answerNow = (t: NowTarget): Response => {
    try {
      const start = performance.now();
      const got = rawGetNow!(t.key);
      t.storeGet?.observe((performance.now() - start) / 1000);
      return objectResponse(objects.rawText(t.path.kind, t.path.name!, got.kv));
    } catch (err) {
      return statusResponse(err);
    }
  };
  /**
   * What a URL names, for fetchNow (null: not one object fetchNow can serve), parsed once per URL
   * text while the registry stays the same, with what answering it needs: the store key, the
   * metrics series and the users RBAC allowed to read it (by generation).
   */
  type NowTarget = {
    route: NonNullable<ReturnType<typeof resourceRoute>>;
    path: ResourcePath;
    key: string;
    series?: Series;
    storeGet?: HistogramChild;
    allowed: WeakMap<UserInfo, number>;
    /** answerNow(this), made once. */
    answer: () => Response;
  };
  const nowTargets = new Map<string, NowTarget | null>();
  registry.onChange(() => nowTargets.clear());
  const nowTarget = (url: string): NowTarget | null => {
    let t = nowTargets.get(url);
    if (t !== undefined) return t;
    const route = directRoute("GET", url);
    const path = route && parseResourcePath(route.group, route.version, route.rest.split("/"), lookup);
    if (route && path && getsNow(path)) {
      const key = objectKey(path.kind, path.namespace, path.name!);
      const target: NowTarget = {
        route,
        path,
        key,
        storeGet: apiMetrics?.storeGetSeries(key),
        allowed: new WeakMap(),
        answer: () => answerNow(target),
      };
      t = target;
    } else t = null;
    if (nowTargets.size >= 4096) nowTargets.clear();
    nowTargets.set(url, t);
    return t;
  };

  const pods = byResource.get("pods")!;
  const nodes = byResource.get("nodes")!;
  /** Authorizes a WebSocket exec/attach/portforward upgrade (and the dashboard's port-forwards). */
  const authorizeConnect = async (r: Request) => {
    const url = new URL(r.url);
    // Browsers cannot set headers on a WebSocket: their token comes as a subprotocol.
    const user = await admit(withWebSocketBearer(r));
    // WebSocket exec/attach/portforward arrive as GETs: `create` on the subresource is required
    // as well (AuthorizePodWebsocketUpgradeCreatePermission).
    const attrs = { ...requestAttributes(user, "POST", url) };
    const d = await authz.authorize(attrs);
    if (!d.allowed) throw forbiddenError(attrs, d.reason);
  };
  const forwardDeps: ForwardDeps = {
    authorize: authorizeConnect,
    pod: async (ns, name) => (await objects.tryGet(pods, ns, name))?.obj,
    podChanges: (ns, name, signal) => store.watch(objectKey(pods, ns, name), { signal }),
    kubelet: async (pod) => {
      const ep = await kubeletOf(objects, nodes, pod, kubeletKey);
      const target = `${ep.base.replace(/^http/, "ws")}/portForward/${pod.metadata!.namespace}/${pod.metadata!.name}`;
      return { target, token: ep.token };
    },
  };
  const fetchAfterNow = (req: Request) => direct(req) ?? Promise.resolve(app.fetch(req));
  const levels = new PriorityLevels(opts.priorityLevels);
  if (hub) registerFlowControlMetrics(levels, hub.registry());
  return {
    fetch: (req) => {
      const now = fetchNow(req);
      return now ? Promise.resolve(now) : fetchAfterNow(req);
    },
    fetchNow,
    fetchAfterNow,
    fetchLocal: (req) => {
      const now = fetchNow(req);
      return now ? Promise.resolve(now) : levels.run(req, authn.userNow(req), () => fetchAfterNow(req));
    },
    upgrade: async (req, server) =>
      (await maybeUpgradeWatchMux(
        req,
        server,
        async (r) => app.fetch(r),
        tokenValid,
        (token, target, ended) => openForward(forwardDeps, token, target, ended),
      )) ?? maybeUpgradeExec(req, server, objects, { pods, nodes }, authorizeConnect, kubeletKey),
    ready,
    tokenFor: (user) => authn.tokenFor(user),
    kubeletKey,
    metrics: hub,
    streamingLists: () => streams.active,
    close() {},
  };
}

/** An aggregated discovery document, with the content type kubectl checks before parsing it. */
function aggregated(v: DiscoveryVersion, groups: Parameters<typeof aggregatedDiscovery>[1]): Response {
  return new Response(JSON.stringify(aggregatedDiscovery(v, groups)), {
    headers: { "content-type": aggregatedContentType(v), vary: "Accept" },
  });
}

/** The built-in namespaces, each with its `default` ServiceAccount (the controller keeps the rest). */
async function ensureNamespaces(
  objects: Objects,
  namespaces: KindDef | undefined,
  serviceAccounts: KindDef | undefined,
): Promise<void> {
  if (!namespaces) return;
  const exists = (err: unknown) => {
    if (!isAlreadyExists(err)) throw err;
  };
  for (const name of SYSTEM_NAMESPACES) {
    if (!(await objects.tryGet(namespaces, undefined, name)))
      await objects
        .create(namespaces, undefined, { apiVersion: "v1", kind: "Namespace", metadata: { name } })
        .catch(exists);
    if (serviceAccounts && !(await objects.tryGet(serviceAccounts, name, "default")))
      await objects
        .create(serviceAccounts, name, {
          apiVersion: "v1",
          kind: "ServiceAccount",
          metadata: { name: "default", namespace: name },
        })
        .catch(exists);
  }
}

type Upgraded = ServerWebSocket<WatchMuxData> | ServerWebSocket<{ kind: "exec" | "portforward" }>;
const isWatchMux = (ws: Upgraded): ws is ServerWebSocket<WatchMuxData> => ws.data.kind === "ui-watch";
/** Every WebSocket the API server upgrades: the dashboard's watches, exec/attach and port-forward. */
const websocketHandlers = contained<Upgraded["data"]>({
  open(ws) {
    if (!isWatchMux(ws as Upgraded)) execBridge.open?.(ws as never);
  },
  message(ws, m) {
    if (isWatchMux(ws as Upgraded)) watchMuxHandlers.message(ws as never, m);
    else execBridge.message?.(ws as never, m);
  },
  close(ws, code, reason) {
    if (isWatchMux(ws as Upgraded)) watchMuxHandlers.close(ws as never);
    else execBridge.close?.(ws as never, code, reason);
  },
});

export interface ServedApi {
  port: number;
  stop(): Promise<void>;
}

/**
 * Serves the API over HTTP. Watches are long-lived, so the idle timeout is off. Requests from the
 * network pass the flow control (src/components/apiserver/flowcontrol.ts); the admin token is exempt.
 */
export async function serve(
  api: ApiServer,
  opts: {
    hostname: string;
    port: number;
    tls?: { cert: string; key: string };
    adminToken?: string;
    flowControl?: FlowControlOptions;
  },
): Promise<ServedApi> {
  const adminBearer = opts.adminToken && `Bearer ${opts.adminToken}`;
  const flow = new FlowControl(
    (req) => !!adminBearer && req.headers.get("authorization") === adminBearer,
    opts.flowControl,
  );
  const server = Bun.serve({
    hostname: opts.hostname,
    port: opts.port,
    idleTimeout: 0,
    maxRequestBodySize: 16 * 1024 * 1024,
    ...(opts.tls ? { tls: opts.tls } : {}),
    fetch(req, srv) {
      // A WebSocket upgrade is handled first (both of its handlers ask for this header before anything else).
      if (!req.headers.has("upgrade"))
        return flow.runNow(req, api.fetchNow) ?? flow.run(req, () => api.fetchAfterNow(req));
      return upgradeOrFetch(req, srv);
    },
    websocket: websocketHandlers as never,
  });
  async function upgradeOrFetch(req: Request, srv: Server<unknown>): Promise<Response | undefined> {
    let upgraded = false;
    const res = await flow.run(req, async () => {
      const up = await api.upgrade(req, srv);
      upgraded = up === "upgraded";
      return up === "upgraded" ? new Response(null, { status: 204 }) : (up ?? api.fetch(req));
    });
    return upgraded ? undefined : res;
  }
  return {
    port: server.port ?? opts.port,
    async stop() {
      await server.stop(true);
    },
  };
}
