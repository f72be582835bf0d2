// How a node joins (`kube agent`, like k3s's agent): GET /cacerts serves the cluster CA to anyone,
// so the agent can compare its hash with the join token before it sends the token; then
// POST /v1-kube/node-credential, authenticated with a bootstrap token, returns the node's own
// credentials (auth/node-credentials.ts) and its kubelet key. Refusals are upstream Statuses for
// the agent and one log line here.
import type { Hono } from "hono";
import {
  BOOTSTRAP_TOKEN_PATTERN,
  BOOTSTRAP_USER_PREFIX,
  BOOTSTRAPPERS_GROUP,
  CACERTS_PATH,
  NODE_CONFIG_PATH,
  NODE_CREDENTIAL_PATH,
  type NodeClusterConfig,
  type NodeCredential,
} from "../../api/bootstrap-token.ts";
import { rfc3339 } from "../../api/time.ts";
import { Causes, dns1123Subdomain } from "../../api/validation.ts";
import { nodeKey } from "../../util/kubelet-auth.ts";
import type { UserInfo } from "./auth/attributes.ts";
import type { NodeCredentials } from "./auth/node-credentials.ts";
import { HttpError, badRequest, invalid } from "./errors.ts";

const bearer = (req: Request) => (req.headers.get("authorization") ?? "").replace(/^Bearer /, "").trim();

export const isJoinPath = (path: string) =>
  path === CACERTS_PATH || path === NODE_CREDENTIAL_PATH || path === NODE_CONFIG_PATH;

export interface JoinDeps {
  /** PEM of the cluster CA; /cacerts is a 404 without it. */
  ca?: string;
  authenticate: (req: Request) => Promise<UserInfo | undefined>;
  credentials: NodeCredentials;
  kubeletKey: Uint8Array;
  log: (m: string) => void;
  /** What nodes are told about the cluster (NODE_CONFIG_PATH); a 404 without it. */
  nodeConfig?: NodeClusterConfig;
}

export function mountJoin(app: Hono, deps: JoinDeps): void {
  if (deps.ca) {
    const ca = deps.ca;
    app.get(CACERTS_PATH, () => new Response(ca, { headers: { "content-type": "text/plain; charset=utf-8" } }));
  }
  const nodeConfig = deps.nodeConfig;
  if (nodeConfig)
    app.get(NODE_CONFIG_PATH, async (c) => {
      const user = await deps.authenticate(c.req.raw);
      if (!user) throw new HttpError(401, "Unauthorized", "Unauthorized");
      if (!user.groups.includes("system:nodes"))
        throw new HttpError(403, "Forbidden", `forbidden: User "${user.name}" is not a node (group system:nodes)`);
      return c.json(nodeConfig);
    });
  app.post(NODE_CREDENTIAL_PATH, async (c) => {
    const req = c.req.raw;
    const user = await deps.authenticate(req);
    if (!user) {
      // A token of the bootstrap form was already logged with its reason (auth/bootstrap-tokens.ts).
      if (!BOOTSTRAP_TOKEN_PATTERN.test(bearer(req)))
        deps.log("join refused: the bearer token is not a bootstrap token (<id>.<secret>)");
      throw new HttpError(401, "Unauthorized", "Unauthorized");
    }
    if (!user.groups.includes(BOOTSTRAPPERS_GROUP) || !user.name.startsWith(BOOTSTRAP_USER_PREFIX))
      throw new HttpError(
        403,
        "Forbidden",
        `forbidden: User "${user.name}" cannot join a node: only bootstrap tokens (group ${BOOTSTRAPPERS_GROUP}) can`,
      );
    let body: { nodeName?: unknown };
    try {
      body = (await req.json()) as typeof body;
    } catch {
      throw badRequest("the request body must be a JSON object with nodeName");
    }
    const nodeName = body?.nodeName;
    if (typeof nodeName !== "string" || !nodeName) throw badRequest("nodeName is required");
    const causes = new Causes();
    dns1123Subdomain(causes, "metadata.name", nodeName);
    if (causes.list.length) throw invalid("Node", "", nodeName, causes.list);
    const node = deps.credentials.issue({ name: `system:node:${nodeName}`, groups: ["system:nodes"] });
    const proxy = deps.credentials.issue({ name: "system:kube-proxy", groups: [] });
    deps.log(`node ${nodeName} joined with bootstrap token ${user.name.slice(BOOTSTRAP_USER_PREFIX.length)}`);
    const answer: NodeCredential = {
      nodeName,
      token: node.token,
      proxyToken: proxy.token,
      kubeletKey: Buffer.from(nodeKey(deps.kubeletKey, nodeName)).toString("base64"),
      expirationTimestamp: rfc3339(new Date(node.exp * 1000)),
    };
    return c.json(answer, 201);
  });
}
