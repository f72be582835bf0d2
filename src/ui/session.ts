// Logging in: a pasted bearer token, or the one-time code from `kube dashboard`'s link (in the
// URL fragment, never sent to a server log) exchanged once for a token. The token lives in
// sessionStorage only: it ends with the tab.
import { errorOf } from "./api.ts";

const KEY = "kube-dashboard-token";

export const savedToken = () => sessionStorage.getItem(KEY) ?? undefined;
export const saveToken = (t: string) => sessionStorage.setItem(KEY, t);
export const forgetToken = () => sessionStorage.removeItem(KEY);

export interface Identity {
  username: string;
  groups: string[];
}

/** Who the token is (SelfSubjectReview); throws the server's message for a token it refuses. */
export async function whoAmI(token: string): Promise<Identity> {
  const res = await fetch("/apis/authentication.k8s.io/v1/selfsubjectreviews", {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" }),
  });
  if (!res.ok) {
    const err = await errorOf(res);
    throw new Error(
      res.status === 401 ? "The server did not accept this token (401 Unauthorized)." : `Login failed: ${err.message}`,
    );
  }
  const body = (await res.json()) as { status?: { userInfo?: { username?: string; groups?: string[] } } };
  return { username: body.status?.userInfo?.username ?? "?", groups: body.status?.userInfo?.groups ?? [] };
}

/** The login code in the URL fragment (#code=...), removed from the address bar at once. */
export function takeLoginCode(): string | undefined {
  const m = /(?:^#|&)code=([A-Za-z0-9_-]+)/.exec(location.hash);
  if (!m) return undefined;
  history.replaceState(null, "", `${location.pathname}#/pods`);
  return m[1];
}

export async function redeemCode(code: string): Promise<string> {
  const res = await fetch("/ui/login", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ code }),
  });
  if (!res.ok) throw new Error(`This login link is not valid any more: ${(await errorOf(res)).message}.`);
  return ((await res.json()) as { token: string }).token;
}
