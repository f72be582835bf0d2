// The review kinds (authorization.k8s.io/v1 SubjectAccessReview and friends,
// authentication.k8s.io/v1 TokenReview and SelfSubjectReview): create-only, never stored, so
// they have types but no registry entry. The API server answers them (apiserver/auth/reviews.ts);
// the kubelet asks them about its own callers.
import type { KubeObject } from "../types.ts";

/** authorization.k8s.io/v1 ResourceAttributes. */
export interface ResourceAttributes {
  namespace?: string;
  verb?: string;
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}
export interface NonResourceAttributes {
  path?: string;
  verb?: string;
}
/** SubjectAccessReviewSpec; a SelfSubjectAccessReview's spec has only the two attribute sets. */
export interface SubjectAccessReviewSpec {
  resourceAttributes?: ResourceAttributes;
  nonResourceAttributes?: NonResourceAttributes;
  user?: string;
  groups?: string[];
  uid?: string;
  extra?: Record<string, string[]>;
}
export interface SubjectAccessReviewStatus {
  allowed: boolean;
  denied?: boolean;
  reason?: string;
  evaluationError?: string;
}
/** SubjectAccessReview, LocalSubjectAccessReview and SelfSubjectAccessReview. */
export interface SubjectAccessReview extends KubeObject {
  spec?: SubjectAccessReviewSpec;
  status?: SubjectAccessReviewStatus;
}
export interface SelfSubjectRulesReview extends KubeObject {
  spec?: { namespace?: string };
}

/** authentication.k8s.io/v1 UserInfo. */
export interface UserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}
export interface TokenReviewSpec {
  token?: string;
  audiences?: string[];
}
export interface TokenReviewStatus {
  authenticated?: boolean;
  user?: UserInfo;
  audiences?: string[];
  error?: string;
}
export interface TokenReview extends KubeObject {
  spec?: TokenReviewSpec;
  status?: TokenReviewStatus;
}
