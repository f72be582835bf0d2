// Bootstrap tokens as upstream keeps them (k8s.io/cluster-bootstrap/token/api): a Secret
// kube-system/bootstrap-token-<id> of type bootstrap.kubernetes.io/token holding the id, the secret
// and the expiry; the token itself is "<id>.<secret>" and authenticates as system:bootstrap:<id> in
// the group system:bootstrappers. A join token (`kube token create`) is "K10<sha256 of the CA>::<id>.<secret>",
// as k3s prints them: the hash lets the joining side check the server before it sends the secret.

import type { Secret } from "./kinds/core.ts";

export const BOOTSTRAP_TOKEN_NAMESPACE = "kube-system";
export const BOOTSTRAP_TOKEN_SECRET_PREFIX = "bootstrap-token-";
export const BOOTSTRAP_TOKEN_TYPE = "bootstrap.kubernetes.io/token";
export const BOOTSTRAP_USER_PREFIX = "system:bootstrap:";
export const BOOTSTRAPPERS_GROUP = "system:bootstrappers";
/** upstream's BootstrapTokenPattern. */
export const BOOTSTRAP_TOKEN_PATTERN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;

/** A key of a token Secret's data, decoded ("" when absent). */
export const tokenData = (s: Secret, key: string): string =>
  s.data?.[key] ? Buffer.from(s.data[key], "base64").toString() : "";

/**
 * upstream's GetExpiration: a token without `expiration` never expires; one whose expiration has
 * passed or cannot be parsed has; otherwise ttlMs is the time left.
 */
export function tokenExpiration(s: Secret, now: number): { expired: boolean; ttlMs: number } {
  const expiration = tokenData(s, "expiration");
  if (!expiration) return { expired: false, ttlMs: 0 };
  const ttlMs = Date.parse(expiration) - now;
  return Number.isNaN(ttlMs) || ttlMs <= 0 ? { expired: true, ttlMs: 0 } : { expired: false, ttlMs };
}

export interface JoinToken {
  /** sha256 (hex) of the cluster CA's PEM as the server serves it at /cacerts. */
  caHash: string;
  id: string;
  secret: string;
}

/** Parses "K10<64 hex>::<id>.<secret>"; undefined when it is not one. */
export function parseJoinToken(text: string): JoinToken | undefined {
  const m = /^K10([0-9a-f]{64})::([a-z0-9]{6})\.([a-z0-9]{16})$/.exec(text.trim());
  return m ? { caHash: m[1]!, id: m[2]!, secret: m[3]! } : undefined;
}

export const formatJoinToken = (t: JoinToken) => `K10${t.caHash}::${t.id}.${t.secret}`;

/** Where a node's credential is asked for with a bootstrap token (as k3s's /v1-k3s/ endpoints). */
export const NODE_CREDENTIAL_PATH = "/v1-kube/node-credential";
/** What a joined node asks at each start about the cluster it runs pods for (k3s's agents ask /v1-k3s/config). */
export const NODE_CONFIG_PATH = "/v1-kube/node-config";

/** What NODE_CONFIG_PATH answers to nodes (group system:nodes). */
export interface NodeClusterConfig {
  /** The service IP range (kube up --service-cidr). */
  serviceCidr: string;
  /** The pod range node IPAM hands out blocks of (--cluster-cidr); absent: no per-node pod ranges. */
  clusterCidr?: string;
  clusterDomain: string;
}
/** The cluster CA's PEM, unauthenticated (k3s's /cacerts): its hash is checked against the join token. */
export const CACERTS_PATH = "/cacerts";

/** What NODE_CREDENTIAL_PATH answers. */
export interface NodeCredential {
  nodeName: string;
  /** Bearer token of system:node:<nodeName> (group system:nodes). */
  token: string;
  /** Bearer token of system:kube-proxy, for the node's service proxy (k3s hands agents a kube-proxy credential too). */
  proxyToken: string;
  /** The node's kubelet key (util/kubelet-auth.ts), base64. */
  kubeletKey: string;
  /** RFC 3339; when both tokens stop being accepted. */
  expirationTimestamp: string;
}
