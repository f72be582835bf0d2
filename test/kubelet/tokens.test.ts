// Service account tokens in real pods are short-lived and refreshed, and the kubelet's endpoint
// serves callers other than the API server only when a SubjectAccessReview allows them: one
// cluster on Podman whose API server shortens every token to 20 s (kube-apiserver's
// --service-account-max-token-expiration), so a refresh at 80 % and an expiry are observed for real.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TestCluster } from "../helpers/cluster.ts";
import { startCluster } from "../helpers/cluster.ts";
import { waitFor } from "../helpers/wait.ts";
import { BUSYBOX_IMAGE } from "../helpers/engine.ts";

const LIFETIME = 20;
let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startCluster({ runtime: "engine", api: { serviceAccountTokens: { maxSeconds: LIFETIME } } });
}, 120_000);
afterAll(async () => {
  await cluster?.close();
});

const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString());
const asToken = (token: string, path = "/api/v1") =>
  cluster.api.request("GET", path, undefined, { authorization: `Bearer ${token}` });
const logs = async (name: string) =>
  (await cluster.api.request("GET", `/api/v1/namespaces/default/pods/${name}/log`)).text();

test("a pod's token files are rewritten before the token expires; the old token then gets 401, and all die with " +
  "the pod", async () => {
  await cluster.api.json("POST", "/api/v1/namespaces/default/pods", {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "reader" },
    spec: {
      terminationGracePeriodSeconds: 0,
      containers: [
        {
          name: "c",
          image: BUSYBOX_IMAGE,
          command: [
            "sh",
            "-c",
            // What the container sees: the AtomicWriter layout, then both token files every half second.
            'echo "LS $(ls -A /tok | tr "\\n" " ")"; while true; do echo "A $(cat ' +
              '/var/run/secrets/kubernetes.io/serviceaccount/token)"; echo "P $(cat /tok/token)"; sleep 0.5; ' +
              "done",
          ],
          volumeMounts: [{ name: "tok", mountPath: "/tok" }],
        },
      ],
      volumes: [
        {
          name: "tok",
          projected: { sources: [{ serviceAccountToken: { path: "token", expirationSeconds: 600 } }] },
        },
      ],
    },
  });
  const tokens = (prefix: string, text: string) => [
    ...new Set(
      text
        .split("\n")
        .filter((l) => l.startsWith(`${prefix} `) && l.length > 100)
        .map((l) => l.slice(2)),
    ),
  ];
  const first = await waitFor("the first tokens in the pod", async () => tokens("P", await logs("reader"))[0], 60_000);
  const text = await logs("reader");
  // The projected volume as upstream's AtomicWriter leaves it: ..data -> ..<time>.<random>, token -> ..data/token.
  expect(text).toMatch(/^LS \.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.\S+ \.\.data token/m);
  const c = claimsOf(first);
  expect(c.exp - c.iat).toBe(LIFETIME);
  expect(c["kubernetes.io"].pod.name).toBe("reader");
  const apiFirst = tokens("A", text)[0]!;
  expect((await asToken(first)).status).toBe(200);

  // Both files change (at 80 % of the 20 s lifetime), while the first token is still valid.
  const both = await waitFor(
    "both token files rewritten",
    async () => {
      const t = await logs("reader");
      const p = tokens("P", t);
      const a = tokens("A", t);
      return p.length >= 2 && a.length >= 2 ? { p: p.at(-1)!, a: a.at(-1)! } : undefined;
    },
    60_000,
    250,
  );
  expect(claimsOf(both.p).iat).toBeLessThan(c.exp);
  expect(claimsOf(both.p).iat - c.iat).toBeGreaterThanOrEqual(LIFETIME * 0.75 - 1);
  expect(both.a).not.toBe(apiFirst);
  // The old token expires and is refused; the one in the file now works.
  await waitFor("the first token to expire", async () => (await asToken(first)).status === 401, 60_000, 250);
  expect((await asToken(first)).status).toBe(401);
  const latest = tokens("P", await logs("reader")).at(-1)!;
  expect((await asToken(latest)).status).toBe(200);

  // Deleting the pod revokes its tokens before they expire.
  const fresh = tokens("P", await logs("reader")).at(-1)!;
  await cluster.api.request("DELETE", "/api/v1/namespaces/default/pods/reader");
  await waitFor(
    "the pod to be gone",
    async () => {
      const r = await cluster.api.request("GET", "/api/v1/namespaces/default/pods/reader");
      return r.status === 404;
    },
    60_000,
    100,
  );
  expect((await asToken(fresh)).status).toBe(401);
  // Refused because the pod is gone, not because it expired meanwhile.
  expect(Date.now() / 1000).toBeLessThan(claimsOf(fresh).exp);
}, 180_000);

