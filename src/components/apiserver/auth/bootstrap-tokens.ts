// Bootstrap token authentication, as kube-apiserver's --enable-bootstrap-token-auth
// (plugin/pkg/auth/authenticator/token/bootstrap): "<id>.<secret>" matches the Secret
// kube-system/bootstrap-token-<id> of type bootstrap.kubernetes.io/token whose token-secret is the
// secret, marked usage-bootstrap-authentication=true and not expired. The user is
// system:bootstrap:<id> in system:bootstrappers (plus auth-extra-groups). Why a matching Secret is
// refused is logged, as upstream does, so the refusal is one clear line on the server too.
import { timingSafeEqual } from "node:crypto";
import {
  BOOTSTRAP_TOKEN_NAMESPACE,
  BOOTSTRAP_TOKEN_PATTERN,
  BOOTSTRAP_TOKEN_SECRET_PREFIX,
  BOOTSTRAP_TOKEN_TYPE,
  BOOTSTRAP_USER_PREFIX,
  BOOTSTRAPPERS_GROUP,
  tokenData as data,
  tokenExpiration,
} from "../../../api/bootstrap-token.ts";
import type { Secret } from "../../../api/kinds/core.ts";
import type { KindDef } from "../../../api/types.ts";
import type { Objects } from "../objects.ts";
import { AUTHENTICATED, type UserInfo } from "./attributes.ts";

export async function bootstrapTokenUser(
  objects: Objects,
  secrets: KindDef | undefined,
  token: string,
  log: (m: string) => void = () => {},
  now = Date.now(),
): Promise<UserInfo | undefined> {
  const m = BOOTSTRAP_TOKEN_PATTERN.exec(token);
  if (!m || !secrets) return undefined;
  const [, id, secret] = m as unknown as [string, string, string];
  const name = BOOTSTRAP_TOKEN_SECRET_PREFIX + id;
  const found = (await objects.tryGet(secrets, BOOTSTRAP_TOKEN_NAMESPACE, name))?.obj as Secret | undefined;
  const refuse = (why: string) => {
    log(`Bootstrap secret ${BOOTSTRAP_TOKEN_NAMESPACE}/${name} matching bearer token ${why}`);
    return undefined;
  };
  if (!found) {
    log(`No secret of name ${name} to match bootstrap bearer token`);
    return undefined;
  }
  if (found.metadata?.deletionTimestamp) return refuse("is deleted and awaiting removal");
  if (found.type !== BOOTSTRAP_TOKEN_TYPE || !found.data)
    return refuse(`has invalid type, expected ${BOOTSTRAP_TOKEN_TYPE}.`);
  const stored = Buffer.from(data(found, "token-secret"));
  if (stored.length !== secret.length || !timingSafeEqual(stored, Buffer.from(secret)))
    return refuse("has invalid value for key token-secret.");
  if (data(found, "token-id") !== id) return refuse(`has invalid value for key token-id, expected ${id}.`);
  if (tokenExpiration(found, now).expired) return refuse(`has expired (expiration ${data(found, "expiration")}).`);
  if (data(found, "usage-bootstrap-authentication") !== "true")
    return refuse("not marked usage-bootstrap-authentication=true.");
  const extra = data(found, "auth-extra-groups")
    .split(",")
    .map((g) => g.trim())
    .filter(Boolean);
  if (extra.some((g) => !g.startsWith(`${BOOTSTRAPPERS_GROUP}:`)))
    return refuse(`has invalid value for key auth-extra-groups: groups must start with "${BOOTSTRAPPERS_GROUP}:".`);
  return { name: BOOTSTRAP_USER_PREFIX + id, groups: [BOOTSTRAPPERS_GROUP, ...extra, AUTHENTICATED] };
}
