// Service account tokens: JWTs signed (HS256) with the cluster's key, carrying the claims real
// bound tokens carry (sub system:serviceaccount:NS:NAME, the account's and pod's uids). A token
// authenticates while it is unexpired and the account (and the pod it is bound to) still exists
// with the same uid. POST serviceaccounts/NAME/token (TokenRequest) issues them, for the kubelet
// and for `kubectl create token`. Lifetimes follow kube-apiserver: at least 10 minutes, capped by
// --service-account-max-token-expiration, and a pod-bound token asked for the kubelet's default
// 3607 s is valid a year but carries `warnafter` (--service-account-extend-token-expiration), so
// clients that read their token file once keep working while the kubelet rewrites it hourly.
import { rfc3339 } from "../../api/time.ts";
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { TokenRequest } from "../../api/kinds/access.ts";
import type { KindDef } from "../../api/types.ts";
import { HttpError } from "./errors.ts";
import type { Objects } from "./objects.ts";

export const ISSUER = "https://kubernetes.default.svc.cluster.local";

interface Claims {
  iss: string;
  sub: string;
  aud: string[];
  iat: number;
  nbf: number;
  exp: number;
  "kubernetes.io": {
    namespace: string;
    serviceaccount: { name: string; uid: string };
    pod?: { name: string; uid: string };
    /** When an extended token (see above) should have been replaced. */
    warnafter?: number;
  };
}

/** What the kubelet asks for by default (upstream's WarnOnlyBoundTokenExpirationSeconds). */
export const KUBELET_TOKEN_SECONDS = 3607;
const EXTENDED_SECONDS = 365 * 24 * 3600;

export interface TokenPolicy {
  /** --service-account-max-token-expiration: longer requests are shortened to this (seconds). */
  maxSeconds?: number;
  /** --service-account-extend-token-expiration (default true). */
  extendExpiration?: boolean;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");

/** An HS256 JWT of `claims`. */
export function signJwt(key: Uint8Array, claims: object): string {
  const head = `${b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${b64url(JSON.stringify(claims))}`;
  return `${head}.${createHmac("sha256", key).update(head).digest("base64url")}`;
}

/** The claims of a well-formed HS256 JWT signed with `key` and valid at `now`; undefined otherwise. */
export function verifyJwt<T extends { exp: number; nbf: number }>(
  key: Uint8Array,
  token: string,
  now = Date.now() / 1000,
): T | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  const expected = createHmac("sha256", key).update(`${parts[0]}.${parts[1]}`).digest();
  const given = Buffer.from(parts[2]!, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString()) as T;
    return claims.exp > now && claims.nbf <= now + 60 ? claims : undefined;
  } catch {
    return undefined;
  }
}

export class TokenIssuer {
  constructor(
    private readonly key: Uint8Array = randomBytes(32),
    readonly policy: TokenPolicy = {},
  ) {}

  sign(claims: Claims): string {
    return signJwt(this.key, claims);
  }

  /** The claims of a well-formed, correctly signed, unexpired token; undefined otherwise. */
  verify(token: string, now = Date.now() / 1000): Claims | undefined {
    const claims = verifyJwt<Claims>(this.key, token, now);
    return claims?.["kubernetes.io"] ? claims : undefined;
  }
}

/** Whether a verified token's account, and the pod it is bound to, still exist as issued. */
export async function tokenStillValid(
  objects: Objects,
  kinds: { serviceaccounts?: KindDef; pods?: KindDef },
  claims: Claims,
): Promise<boolean> {
  const k = claims["kubernetes.io"];
  if (!kinds.serviceaccounts) return false;
  const sa = await objects.tryGet(kinds.serviceaccounts, k.namespace, k.serviceaccount.name);
  if (sa?.obj.metadata?.uid !== k.serviceaccount.uid) return false;
  if (!k.pod) return true;
  const pod = kinds.pods ? await objects.tryGet(kinds.pods, k.namespace, k.pod.name) : undefined;
  return pod?.obj.metadata?.uid === k.pod.uid;
}

/** POST serviceaccounts/NAME/token: a TokenRequest answered with its token. */
export async function requestToken(
  objects: Objects,
  kinds: { serviceaccounts: KindDef; pods?: KindDef },
  issuer: TokenIssuer,
  namespace: string,
  name: string,
  body: TokenRequest,
): Promise<TokenRequest> {
  const sa = (await objects.get(kinds.serviceaccounts, namespace, name)).obj;
  const spec = body.spec ?? {};
  const seconds = spec.expirationSeconds ?? 3600;
  const invalidSeconds = (why: string) =>
    new HttpError(
      422,
      "Invalid",
      `TokenRequest.authentication.k8s.io "${name}" is invalid: spec.expirationSeconds: Invalid value: ${seconds}: ${why}`,
      {
        name,
        group: "authentication.k8s.io",
        kind: "TokenRequest",
        causes: [
          {
            reason: "FieldValueInvalid",
            message: `Invalid value: ${seconds}: ${why}`,
            field: "spec.expirationSeconds",
          },
        ],
      },
    );
  if (!Number.isInteger(seconds) || seconds < 600)
    throw invalidSeconds("may not specify a duration less than 10 minutes");
  if (seconds > 2 ** 32) throw invalidSeconds("may not specify a duration larger than 2^32 seconds");
  let pod: { name: string; uid: string } | undefined;
  const ref = spec.boundObjectRef;
  if (ref) {
    if (ref.kind !== "Pod" || !ref.name)
      throw new HttpError(
        400,
        "BadRequest",
        `cannot bind a token to ${ref.kind ?? "nothing"}: only pods are supported`,
      );
    const found = kinds.pods ? await objects.tryGet(kinds.pods, namespace, ref.name) : undefined;
    if (!found || (ref.uid && found.obj.metadata?.uid !== ref.uid))
      throw new HttpError(404, "NotFound", `pods "${ref.name}" not found`);
    pod = { name: ref.name, uid: found.obj.metadata!.uid! };
  }
  const now = Math.floor(Date.now() / 1000);
  const aud = spec.audiences?.length ? spec.audiences : [ISSUER];
  const { maxSeconds, extendExpiration = true } = issuer.policy;
  const granted = maxSeconds && seconds > maxSeconds ? maxSeconds : seconds;
  // Upstream extends only pod-bound tokens for the API server's own audience.
  const extended = extendExpiration && !!pod && granted === KUBELET_TOKEN_SECONDS && aud.every((a) => a === ISSUER);
  const token = issuer.sign({
    iss: ISSUER,
    sub: `system:serviceaccount:${namespace}:${name}`,
    aud,
    iat: now,
    nbf: now,
    exp: now + (extended ? EXTENDED_SECONDS : granted),
    "kubernetes.io": {
      namespace,
      serviceaccount: { name, uid: sa.metadata!.uid! },
      ...(pod ? { pod } : {}),
      ...(extended ? { warnafter: now + granted } : {}),
    },
  });
  return {
    apiVersion: "authentication.k8s.io/v1",
    kind: "TokenRequest",
    metadata: { name, namespace, creationTimestamp: null },
    spec: { audiences: aud, expirationSeconds: granted, boundObjectRef: ref ?? null },
    status: { token, expirationTimestamp: rfc3339((now + granted) * 1000) },
  };
}
