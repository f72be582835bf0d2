// The web dashboard's server side, under /ui/: the page and its bundle (public: they hold no data)
// and the one-time login codes `kube dashboard` puts in its link. Every data call the page makes
// is an ordinary API request carrying the user's bearer token; this server stays the authority.
import type { Hono } from "hono";
import { randomBytes } from "node:crypto";
import { uiAssets, type Asset } from "./dashboard-assets.ts";
import { HttpError, statusResponse } from "./errors.ts";

/** No inline script, nothing from elsewhere; xterm.js writes <style> elements, hence inline styles. */
export const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

const INDEX_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>kube dashboard</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/ui/main.css"></head>
<body><div id="app"></div><script type="module" src="/ui/main.js"></script></body></html>
`;

const CODE_TTL_MS = 60_000;
const MAX_CODES = 1000;

/** Short-lived codes, each exchanged once for the bearer token that asked for it. */
export class LoginCodes {
  private readonly codes = new Map<string, { token: string; expires: number }>();

  issue(token: string, now = Date.now()): string {
    for (const [c, v] of this.codes) if (v.expires <= now) this.codes.delete(c);
    if (this.codes.size >= MAX_CODES) throw new HttpError(429, "TooManyRequests", "too many login codes pending");
    const code = randomBytes(24).toString("base64url");
    this.codes.set(code, { token, expires: now + CODE_TTL_MS });
    return code;
  }

  /** The token, once; undefined when the code is unknown, used or expired. */
  redeem(code: string, now = Date.now()): string | undefined {
    const v = this.codes.get(code);
    this.codes.delete(code);
    return v && v.expires > now ? v.token : undefined;
  }
}

export const isDashboardPath = (path: string) => path === "/ui" || path.startsWith("/ui/");

const securityHeaders = {
  "content-security-policy": DASHBOARD_CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

function assetResponse(asset: Asset, req: Request): Response {
  const gzip = /\bgzip\b/.test(req.headers.get("accept-encoding") ?? "");
  return new Response((gzip ? asset.gzip : asset.body) as Uint8Array<ArrayBuffer>, {
    headers: {
      ...securityHeaders,
      "content-type": asset.type,
      "cache-control": "no-cache",
      etag: asset.etag,
      vary: "Accept-Encoding",
      ...(gzip ? { "content-encoding": "gzip" } : {}),
    },
  });
}

/**
 * Mounts /ui/ on the app. `authenticate` names the token's user (undefined = not valid): a login
 * code may be asked for by any authenticated caller, for its own token only.
 */
export function mountDashboard(app: Hono, authenticate: (token: string) => Promise<boolean>): void {
  const codes = new LoginCodes();
  app.get("/ui", (c) => c.redirect("/ui/", 301));
  app.post("/ui/login-code", async (c) => {
    const auth = c.req.header("authorization") ?? "";
    const token = auth.startsWith("Bearer ") ? auth.slice(7).trim() : "";
    if (!token || !(await authenticate(token))) throw new HttpError(401, "Unauthorized", "Unauthorized");
    return c.json({ code: codes.issue(token), expiresInSeconds: CODE_TTL_MS / 1000 }, 201);
  });
  app.post("/ui/login", async (c) => {
    const body = (await c.req.json().catch(() => undefined)) as { code?: unknown } | undefined;
    const token = typeof body?.code === "string" ? codes.redeem(body.code) : undefined;
    if (!token) return statusResponse(new HttpError(401, "Unauthorized", "the login code is invalid or expired"));
    return new Response(JSON.stringify({ token }), {
      headers: { ...securityHeaders, "content-type": "application/json" },
    });
  });
  app.get("/ui/*", async (c) => {
    const name = c.req.path.slice("/ui/".length);
    if (name === "" || name === "index.html")
      return new Response(INDEX_HTML, { headers: { ...securityHeaders, "content-type": "text/html; charset=utf-8" } });
    const asset = (await uiAssets()).get(name);
    if (!asset) throw new HttpError(404, "NotFound", `the server could not find the requested resource`);
    if (c.req.header("if-none-match") === asset.etag)
      return new Response(null, { status: 304, headers: { ...securityHeaders, etag: asset.etag } });
    return assetResponse(asset, c.req.raw);
  });
}
