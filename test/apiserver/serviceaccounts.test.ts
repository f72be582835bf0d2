// Service account tokens: every built-in namespace has its `default` account; TokenRequest
// issues tokens that authenticate while the account (and the pod they are bound to) lives;
// forged, expired-too-soon and orphaned tokens are refused.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { pod, startTestApi, type TestApi } from "../helpers/api.ts";
import { waitFor } from "../helpers/wait.ts";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api.close());

const tokenFor = async (sa: string, spec: Record<string, unknown> = {}) =>
  api.json("POST", `/api/v1/namespaces/default/serviceaccounts/${sa}/token`, {
    apiVersion: "authentication.k8s.io/v1",
    kind: "TokenRequest",
    spec,
  });
// Discovery is open to every authenticated user (system:discovery): 200 means the token authenticates.
const as = (token: string) => api.request("GET", "/api/v1", undefined, { authorization: `Bearer ${token}` });

test("the built-in namespaces have a default service account", async () => {
  for (const ns of ["default", "kube-system", "kube-public", "kube-node-lease"])
    expect((await api.json("GET", `/api/v1/namespaces/${ns}/serviceaccounts/default`)).status).toBe(200);
});

test("a TokenRequest's token authenticates until its account is deleted", async () => {
  await api.json("POST", "/api/v1/namespaces/default/serviceaccounts", {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: "robot" },
  });
  const { status, body } = await tokenFor("robot", { expirationSeconds: 3600 });
  expect(status).toBe(201);
  expect(body.kind).toBe("TokenRequest");
  expect(Date.parse(body.status.expirationTimestamp) - Date.now()).toBeGreaterThan(3500_000);
  const claims = JSON.parse(Buffer.from(body.status.token.split(".")[1], "base64url").toString());
  expect(claims.sub).toBe("system:serviceaccount:default:robot");
  expect((await as(body.status.token)).status).toBe(200);

  const [h, p, sig] = body.status.token.split(".");
  const forged = Buffer.from(JSON.stringify({ ...claims, sub: "system:serviceaccount:kube-system:admin" })).toString(
    "base64url",
  );
  expect((await as(`${h}.${forged}.${sig}`)).status).toBe(401);
  expect((await as(`${h}.${p}.${sig.slice(0, -2)}AA`)).status).toBe(401);

  await api.request("DELETE", "/api/v1/namespaces/default/serviceaccounts/robot");
  expect((await as(body.status.token)).status).toBe(401);
  await api.json("POST", "/api/v1/namespaces/default/serviceaccounts", {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: "robot" },
  });
  // A new account of the same name is a different account.
  expect((await as(body.status.token)).status).toBe(401);
});

test("a GET of one object by a service account follows its bindings and its account at once", async () => {
  const rbac = "/apis/rbac.authorization.k8s.io/v1/namespaces/default";
  await api.json("POST", "/api/v1/namespaces/default/serviceaccounts", {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: "reader" },
  });
  expect((await api.json("POST", "/api/v1/namespaces/default/pods", pod("read-me"))).status).toBe(201);
  const token = (await tokenFor("reader")).body.status.token as string;
  const get = async (name = "read-me") =>
    (
      await api.request("GET", `/api/v1/namespaces/default/pods/${name}`, undefined, {
        authorization: `Bearer ${token}`,
      })
    ).status;
  expect(await get()).toBe(403);
  expect(
    (
      await api.json("POST", `${rbac}/roles`, {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "Role",
        metadata: { name: "pod-reader" },
        rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }],
      })
    ).status,
  ).toBe(201);
  const binding = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: { name: "reader" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "pod-reader" },
    subjects: [{ kind: "ServiceAccount", name: "reader", namespace: "default" }],
  };
  expect((await api.json("POST", `${rbac}/rolebindings`, binding)).status).toBe(201);
  // Repeated: the first GET reads the token and the bindings, the next are answered from what it learned.
  expect([await get(), await get(), await get("missing")]).toEqual([200, 200, 404]);
  expect((await api.request("DELETE", `${rbac}/rolebindings/reader`)).status).toBe(200);
  expect(await get()).toBe(403);
  expect((await api.json("POST", `${rbac}/rolebindings`, binding)).status).toBe(201);
  expect(await get()).toBe(200);
  // A changed role counts at once as well: the allow remembered for the account ends at any RBAC write.
  const role = (await api.json("GET", `${rbac}/roles/pod-reader`)).body;
  const listOnly = { ...role, rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["list"] }] };
  expect((await api.json("PUT", `${rbac}/roles/pod-reader`, listOnly)).status).toBe(200);
  expect(await get()).toBe(403);
  expect((await api.request("DELETE", "/api/v1/namespaces/default/serviceaccounts/reader")).status).toBe(200);
  expect(await get()).toBe(401);
});

