// Callers of the kubelet's endpoint other than the API server, as upstream's kubelet with
// --authentication-token-webhook and --authorization-mode=Webhook: the bearer token is checked
// with a TokenReview and the request with a SubjectAccessReview on the node (resource nodes,
// subresource by path: stats, metrics, log, else proxy; verb by method). No credential is 401
// "Unauthorized", a denied one 403 "Forbidden (user=..., verb=..., resource=..., subresource=...)",
// both plain text as the kubelet writes them. Decisions are cached like upstream's defaults
// (authentication 2 min, allowed 5 min, denied 30 s).
import type { SubjectAccessReview, TokenReview, UserInfo } from "../../api/kinds/reviews.ts";
import type { Client } from "../../client/index.ts";

const AUTHN_TTL_MS = 120_000;
const ALLOWED_TTL_MS = 300_000;
const DENIED_TTL_MS = 30_000;

/** Upstream kubelet's nodeAuthorizerAttributesGetter: the verb from the method, the subresource from the path. */
export function kubeletRequestAttributes(method: string, path: string): { verb: string; subresource: string } {
  const verb =
    { POST: "create", GET: "get", HEAD: "get", PUT: "update", PATCH: "patch", DELETE: "delete" }[
      method.toUpperCase()
    ] ?? "";
  const under = (p: string) => path === p || path.startsWith(`${p}/`);
  const subresource = under("/stats")
    ? "stats"
    : under("/metrics")
      ? "metrics"
      : under("/logs")
        ? "log"
        : under("/checkpoint")
          ? "checkpoint"
          : "proxy";
  return { verb, subresource };
}

const text = (code: number, message: string) =>
  new Response(message, { status: code, headers: { "content-type": "text/plain; charset=utf-8" } });

export class KubeletAuthorizer {
  private readonly users = new Map<string, { user?: UserInfo; until: number }>();
  private readonly decisions = new Map<string, { allowed: boolean; until: number }>();

  constructor(
    private readonly client: Client,
    /** The nodes this endpoint serves: a caller must be allowed on each. */
    private readonly nodes: () => string[],
  ) {}

  /** undefined when the caller may go on, else the 401/403 response. */
  async check(req: Request, url: URL): Promise<Response | undefined> {
    const header = req.headers.get("authorization") ?? "";
    const token = header.startsWith("Bearer ") ? header.slice(7).trim() : "";
    const user = token ? await this.authenticate(token) : undefined;
    if (!user) return text(401, "Unauthorized");
    const { verb, subresource } = kubeletRequestAttributes(req.method, url.pathname);
    for (const node of this.nodes())
      if (!(await this.authorize(user, verb, subresource, node)))
        return text(403, `Forbidden (user=${user.username}, verb=${verb}, resource=nodes, subresource=${subresource})`);
    return undefined;
  }

  private async authenticate(token: string): Promise<UserInfo | undefined> {
    const hit = this.users.get(token);
    if (hit && hit.until > Date.now()) return hit.user;
    const res = await this.client.request("POST", "/apis/authentication.k8s.io/v1/tokenreviews", {
      body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token } },
    });
    const review = res.ok ? ((await res.json()) as TokenReview) : undefined;
    const user = review?.status?.authenticated ? review.status.user : undefined;
    if (this.users.size > 10_000) this.users.clear();
    this.users.set(token, { user, until: Date.now() + AUTHN_TTL_MS });
    return user;
  }

  private async authorize(user: UserInfo, verb: string, subresource: string, node: string): Promise<boolean> {
    const key = JSON.stringify([user.username, user.uid, user.groups, user.extra, verb, subresource, node]);
    const hit = this.decisions.get(key);
    if (hit && hit.until > Date.now()) return hit.allowed;
    const res = await this.client.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
      body: {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec: {
          user: user.username,
          uid: user.uid,
          groups: user.groups,
          extra: user.extra,
          resourceAttributes: { verb, group: "", version: "v1", resource: "nodes", subresource, name: node },
        },
      },
    });
    const allowed = res.ok && !!((await res.json()) as SubjectAccessReview).status?.allowed;
    if (this.decisions.size > 10_000) this.decisions.clear();
    this.decisions.set(key, { allowed, until: Date.now() + (allowed ? ALLOWED_TTL_MS : DENIED_TTL_MS) });
    return allowed;
  }
}
