// A bearer token offered as a WebSocket subprotocol, as kube-apiserver's websocket protocol
// authenticator (k8s.io/apiserver/pkg/authentication/request/websocket) accepts it: browsers
// cannot set an Authorization header on a WebSocket, so the dashboard's exec terminal sends
// `base64url.bearer.authorization.k8s.io.<base64url(token) without padding>`.
export const BEARER_PROTOCOL_PREFIX = "base64url.bearer.authorization.k8s.io.";

/** The token in a WebSocket upgrade's protocols; undefined when none, or when it is not valid base64url. */
export function webSocketBearer(req: Request): string | undefined {
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") return undefined;
  const offered = (req.headers.get("sec-websocket-protocol") ?? "").split(",").map((s) => s.trim());
  const encoded = offered.filter((p) => p.startsWith(BEARER_PROTOCOL_PREFIX));
  if (encoded.length !== 1) return undefined;
  const value = encoded[0]!.slice(BEARER_PROTOCOL_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(value)) return undefined;
  const token = Buffer.from(value, "base64url").toString("utf8");
  return token || undefined;
}

/** The request as the authenticator should see it: an Authorization header from the protocol when it has none. */
export function withWebSocketBearer(req: Request): Request {
  if (req.headers.has("authorization")) return req;
  const token = webSocketBearer(req);
  if (!token) return req;
  const headers = new Headers(req.headers);
  headers.set("authorization", `Bearer ${token}`);
  return new Request(req.url, { method: req.method, headers });
}
