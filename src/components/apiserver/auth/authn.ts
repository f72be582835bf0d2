// Authentication: the cluster's bearer token (a member of system:masters), the in-process
// identities of the cluster's own components (tokens made at start and held only in memory, as a
// static token file would), and service account tokens. Then impersonation (Impersonate-User,
// -Group, -Uid, -Extra-*), each part authorized with the `impersonate` verb, as kube-apiserver's
// impersonation filter does.
import { randomBytes } from "node:crypto";
import type { KindDef } from "../../../api/types.ts";
import { badRequest } from "../errors.ts";
import type { Objects } from "../objects.ts";
import { ISSUER, tokenStillValid, type TokenIssuer } from "../sa-tokens.ts";
import {
  AUTHENTICATED,
  MASTERS,
  UNAUTHENTICATED,
  requestAttributes,
  serviceAccountUser,
  type Attributes,
  type UserInfo,
} from "./attributes.ts";
import { forbiddenError } from "./forbidden.ts";
import { BOOTSTRAP_TOKEN_PATTERN } from "../../../api/bootstrap-token.ts";
import type { NodeCredentials } from "./node-credentials.ts";

/** Joining nodes: bootstrap tokens (bootstrap-tokens.ts) and the credentials a join hands out. */
export interface JoinAuthentication {
  bootstrap: (token: string) => Promise<UserInfo | undefined>;
  credentials: NodeCredentials;
}

const BOOTSTRAP = "bootstrap";

export const ADMIN_USER: UserInfo = { name: "kubernetes-admin", groups: [MASTERS, AUTHENTICATED] };

export class Authenticator {
  private readonly identities = new Map<string, UserInfo>();
  /** Service account tokens already checked against their account and pod, until one of those may have changed. */
  private readonly checked = new Map<string, { user: UserInfo; exp: number; aud: string[] }>();
  private generation = 0;

  constructor(
    private readonly adminToken: string | undefined,
    private readonly tokens: TokenIssuer,
    private readonly objects: Objects,
    private readonly kinds: { serviceaccounts?: KindDef; pods?: KindDef },
    private readonly join?: JoinAuthentication,
  ) {}

  /** A token for one of the cluster's own components, valid while this process runs. */
  tokenFor(user: UserInfo): string {
    const token = randomBytes(24).toString("hex");
    this.identities.set(token, {
      ...user,
      groups: user.groups.includes(AUTHENTICATED) ? user.groups : [...user.groups, AUTHENTICATED],
    });
    return token;
  }

  /**
   * The user a bearer token belongs to; undefined when it is not valid (401). A service account
   * token must be meant for one of `audiences` (the API server's own unless a TokenReview names
   * others), as kube-apiserver's authenticator checks: a token projected for "vault" is no API credential.
   */
  async userOfToken(token: string, audiences: string[] = [ISSUER]): Promise<UserInfo | undefined> {
    const meant = (aud: string[]) => aud.some((a) => audiences.includes(a));
    // First, as no other kind of token can be among them: it spares a service account's every
    // request the node credential's signature check.
    const hit = this.checked.get(token);
    if (hit && hit.exp > Date.now() / 1000) return meant(hit.aud) ? hit.user : undefined;
    const own = this.ownUser(token);
    if (own === BOOTSTRAP) return this.join!.bootstrap(token);
    if (own) return own;
    const generation = this.generation;
    const claims = this.tokens.verify(token);
    if (!claims || !meant(claims.aud) || !(await tokenStillValid(this.objects, this.kinds, claims))) return undefined;
    const k = claims["kubernetes.io"];
    const extra: Record<string, string[]> = {};
    if (k.pod) {
      extra["authentication.kubernetes.io/pod-name"] = [k.pod.name];
      extra["authentication.kubernetes.io/pod-uid"] = [k.pod.uid];
    }
    const user = {
      ...serviceAccountUser(k.namespace, k.serviceaccount.name),
      uid: k.serviceaccount.uid,
      ...(k.pod ? { extra } : {}),
    };
    if (this.checked.size > 10_000) this.checked.clear();
    // Not kept when a delete raced with the check.
    if (generation === this.generation) this.checked.set(token, { user, exp: claims.exp, aud: claims.aud });
    return user;
  }

  /** The user of one of the cluster's own tokens (admin, components, nodes), or BOOTSTRAP for a bootstrap token. */
  private ownUser(token: string): UserInfo | typeof BOOTSTRAP | undefined {
    if (this.adminToken !== undefined && token === this.adminToken) return ADMIN_USER;
    const known = this.identities.get(token);
    if (known) return known;
    if (!this.join) return undefined;
    return BOOTSTRAP_TOKEN_PATTERN.test(token) ? BOOTSTRAP : this.join.credentials.userOf(token);
  }