test("a token bound to a pod dies with the pod", async () => {
  const created = (await api.json("POST", "/api/v1/namespaces/default/pods", pod("bound"))).body;
  const { body } = await tokenFor("default", {
    boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "bound", uid: created.metadata.uid },
  });
  expect((await as(body.status.token)).status).toBe(200);
  await api.request("DELETE", "/api/v1/namespaces/default/pods/bound?gracePeriodSeconds=0");
  expect((await as(body.status.token)).status).toBe(401);
});

test("bad TokenRequests are refused with the right code", async () => {
  expect((await tokenFor("nobody")).status).toBe(404);
  expect((await tokenFor("default", { expirationSeconds: 60 })).status).toBe(422);
  expect((await tokenFor("default", { boundObjectRef: { kind: "Pod", name: "ghost" } })).status).toBe(404);
  expect((await api.json("GET", "/api/v1/namespaces/default/serviceaccounts/default/token")).status).toBe(405);
});

const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString());

test("the kubelet's default 3607 s pod token is extended with warnafter; other lifetimes are as asked", async () => {
  const created = (await api.json("POST", "/api/v1/namespaces/default/pods", pod("ext"))).body;
  const bound = { kind: "Pod", apiVersion: "v1", name: "ext", uid: created.metadata.uid };
  const now = Date.now() / 1000;
  const kubelet = (await tokenFor("default", { expirationSeconds: 3607, boundObjectRef: bound })).body;
  // The status says 3607 s (when the kubelet refreshes); the token itself lasts a year, warning after 3607 s.
  expect(Date.parse(kubelet.status.expirationTimestamp) / 1000 - now).toBeCloseTo(3607, -1);
  const c = claimsOf(kubelet.status.token);
  expect(c.exp - c.iat).toBe(365 * 24 * 3600);
  expect(c["kubernetes.io"].warnafter - c.iat).toBe(3607);
  expect(c["kubernetes.io"].pod).toEqual({ name: "ext", uid: created.metadata.uid });
  // Not bound to a pod, or another lifetime: no extension.
  const unbound = claimsOf((await tokenFor("default", { expirationSeconds: 3607 })).body.status.token);
  expect(unbound.exp - unbound.iat).toBe(3607);
  const asked = claimsOf(
    (await tokenFor("default", { expirationSeconds: 600, boundObjectRef: bound })).body.status.token,
  );
  expect(asked.exp - asked.iat).toBe(600);
  expect(asked["kubernetes.io"].warnafter).toBeUndefined();
});

test("a token for another audience is no API credential; TokenReview checks the audiences asked", async () => {
  const vault = (await tokenFor("default", { audiences: ["vault"] })).body.status.token;
  expect((await as(vault)).status).toBe(401);
  const review = async (token: string, audiences?: string[]) =>
    (
      await api.json("POST", "/apis/authentication.k8s.io/v1/tokenreviews", {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenReview",
        spec: { token, ...(audiences ? { audiences } : {}) },
      })
    ).body.status;
  expect((await review(vault)).authenticated).toBeUndefined();
  const forVault = await review(vault, ["vault", "other"]);
  expect(forVault.authenticated).toBe(true);
  expect(forVault.audiences).toEqual(["vault"]);
  const api1 = (await tokenFor("default")).body.status.token;
  expect((await review(api1)).audiences).toEqual(["https://kubernetes.default.svc.cluster.local"]);
});

test("--service-account-max-token-expiration shortens tokens, and an expired token is refused (401, TokenReview)", async () => {
  // A server whose tokens live 2 s: expiry is observed, not simulated.
  const short = await startTestApi({ serviceAccountTokens: { maxSeconds: 2 } });
  try {
    const { body } = await short.json("POST", "/api/v1/namespaces/default/serviceaccounts/default/token", {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: { expirationSeconds: 3600 },
    });
    expect(body.spec.expirationSeconds).toBe(2);
    const token = body.status.token;
    const c = claimsOf(token);
    expect(c.exp - c.iat).toBe(2);
    const get = () => short.request("GET", "/api/v1", undefined, { authorization: `Bearer ${token}` });
    expect((await get()).status).toBe(200);
    await waitFor("the token to expire", async () => (await get()).status === 401, 10_000, 200);
    const review = await short.json("POST", "/apis/authentication.k8s.io/v1/tokenreviews", {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenReview",
      spec: { token },
    });
    expect(review.body.status.authenticated).toBeUndefined();
    expect(review.body.status.error).toBeTruthy();
  } finally {
    await short.close();
  }
});
