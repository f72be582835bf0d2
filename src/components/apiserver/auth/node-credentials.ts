// The credentials a joining node gets for its bootstrap token (`kube agent`): bearer tokens for
// system:node:<name> (group system:nodes) and system:kube-proxy, HS256 JWTs signed with a key
// derived from the cluster's signing key (DATA/sa.key), so every API server of the cluster accepts
// them and a service account token is never mistaken for one. Upstream's kubelet gets a client
// certificate through a CertificateSigningRequest instead: Bun.serve does not hand the handler the
// peer's certificate, so a bearer token of the same identity and lifetime (a year, as the
// kubelet's client certificate) stands for it.
import { createHmac } from "node:crypto";
import { signJwt, verifyJwt } from "../sa-tokens.ts";
import type { UserInfo } from "./attributes.ts";
import { AUTHENTICATED } from "./attributes.ts";

const ISSUER = "kube-node-join";
export const NODE_CREDENTIAL_SECONDS = 365 * 24 * 3600;

interface Claims {
  iss: string;
  sub: string;
  groups: string[];
  iat: number;
  nbf: number;
  exp: number;
}

export class NodeCredentials {
  private readonly key: Uint8Array;
  /**
   * Tokens whose signature was checked, until they expire (nothing else ends them): a kubelet's
   * every request would otherwise pay an HMAC over its token.
   */
  private readonly verified = new Map<string, { user: UserInfo; exp: number }>();

  constructor(signingKey: Uint8Array) {
    this.key = createHmac("sha256", signingKey).update("node-credentials").digest();
  }

  issue(user: { name: string; groups: string[] }, now = Date.now() / 1000): { token: string; exp: number } {
    const iat = Math.floor(now);
    const exp = iat + NODE_CREDENTIAL_SECONDS;
    return { token: signJwt(this.key, { iss: ISSUER, sub: user.name, groups: user.groups, iat, nbf: iat, exp }), exp };
  }

  userOf(token: string, now = Date.now() / 1000): UserInfo | undefined {
    const hit = this.verified.get(token);
    if (hit && hit.exp > now) return hit.user;
    const c = verifyJwt<Claims>(this.key, token, now);
    if (!c || c.iss !== ISSUER || typeof c.sub !== "string" || !Array.isArray(c.groups)) return undefined;
    const user = { name: c.sub, groups: [...c.groups, AUTHENTICATED] };
    if (this.verified.size >= 10_000) this.verified.clear();
    this.verified.set(token, { user, exp: c.exp });
    return user;
  }
}