  /**
   * The user of a request's bearer token when that is known without a lookup (the admin's, a
   * component's, a node's, or a service account token already checked, for the API server's own
   * audience); undefined when only authenticate() can tell, or the token is not valid.
   */
  userNow(req: Request): UserInfo | undefined {
    const auth = req.headers.get("authorization") ?? "";
    if (!auth.startsWith("Bearer ")) return undefined;
    const token = auth.slice(7).trim();
    const hit = this.checked.get(token);
    if (hit && hit.exp > Date.now() / 1000) return hit.aud.includes(ISSUER) ? hit.user : undefined;
    const own = this.ownUser(token);
    return own === BOOTSTRAP ? undefined : own;
  }

  /** The audiences a token is meant for; every audience for the cluster's own (static) tokens. */
  audiencesOf(token: string): (aud: string) => boolean {
    if (token === this.adminToken || this.identities.has(token)) return () => true;
    const aud = this.tokens.verify(token)?.aud ?? [];
    return (a) => aud.includes(a);
  }

  /** A pod, service account or namespace was written or deleted: tokens are checked again. */
  forgetCheckedTokens(): void {
    this.generation++;
    this.checked.clear();
  }

  async authenticate(req: Request): Promise<UserInfo | undefined> {
    const auth = req.headers.get("authorization") ?? "";
    if (!auth.startsWith("Bearer ")) return undefined;
    return this.userOfToken(auth.slice(7).trim());
  }
}

const EXTRA_PREFIX = "impersonate-extra-";

export const wantsImpersonation = (req: Request) =>
  req.headers.has("impersonate-user") || req.headers.has("impersonate-group") || req.headers.has("impersonate-uid");

/**
 * The impersonated user, each requested part checked with `authorize`; the requester itself
 * when no Impersonate-* header is present.
 */
export async function impersonate(
  req: Request,
  requester: UserInfo,
  authorize: (a: Attributes) => Promise<{ allowed: boolean; reason: string }>,
): Promise<UserInfo> {
  const h = req.headers;
  const name = h.get("impersonate-user");
  const groups = h.has("impersonate-group")
    ? h
        .get("impersonate-group")!
        .split(",")
        .map((g) => g.trim())
        .filter(Boolean)
    : [];
  const uid = h.get("impersonate-uid") ?? undefined;
  const extra: Record<string, string[]> = {};
  for (const [k, v] of h.entries())
    if (k.startsWith(EXTRA_PREFIX))
      (extra[decodeURIComponent(k.slice(EXTRA_PREFIX.length))] ??= []).push(...v.split(",").map((s) => s.trim()));
  if (name === null) {
    if (groups.length || uid || Object.keys(extra).length)
      throw badRequest("requested impersonation of groups, extra or uid without impersonating a user");
    return requester;
  }
  const base = requestAttributes(requester, "POST", new URL("http://x/"));
  const check = async (a: Partial<Attributes>) => {
    const attrs: Attributes = {
      ...base,
      resourceRequest: true,
      verb: "impersonate",
      apiVersion: "",
      namespace: "",
      subresource: "",
      ...a,
    } as Attributes;
    const d = await authorize(attrs);
    if (!d.allowed) throw forbiddenError(attrs, d.reason);
  };
  const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(name);
  let userGroups = [...groups];
  if (sa) {
    await check({ apiGroup: "", resource: "serviceaccounts", namespace: sa[1]!, name: sa[2]! });
    if (!groups.length) userGroups = serviceAccountUser(sa[1]!, sa[2]!).groups.filter((g) => g !== AUTHENTICATED);
  } else await check({ apiGroup: "", resource: "users", name });
  for (const g of groups) await check({ apiGroup: "", resource: "groups", name: g });
  if (uid) await check({ apiGroup: "authentication.k8s.io", resource: "uids", name: uid });
  for (const [key, values] of Object.entries(extra))
    for (const v of values)
      await check({ apiGroup: "authentication.k8s.io", resource: "userextras", subresource: key, name: v });
  if (name !== "system:anonymous" && !userGroups.includes(AUTHENTICATED) && !userGroups.includes(UNAUTHENTICATED))
    userGroups.push(AUTHENTICATED);
  return { name, groups: userGroups, ...(uid ? { uid } : {}), ...(Object.keys(extra).length ? { extra } : {}) };
}
