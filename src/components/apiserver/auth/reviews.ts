// The access and identity reviews (create-only virtual resources, never stored):
// authorization.k8s.io/v1 SelfSubjectAccessReview (`kubectl auth can-i`), SelfSubjectRulesReview
// (`can-i --list`), SubjectAccessReview and LocalSubjectAccessReview; authentication.k8s.io/v1
// SelfSubjectReview (`kubectl auth whoami`) and TokenReview. Served with their discovery.
import type {
  SelfSubjectRulesReview,
  SubjectAccessReview,
  SubjectAccessReviewSpec,
  TokenReview,
} from "../../../api/kinds/reviews.ts";
import { badRequest } from "../errors.ts";
import { ISSUER } from "../sa-tokens.ts";
import { MASTERS, nonResourceAttributes, type Attributes, type UserInfo } from "./attributes.ts";
import type { Authenticator } from "./authn.ts";
import type { Authorizer } from "./authorizer.ts";
import { nodeOf } from "./node.ts";
import { CLUSTER_ROLES } from "./bootstrap-policy.ts";

const AUTHZ = "authorization.k8s.io";
const AUTHN = "authentication.k8s.io";
const resource = (name: string, kind: string, namespaced = false) => ({
  name,
  singularName: "",
  namespaced,
  kind,
  verbs: ["create"],
});
export const REVIEW_GROUPS = [
  {
    name: AUTHN,
    resources: [resource("selfsubjectreviews", "SelfSubjectReview"), resource("tokenreviews", "TokenReview")],
  },
  {
    name: AUTHZ,
    resources: [
      resource("localsubjectaccessreviews", "LocalSubjectAccessReview", true),
      resource("selfsubjectaccessreviews", "SelfSubjectAccessReview"),
      resource("selfsubjectrulesreviews", "SelfSubjectRulesReview"),
      resource("subjectaccessreviews", "SubjectAccessReview"),
    ],
  },
].map((g) => ({
  group: {
    name: g.name,
    versions: [{ groupVersion: `${g.name}/v1`, version: "v1" }],
    preferredVersion: { groupVersion: `${g.name}/v1`, version: "v1" },
  },
  list: { kind: "APIResourceList", apiVersion: "v1", groupVersion: `${g.name}/v1`, resources: g.resources },
}));

/** The body of any review: each resource reads its own kind's fields. */
type Review = SubjectAccessReview | SelfSubjectRulesReview | TokenReview;

function attributesOf(user: UserInfo, spec: SubjectAccessReviewSpec | undefined): Attributes {
  const r = spec?.resourceAttributes;
  const n = spec?.nonResourceAttributes;
  if (r)
    return {
      user,
      verb: r.verb ?? "",
      resourceRequest: true,
      path: "",
      apiGroup: r.group ?? "",
      apiVersion: r.version ?? "",
      namespace: r.namespace ?? "",
      resource: r.resource ?? "",
      subresource: r.subresource ?? "",
      name: r.name ?? "",
    };
  if (n) return nonResourceAttributes(user, n.verb ?? "", n.path ?? "");
  throw badRequest("exactly one of nonResourceAttributes or resourceAttributes must be specified");
}

const userInfoJson = (u: UserInfo) => ({
  username: u.name,
  ...(u.uid ? { uid: u.uid } : {}),
  groups: u.groups,
  ...(u.extra ? { extra: u.extra } : {}),
});

export function createReviews(authz: Authorizer, authn: Authenticator) {
  const access = async (user: UserInfo, review: SubjectAccessReview) => {
    const d = await authz.authorize(attributesOf(user, review.spec));
    return {
      ...review,
      metadata: { ...review.metadata, creationTimestamp: null },
      status: { allowed: d.allowed, ...(!d.allowed && d.reason ? { reason: d.reason } : {}) },
    };
  };
  return async (
    requester: UserInfo,
    group: string,
    res: string,
    namespace: string | undefined,
    review: Review,
  ): Promise<unknown> => {
    const base = { apiVersion: `${group}/v1`, kind: review.kind };
    if (group === AUTHZ && res === "selfsubjectaccessreviews")
      return { ...base, kind: "SelfSubjectAccessReview", ...(await access(requester, review as SubjectAccessReview)) };
    if (group === AUTHZ && (res === "subjectaccessreviews" || res === "localsubjectaccessreviews")) {
      const sar = review as SubjectAccessReview;
      const s = sar.spec ?? {};
      if (!s.user && !s.groups?.length) throw badRequest("at least one of user or group must be specified");
      if (res === "localsubjectaccessreviews" && s.resourceAttributes?.namespace !== namespace)
        throw badRequest(
          `spec.resourceAttributes.namespace must match metadata.namespace: ${JSON.stringify(namespace)}`,
        );
      const subject: UserInfo = {
        name: s.user ?? "",
        groups: s.groups ?? [],
        ...(s.uid ? { uid: s.uid } : {}),
        ...(s.extra ? { extra: s.extra } : {}),
      };
      return {
        ...base,
        kind: res === "subjectaccessreviews" ? "SubjectAccessReview" : "LocalSubjectAccessReview",
        ...(await access(subject, sar)),
      };
    }
    if (group === AUTHZ && res === "selfsubjectrulesreviews") {
      const spec = (review as SelfSubjectRulesReview).spec;
      const ns = spec?.namespace ?? "";
      const rules = requester.groups.includes(MASTERS)
        ? CLUSTER_ROLES.find((r) => r.name === "cluster-admin")!.rules
        : nodeOf(requester)
          ? CLUSTER_ROLES.find((r) => r.name === "system:node")!.rules
          : (await authz.rbac.rulesFor(requester, ns)).rules;
      const resourceRules = rules
        .filter((r) => r.resources?.length)
        .map((r) => ({
          verbs: r.verbs,
          apiGroups: r.apiGroups ?? [],
          resources: r.resources,
          ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}),
        }));
      const nonResourceRules = rules
        .filter((r) => r.nonResourceURLs?.length)
        .map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs }));
      return {
        ...base,
        kind: "SelfSubjectRulesReview",
        metadata: { creationTimestamp: null },
        spec: spec ?? {},
        status: { resourceRules, nonResourceRules, incomplete: !!nodeOf(requester) },
      };
    }
    if (group === AUTHN && res === "selfsubjectreviews")
      return {
        ...base,
        kind: "SelfSubjectReview",
        metadata: { creationTimestamp: null },
        status: { userInfo: userInfoJson(requester) },
      };
    if (group === AUTHN && res === "tokenreviews") {
      const spec = (review as TokenReview).spec;
      const token = spec?.token;
      if (!token) throw badRequest("spec.token: Required value: token is required");
      const asked: string[] = spec?.audiences?.length ? spec.audiences : [];
      const user = await authn.userOfToken(token, asked.length ? asked : undefined);
      // Upstream answers with the audiences the token is valid for among those asked (the API's when none).
      const audiences = asked.length ? asked.filter(authn.audiencesOf(token)) : [ISSUER];
      return {
        ...base,
        kind: "TokenReview",
        metadata: { creationTimestamp: null },
        spec,
        status: user
          ? { authenticated: true, user: userInfoJson(user), audiences }
          : { user: {}, error: "invalid bearer token" },
      };
    }
    return undefined;
  };
}