test("the kubelet's endpoint serves other callers only as a SubjectAccessReview on nodes/... allows", async () => {
  await cluster.api.json("POST", "/api/v1/namespaces/default/serviceaccounts", {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: "watcher" },
  });
  await cluster.api.json("POST", "/api/v1/namespaces/default/pods", {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "talker" },
    spec: {
      terminationGracePeriodSeconds: 0,
      containers: [{ name: "c", image: BUSYBOX_IMAGE, command: ["sh", "-c", "echo said-hello; sleep 3600"] }],
    },
  });
  await waitFor("talker logs", async () => (await logs("talker")).includes("said-hello"), 60_000, 200);
  const node = (await cluster.api.json("GET", `/api/v1/nodes/${cluster.nodeName}`)).body;
  const base = `http://127.0.0.1:${node.status.daemonEndpoints.kubeletEndpoint.Port}`;
  // Tokens live 20 s here: a fresh one per call.
  const token = async () =>
    (
      await cluster.api.json("POST", "/api/v1/namespaces/default/serviceaccounts/watcher/token", {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: {},
      })
    ).body.status.token as string;
  const call = async (path: string, method = "GET", bearer?: string) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: bearer ? { authorization: `Bearer ${bearer}` } : {},
    });
    return { status: res.status, text: await res.text() };
  };
  const user = "system:serviceaccount:default:watcher";
  expect(await call("/stats/summary")).toEqual({ status: 401, text: "Unauthorized" });
  expect((await call("/stats/summary", "GET", "not-a-token")).status).toBe(401);
  expect(await call("/stats/summary", "GET", await token())).toEqual({
    status: 403,
    text: `Forbidden (user=${user}, verb=get, resource=nodes, subresource=stats)`,
  });
  const logPath = "/containerLogs/default/talker/c";
  // exec is a POST: create on nodes/proxy.
  expect(await call("/exec/default/talker/c?command=id", "POST", await token())).toEqual({
    status: 403,
    text: `Forbidden (user=${user}, verb=create, resource=nodes, subresource=proxy)`,
  });

  // Allowed to read through nodes/proxy and nodes/metrics, nothing else.
  await cluster.api.json("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name: "node-reader" },
    rules: [{ apiGroups: [""], resources: ["nodes/proxy", "nodes/metrics"], verbs: ["get"] }],
  });
  await cluster.api.json("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name: "watcher-reads-nodes" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "node-reader" },
    subjects: [{ kind: "ServiceAccount", name: "watcher", namespace: "default" }],
  });
  const allowed = await waitFor(
    "the kubelet to serve the bound account",
    async () => {
      const r = await call(logPath, "GET", await token());
      return r.status === 200 ? r : undefined;
    },
    60_000,
    500,
  );
  expect(allowed.text).toContain("said-hello");
  // Stats were not granted; the API server itself is still served.
  expect((await call("/stats/summary", "GET", await token())).status).toBe(403);
  expect(await logs("talker")).toContain("said-hello");
}, 180_000);
