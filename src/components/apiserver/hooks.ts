// The server-side hooks of the built-in kinds: admission and subresources that need the store,
// the token issuer or the kubelets. Attached to copies of the registry's entries, so the generic
// handler has no per-kind branches: built-in kinds and custom resources take the same path.
import type { Namespace } from "../../api/kinds/core.ts";
import type { Eviction } from "../../api/kinds/stored.ts";
import type { KindDef, KindHooks, KubeObject, SubresourceTarget } from "../../api/types.ts";
import type { Store } from "../../store/types.ts";
import { limitRangeAdmission, serviceAdmission } from "./admission.ts";
import { readObject, readOptionalObject } from "./body.ts";
import { badRequest, HttpError, methodNotAllowed } from "./errors.ts";
import { decodeAs, type Objects } from "./objects.ts";
import { Query } from "./query.ts";
import { deleteOptions } from "./resources.ts";
import { bindPod, evictPod } from "./pod-subresources.ts";
import { priorityAdmission } from "./priority.ts";
import { requestToken, type TokenIssuer } from "./sa-tokens.ts";
import type { ServiceRanges } from "./service-alloc.ts";
import { cloneJson } from "../../api/clone.ts";

export interface ServerHookDeps {
  store: Store;
  objects: Objects;
  lookup: (resource: string) => KindDef | undefined;
  ranges: ServiceRanges;
  tokens: TokenIssuer;
  /** Serves pods/log, pods/exec and friends by forwarding to the node's kubelet. */
  kubeletProxy?: (req: Request, pod: KubeObject, sub: string) => Promise<Response>;
}

async function readBinding(req: Request): Promise<KubeObject> {
  const body = await readObject(req);
  decodeAs("", "v1", "Binding", body);
  return body;
}

type Sub = (req: Request, at: SubresourceTarget) => Promise<Response>;
const json = (body: unknown, status = 200) => Response.json(body, { status });
const only =
  (method: string, fn: Sub): Sub =>
  (req, at) => {
    if (req.method.toUpperCase() !== method) throw methodNotAllowed();
    return fn(req, at);
  };

/** The built-in kinds with their server hooks attached (copies; the shared registry stays pure). */
export function withServerHooks(kinds: KindDef[], deps: ServerHookDeps): KindDef[] {
  const { objects } = deps;
  const pods = deps.lookup("pods");
  const extra: Record<string, (kind: KindDef) => KindHooks> = {
    services: (kind) => serviceAdmission(deps.store, kind, deps.ranges),
    pods: (kind) => {
      const limitRanges = deps.lookup("limitranges");
      const proxy: Sub = async (req, at) => {
        const sub = at.subresource;
        const { obj } = await objects.get(kind, at.namespace, at.name);
        if (!deps.kubeletProxy)
          throw new HttpError(503, "ServiceUnavailable", `no kubelet serves ${sub} for pod "${at.name}"`);
        return deps.kubeletProxy(req, obj, sub);
      };
      const viaKubelet = Object.fromEntries(
        (kind.subresources.extra ?? []).filter((s) => s !== "binding" && s !== "eviction").map((s) => [s, proxy]),
      );
      const limits = limitRanges && limitRangeAdmission(deps.store, limitRanges);
      const classes = deps.lookup("priorityclasses");
      const priority = classes && priorityAdmission(deps.store, classes);
      return {
        admit: async (obj, old) => {
          await limits?.(obj, old);
          await priority?.(obj, old);
        },
        subresources: {
          ...viaKubelet,
          binding: only("POST", async (req, at) =>
            json(await bindPod(objects, kind, at.namespace!, at.name, await readBinding(req), at.dryRun), 201),
          ),
          eviction: only("POST", async (req, at) => {
            // Its deleteOptions (or the query) say how: preconditions, grace, dry run.
            const eviction: Eviction = await readOptionalObject(req);
            decodeAs("policy", "v1", "Eviction", eviction);
            const bodyName = eviction.metadata?.name;
            if (bodyName && bodyName !== at.name)
              throw badRequest("name in URL does not match name in Eviction object");
            const opts = deleteOptions({ ...eviction.deleteOptions }, new Query(new URL(req.url).searchParams));
            return json(
              await evictPod(
                objects,
                { pods: kind, pdbs: deps.lookup("poddisruptionbudgets") },
                at.namespace!,
                at.name,
                { ...opts, dryRun: opts.dryRun || at.dryRun },
              ),
              201,
            );
          }),
        },
      };
    },
    bindings: () => ({
      createFrom: async (req, namespace, dryRun) => {
        if (!namespace) throw methodNotAllowed();
        const body = await readBinding(req);
        const podName = body.metadata?.name;
        if (!podName) throw new HttpError(422, "Invalid", "Binding is invalid: metadata.name: Required value");
        return json(await bindPod(objects, pods!, namespace, podName, body, dryRun), 201);
      },
    }),
    namespaces: (kind) => ({
      subresources: {
        finalize: only("PUT", async (req, at) => {
          const body: Namespace = await readObject(req);
          const current = await objects.get(kind, undefined, at.name);
          const next: Namespace = cloneJson(current.obj);
          next.spec = { ...next.spec, finalizers: body.spec?.finalizers ?? [] };
          return json(await objects.update(kind, undefined, at.name, next, "raw", { dryRun: at.dryRun, current }));
        }),
      },
    }),
    serviceaccounts: (kind) => ({
      subresources: {
        token: only("POST", async (req, at) => {
          // kubectl 1.33 sends its TokenRequest as protobuf.
          const body = req.headers.get("content-length") === "0" ? {} : await readObject(req);
          decodeAs("authentication.k8s.io", "v1", "TokenRequest", body);
          return json(
            await requestToken(objects, { serviceaccounts: kind, pods }, deps.tokens, at.namespace!, at.name, body),
            201,
          );
        }),
      },
    }),
  };
  return kinds.map((kind) => {
    const more = kind.group === "" ? extra[kind.resource] : undefined;
    if (!more) return kind;
    const copy: KindDef = { ...kind };
    const hooks = more(copy);
    copy.hooks = { ...kind.hooks, ...hooks, subresources: { ...kind.hooks?.subresources, ...hooks.subresources } };
    return copy;
  });
}
