// Joining nodes, in process: bootstrap tokens authenticate as upstream's (system:bootstrap:<id> in
// system:bootstrappers) until they expire or are deleted; /cacerts is public; the node credential
// endpoint answers only bootstrap tokens, refuses bad input with a Status, and what it hands out
// acts as the node (and only that node) and as the proxy.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestApi, type TestApi } from "../helpers/api.ts";
import { nodeKey } from "../../src/util/kubelet-auth.ts";

let api: TestApi;
const CA = "-----BEGIN CERTIFICATE-----\ntest\n-----END CERTIFICATE-----\n";
beforeAll(async () => {
  api = await startTestApi({ clusterCa: CA });
});
afterAll(() => api.close());

const b64 = (s: string) => Buffer.from(s).toString("base64");
const tokenSecret = (id: string, secret: string, extra: Record<string, string> = {}) =>
  api.json("POST", "/api/v1/namespaces/kube-system/secrets", {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: `bootstrap-token-${id}` },
    type: "bootstrap.kubernetes.io/token",
    data: Object.fromEntries(
      Object.entries({
        "token-id": id,
        "token-secret": secret,
        "usage-bootstrap-authentication": "true",
        ...extra,
      }).map(([k, v]) => [k, b64(v)]),
    ),
  });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const whoami = async (token: string) =>
  api.json(
    "POST",
    "/apis/authentication.k8s.io/v1/selfsubjectreviews",
    { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
    bearer(token),
  );
const join = (token: string, body: unknown) => api.json("POST", "/v1-kube/node-credential", body, bearer(token));

test("/cacerts serves the CA to anyone", async () => {
  const res = await api.fetch(new Request("http://in-process/cacerts"));
  expect(res.status).toBe(200);
  expect(await res.text()).toBe(CA);
});

test("a bootstrap token is system:bootstrap:<id> until it expires, and is refused when its secret is wrong", async () => {
  expect(
    (await tokenSecret("abcdef", "0123456789abcdef", { "auth-extra-groups": "system:bootstrappers:x" })).status,
  ).toBe(201);
  const me = await whoami("abcdef.0123456789abcdef");
  expect(me.status).toBe(201);
  expect(me.body.status.userInfo).toEqual({
    username: "system:bootstrap:abcdef",
    groups: ["system:bootstrappers", "system:bootstrappers:x", "system:authenticated"],
  });
  expect((await whoami("abcdef.0123456789abcdee")).status).toBe(401);
  expect((await tokenSecret("old123", "0123456789abcdef", { expiration: "2020-01-01T00:00:00Z" })).status).toBe(201);
  expect((await whoami("old123.0123456789abcdef")).status).toBe(401);
  expect((await tokenSecret("nouse1", "0123456789abcdef", { "usage-bootstrap-authentication": "false" })).status).toBe(
    201,
  );
  expect((await whoami("nouse1.0123456789abcdef")).status).toBe(401);
});

test("the node credential endpoint: only bootstrap tokens, valid names, and credentials of that node only", async () => {
  expect((await join("nope12.0123456789abcdef", { nodeName: "n1" })).status).toBe(401);
  const admin = await join("test-token", { nodeName: "n1" });
  expect(admin.status).toBe(403);
  expect(admin.body.message).toContain("only bootstrap tokens");
  const token = "abcdef.0123456789abcdef";
  expect((await join(token, "not json{")).status).toBe(400);
  expect((await join(token, {})).body).toMatchObject({ code: 400, message: "nodeName is required" });
  const bad = await join(token, { nodeName: "Not_A_Name" });
  expect(bad.status).toBe(422);
  expect(bad.body.reason).toBe("Invalid");

  const got = await join(token, { nodeName: "n1" });
  expect(got.status).toBe(201);
  expect(got.body.nodeName).toBe("n1");
  expect(Buffer.from(got.body.kubeletKey, "base64")).toEqual(Buffer.from(nodeKey(api.kubeletKey, "n1")));
  // Asked by the admin: the Node authorizer gives a node no SelfSubjectReview.
  const review = async (token: string) =>
    (
      await api.json("POST", "/apis/authentication.k8s.io/v1/tokenreviews", {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenReview",
        spec: { token },
      })
    ).body.status;
  expect((await review(got.body.token)).user).toEqual({
    username: "system:node:n1",
    groups: ["system:nodes", "system:authenticated"],
  });
  expect((await review(got.body.proxyToken)).user.username).toBe("system:kube-proxy");
  for (const name of ["n1", "n2"])
    await api.json("POST", "/api/v1/nodes", { apiVersion: "v1", kind: "Node", metadata: { name } });
  const patch = (name: string, t: string) =>
    api.request(
      "PATCH",
      `/api/v1/nodes/${name}`,
      { metadata: { labels: { a: "b" } } },
      {
        ...bearer(t),
        "content-type": "application/merge-patch+json",
      },
    );
  expect((await patch("n1", got.body.token)).status).toBe(200);
  expect((await patch("n2", got.body.token)).status).toBe(403);
  // The proxy lists services and endpoints, and nothing more.
  expect((await api.json("GET", "/api/v1/endpoints", undefined, bearer(got.body.proxyToken))).status).toBe(200);
  expect((await api.json("GET", "/api/v1/secrets", undefined, bearer(got.body.proxyToken))).status).toBe(403);
});
