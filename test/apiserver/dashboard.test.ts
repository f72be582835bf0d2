// The dashboard's server side in process: the public page carries its CSP, a login code is issued
// only for a valid token and redeems once, and WebSocket bearer subprotocols decode as upstream's.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { LoginCodes } from "../../src/components/apiserver/dashboard.ts";
import { webSocketBearer, withWebSocketBearer } from "../../src/components/apiserver/auth/websocket-bearer.ts";
import { startTestApi, TEST_TOKEN, type TestApi } from "../helpers/api.ts";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api.close());

const post = (path: string, body: unknown, token?: string) =>
  api.fetch(
    new Request(`http://in-process${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    }),
  );

test("the page is public, with a CSP that allows only its own scripts", async () => {
  const res = await api.fetch(new Request("http://in-process/ui/"));
  expect(res.status).toBe(200);
  expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
  expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
  expect(await res.text()).toContain('<script type="module" src="/ui/main.js">');
  const missing = await api.fetch(new Request("http://in-process/ui/nope.js"));
  expect(missing.status).toBe(404);
});

test("a login code needs a valid token and gives that token back exactly once", async () => {
  expect((await post("/ui/login-code", {})).status).toBe(401);
  expect((await post("/ui/login-code", {}, "wrong")).status).toBe(401);
  const issued = await post("/ui/login-code", {}, TEST_TOKEN);
  expect(issued.status).toBe(201);
  const { code } = (await issued.json()) as { code: string };
  const first = await post("/ui/login", { code });
  expect(await first.json()).toEqual({ token: TEST_TOKEN });
  const second = await post("/ui/login", { code });
  expect(second.status).toBe(401);
  expect(((await second.json()) as { message: string }).message).toBe("the login code is invalid or expired");
  expect((await post("/ui/login", { code: 42 })).status).toBe(401);
  expect((await post("/ui/login", "not json")).status).toBe(401);
});

test("a login code expires after a minute", () => {
  const codes = new LoginCodes();
  const code = codes.issue("t", 0);
  expect(codes.redeem(code, 60_001)).toBeUndefined();
  const fresh = codes.issue("t", 0);
  expect(codes.redeem(fresh, 59_000)).toBe("t");
});

test("a bearer token offered as a WebSocket subprotocol becomes the request's Authorization", () => {
  const ws = (protocols: string) =>
    new Request("http://x/api/v1/namespaces/a/pods/b/exec", {
      headers: { upgrade: "websocket", "sec-websocket-protocol": protocols },
    });
  const encoded = Buffer.from("my-token").toString("base64url");
  expect(webSocketBearer(ws(`v5.channel.k8s.io, base64url.bearer.authorization.k8s.io.${encoded}`))).toBe("my-token");
  expect(withWebSocketBearer(ws(`base64url.bearer.authorization.k8s.io.${encoded}`)).headers.get("authorization")).toBe(
    "Bearer my-token",
  );
  expect(webSocketBearer(ws("v5.channel.k8s.io"))).toBeUndefined();
  expect(webSocketBearer(ws("base64url.bearer.authorization.k8s.io.not+valid"))).toBeUndefined();
  // Not an upgrade: the subprotocol means nothing.
  const plain = new Request("http://x/api", {
    headers: { "sec-websocket-protocol": `base64url.bearer.authorization.k8s.io.${encoded}` },
  });
  expect(webSocketBearer(plain)).toBeUndefined();
});
