// RBAC enforced as kube-apiserver does, seen through real kubectl 1.33 with tokens from
// `kubectl create token`: Forbidden (upstream's message) before a binding and allowed after, per
// namespace; admin/edit/view kept up to date by the aggregation controller; escalation refused
// unless `escalate`/`bind` is held; the bootstrap roles page with --chunk-size; the Node
// authorizer limits a kubelet to its own node, its pods and what they use.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, inProcessTransport } from "../../src/client/index.ts";
import { writeKubeconfig } from "../../src/client/kubeconfig.ts";
import { startControllers } from "../../src/components/controllers/index.ts";
import { ClusterRoleAggregationController } from "../../src/components/controllers/clusterroleaggregation/index.ts";
import { pod, startTestApi, TEST_TOKEN, type TestApi } from "../helpers/api.ts";
import { kubectlRunner } from "../helpers/kubectl.ts";
import { waitFor } from "../helpers/wait.ts";

let api: TestApi;
let work: string;
let kubectl: (args: string[], stdin?: string) => Promise<{ code: number; out: string; err: string }>;
let controllers: { stop(): Promise<void> };

beforeAll(async () => {
  api = await startTestApi();
  const served = await api.listen();
  work = mkdtempSync(join(tmpdir(), "kube-rbac-"));
  writeKubeconfig(join(work, "kubeconfig"), { server: served.url, token: TEST_TOKEN, ca: served.ca, name: "kube" });
  const run = kubectlRunner(join(work, "kubeconfig"), work);
  kubectl = (args, stdin) => run("1.33", args, stdin);
  const as = (name: string, groups: string[]) =>
    createClient(inProcessTransport(api.fetch, api.tokenFor({ name, groups })));
  controllers = await startControllers(
    {
      client: as("system:kube-controller-manager", []),
      clientFor: (sa) =>
        as(`system:serviceaccount:kube-system:${sa}`, ["system:serviceaccounts", "system:serviceaccounts:kube-system"]),
      log: () => {},
    },
    [ClusterRoleAggregationController],
  );
  for (const ns of ["team-a", "team-b"]) expect((await kubectl(["create", "namespace", ns])).code).toBe(0);
  expect((await kubectl(["create", "serviceaccount", "alice", "-n", "team-a"])).code).toBe(0);
});
afterAll(async () => {
  await controllers.stop();
  await api.close();
  rmSync(work, { recursive: true, force: true });
});

const tokenOf = async (sa: string, ns: string) => {
  const r = await kubectl(["create", "token", sa, "-n", ns]);
  expect(r.code).toBe(0);
  return r.out.trim();
};

test("a service account is forbidden until bound, then allowed in that namespace only", async () => {
  const alice = await tokenOf("alice", "team-a");
  const denied = await kubectl(["--token", alice, "get", "pods", "-n", "team-a"]);
  expect(denied.code).not.toBe(0);
  expect(denied.err).toContain(
    `Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:team-a:alice" cannot list ` +
      `resource "pods" in API group "" in the namespace "team-a"`,
  );
  const named = await api.json("GET", "/api/v1/namespaces/kube-system/secrets/x", undefined, {
    authorization: `Bearer ${alice}`,
  });
  expect(named.status).toBe(403);
  expect(named.body).toMatchObject({
    kind: "Status",
    status: "Failure",
    reason: "Forbidden",
    code: 403,
    details: { name: "x", kind: "secrets" },
  });
  expect(named.body.message).toBe(
    `secrets "x" is forbidden: User "system:serviceaccount:team-a:alice" cannot get resource "secrets" in ` +
      `API group "" in the namespace "kube-system"`,
  );

  expect(
    (
      await kubectl([
        "create",
        "rolebinding",
        "alice-view",
        "--clusterrole=view",
        "--serviceaccount=team-a:alice",
        "-n",
        "team-a",
      ])
    ).code,
  ).toBe(0);
  // view gets its rules from the aggregation controller.
  await waitFor(
    "alice can list pods in team-a",
    async () => (await kubectl(["--token", alice, "get", "pods", "-n", "team-a"])).code === 0,
  );
  expect((await kubectl(["--token", alice, "get", "pods", "-n", "team-b"])).err).toContain(
    `cannot list resource "pods" in API group "" in the namespace "team-b"`,
  );
  expect((await kubectl(["--token", alice, "get", "secrets", "-n", "team-a"])).err).toContain(
    `cannot list resource "secrets"`,
  );
  expect((await kubectl(["--token", alice, "delete", "namespace", "team-b"])).err).toContain(
    `namespaces "team-b" is forbidden`,
  );

  // A binding to a role that does not exist is said in the reason, as upstream.
  expect(
    (
      await kubectl([
        "create",
        "rolebinding",
        "ghost",
        "--clusterrole=no-such-role",
        "--serviceaccount=team-a:alice",
        "-n",
        "team-b",
      ])
    ).code,
  ).toBe(0);
  expect((await kubectl(["--token", alice, "get", "pods", "-n", "team-b"])).err).toContain(
    `in the namespace "team-b": RBAC: clusterrole.rbac.authorization.k8s.io "no-such-role" not found`,
  );
});

test("aggregated roles follow the roles labelled for them", async () => {
  const crd = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name: "crontab-reader", labels: { "rbac.authorization.k8s.io/aggregate-to-view": "true" } },
    rules: [{ apiGroups: ["stable.example.com"], resources: ["crontabs"], verbs: ["get", "list"] }],
  };
  expect((await kubectl(["apply", "-f", "-"], JSON.stringify(crd))).code).toBe(0);
  const has = (role: string) => async () =>
    JSON.parse((await kubectl(["get", "clusterrole", role, "-o", "json"])).out).rules?.some(
      (r: { resources?: string[] }) => r.resources?.includes("crontabs"),
    );
  // view gathers it, edit gathers view, admin gathers edit.
  for (const role of ["view", "edit", "admin"]) await waitFor(`${role} has crontabs`, has(role));
  expect((await kubectl(["delete", "clusterrole", "crontab-reader"])).code).toBe(0);
  await waitFor("view lost crontabs", async () => !(await has("view")()));
});

test("roles and bindings granting more than their author holds are refused without escalate or bind", async () => {
  expect((await kubectl(["create", "serviceaccount", "bob", "-n", "team-a"])).code).toBe(0);
  expect(
    (
      await kubectl([
        "create",
        "rolebinding",
        "bob-admin",
        "--clusterrole=admin",
        "--serviceaccount=team-a:bob",
        "-n",
        "team-a",
      ])
    ).code,
  ).toBe(0);
  const bob = await tokenOf("bob", "team-a");
  await waitFor(
    "bob is an admin of team-a",
    async () => (await kubectl(["--token", bob, "get", "roles", "-n", "team-a"])).code === 0,
  );

  // Within what admin holds: allowed.
  expect(
    (
      await kubectl([
        "--token",
        bob,
        "create",
        "role",
        "pod-reader",
        "--verb=get,list",
        "--resource=pods",
        "-n",
        "team-a",
      ])
    ).code,
  ).toBe(0);
  // Nodes are not admin's: refused, naming what is missing.
  const more = await kubectl([
    "--token",
    bob,
    "create",
    "role",
    "node-reader",
    "--verb=get",
    "--resource=nodes",
    "-n",
    "team-a",
  ]);
  expect(more.code).not.toBe(0);
  expect(more.err).toContain(
    `roles.rbac.authorization.k8s.io "node-reader" is forbidden: user "system:serviceaccount:team-a:bob" ` +
      `(groups=["system:serviceaccounts" "system:serviceaccounts:team-a" "system:authenticated"]) is ` +
      `attempting to grant RBAC permissions not currently held:`,
  );
  expect(more.err).toContain(`{APIGroups:[""], Resources:["nodes"], Verbs:["get"]}`);
  const bind = await kubectl([
    "--token",
    bob,
    "create",
    "rolebinding",
    "bob-root",
    "--clusterrole=cluster-admin",
    "--serviceaccount=team-a:bob",
    "-n",
    "team-a",
  ]);
  expect(bind.err).toContain(
    `rolebindings.rbac.authorization.k8s.io "bob-root" is forbidden: user "system:serviceaccount:team-a:bob"`,
  );
  // Binding a role whose rules bob holds is fine.
  expect(
    (
      await kubectl([
        "--token",
        bob,
        "create",
        "rolebinding",
        "alice-pods",
        "--role=pod-reader",
        "--serviceaccount=team-a:alice",
        "-n",
        "team-a",
      ])
    ).code,
  ).toBe(0);

  // With escalate on roles and bind on cluster-admin, both go through.
  const grant = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: { name: "escalator", namespace: "team-a" },
    rules: [
      { apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles"], verbs: ["escalate"] },
      {
        apiGroups: ["rbac.authorization.k8s.io"],
        resources: ["clusterroles"],
        verbs: ["bind"],
        resourceNames: ["cluster-admin"],
      },
    ],
  };
  expect((await kubectl(["apply", "-f", "-"], JSON.stringify(grant))).code).toBe(0);
  expect(
    (
      await kubectl([
        "create",
        "rolebinding",
        "bob-escalator",
        "--role=escalator",
        "--serviceaccount=team-a:bob",
        "-n",
        "team-a",
      ])
    ).code,
  ).toBe(0);
  await waitFor(
    "bob may escalate",
    async () =>
      (
        await kubectl([
          "--token",
          bob,
          "create",
          "role",
          "node-reader",
          "--verb=get",
          "--resource=nodes",
          "-n",
          "team-a",
        ])
      ).code === 0,
  );
  expect(
    (
      await kubectl([
        "--token",
        bob,
        "create",
        "rolebinding",
        "bob-root",
        "--clusterrole=cluster-admin",
        "--serviceaccount=team-a:bob",
        "-n",
        "team-a",
      ])
    ).code,
  ).toBe(0);
});

test("the bootstrap roles are there, and page with --chunk-size", async () => {
  const all = (await kubectl(["get", "clusterroles", "-o", "name"])).out.trim().split("\n");
  for (const name of [
    "cluster-admin",
    "admin",
    "edit",
    "view",
    "system:basic-user",
    "system:discovery",
    "system:public-info-viewer",
    "system:kube-scheduler",
    "system:kube-controller-manager",
    "system:node",
    "system:node-proxier",
    "system:kube-dns",
    "system:controller:deployment-controller",
  ])
    expect(all).toContain(`clusterrole.rbac.authorization.k8s.io/${name}`);
  const chunked = (await kubectl(["get", "clusterroles", "-o", "name", "--chunk-size=7"])).out.trim().split("\n");
  expect(chunked).toEqual(all);
  const page = await api.json("GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles?limit=7");
  expect(page.body.items.length).toBe(7);
  expect(page.body.metadata.continue).toBeTruthy();
  const bindings = (await kubectl(["get", "clusterrolebindings", "-o", "name", "--chunk-size=5"])).out;
  expect(bindings).toContain("clusterrolebinding.rbac.authorization.k8s.io/cluster-admin");
  expect(bindings).toContain("clusterrolebinding.rbac.authorization.k8s.io/system:basic-user");
});

test("the Node authorizer limits a kubelet to its node, its pods and what they use", async () => {
  const node = `Bearer ${api.tokenFor({ name: "system:node:n1", groups: ["system:nodes"] })}`;
  const as = (method: string, path: string, body?: unknown) =>
    api.json(method, path, body, {
      authorization: node,
      ...(method === "PATCH" ? { "content-type": "application/merge-patch+json" } : {}),
    });
  for (const name of ["n1", "n2"])
    expect(
      (await api.json("POST", "/api/v1/nodes", { apiVersion: "v1", kind: "Node", metadata: { name } })).status,
    ).toBe(201);
  // No serviceaccounts controller runs here: the account the pod uses is made by hand.
  await api.json("POST", "/api/v1/namespaces/team-a/serviceaccounts", {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: "default" },
  });
  for (const name of ["used", "unused"])
    expect(
      (
        await api.json("POST", "/api/v1/namespaces/team-a/secrets", {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name },
          data: {},
        })
      ).status,
    ).toBe(201);
  const mine = {
    ...pod("mine", { nodeName: "n1" }),
    spec: { ...pod("mine").spec, nodeName: "n1", volumes: [{ name: "s", secret: { secretName: "used" } }] },
  };
  expect((await api.json("POST", "/api/v1/namespaces/team-a/pods", mine)).status).toBe(201);
  expect((await api.json("POST", "/api/v1/namespaces/team-a/pods", pod("theirs", { nodeName: "n2" }))).status).toBe(
    201,
  );

  expect((await as("GET", "/api/v1/namespaces/team-a/secrets/used")).status).toBe(200);
  const other = await as("GET", "/api/v1/namespaces/team-a/secrets/unused");
  expect(other.status).toBe(403);
  expect(other.body.message).toBe(
    `secrets "unused" is forbidden: User "system:node:n1" cannot get resource "secrets" in API group "" in ` +
      `the namespace "team-a": no relationship found between node 'n1' and this object`,
  );
  expect((await as("GET", "/api/v1/namespaces/team-a/secrets")).status).toBe(403);
  expect((await as("PATCH", "/api/v1/nodes/n1/status", { status: { phase: "Running" } })).status).toBe(200);
  expect((await as("PATCH", "/api/v1/nodes/n2", { metadata: { labels: { evil: "yes" } } })).status).toBe(403);
  expect((await as("DELETE", "/api/v1/namespaces/team-a/pods/theirs")).status).toBe(403);
  expect(
    (await as("PATCH", "/api/v1/namespaces/team-a/pods/mine/status", { status: { phase: "Running" } })).status,
  ).toBe(200);
  expect((await as("POST", "/api/v1/namespaces/team-a/pods", pod("extra", { nodeName: "n1" }))).status).toBe(403);
  expect(
    (
      await as("POST", "/api/v1/namespaces/team-a/serviceaccounts/default/token", {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: { boundObjectRef: { kind: "Pod", name: "mine" } },
      })
    ).status,
  ).toBe(201);
  expect(
    (
      await as("POST", "/api/v1/namespaces/team-b/serviceaccounts/default/token", {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: {},
      })
    ).status,
  ).toBe(403);
  expect((await as("GET", "/api/v1/pods?fieldSelector=spec.nodeName%3Dn1")).status).toBe(200);
});

test("kubectl auth can-i and whoami, reviews, and impersonation authorized by the impersonate verb", async () => {
  expect((await kubectl(["create", "serviceaccount", "carol", "-n", "team-b"])).code).toBe(0);
  expect(
    (
      await kubectl([
        "create",
        "rolebinding",
        "carol-view",
        "--clusterrole=view",
        "--serviceaccount=team-b:carol",
        "-n",
        "team-b",
      ])
    ).code,
  ).toBe(0);
  const carol = await tokenOf("carol", "team-b");
  await waitFor(
    "carol may list pods",
    async () =>
      (await kubectl(["--token", carol, "auth", "can-i", "list", "pods", "-n", "team-b"])).out.trim() === "yes",
  );
  const no = await kubectl(["--token", carol, "auth", "can-i", "list", "pods", "-n", "team-a"]);
  expect([no.code, no.out.trim()]).toEqual([1, "no"]);
  expect((await kubectl(["--token", carol, "auth", "can-i", "get", "secrets", "-n", "team-b"])).out.trim()).toBe("no");
  const list = await kubectl(["--token", carol, "auth", "can-i", "--list", "-n", "team-b"]);
  expect(list.code).toBe(0);
  expect(list.out).toMatch(/^pods\s+\[\]\s+\[\]\s+\[get list watch\]$/m);
  expect(list.out).toContain("selfsubjectaccessreviews.authorization.k8s.io");

  const who = await kubectl(["--token", carol, "auth", "whoami", "-o", "json"]);
  expect(JSON.parse(who.out).status.userInfo).toMatchObject({
    username: "system:serviceaccount:team-b:carol",
    groups: ["system:serviceaccounts", "system:serviceaccounts:team-b", "system:authenticated"],
  });
  expect((await kubectl(["auth", "whoami"])).out).toMatch(/Username\s+kubernetes-admin/);

  // The admin may impersonate; carol may not.
  expect((await kubectl(["get", "pods", "-n", "team-b", "--as=system:serviceaccount:team-b:carol"])).code).toBe(0);
  expect((await kubectl(["get", "pods", "-n", "team-a", "--as=system:serviceaccount:team-b:carol"])).err).toContain(
    `User "system:serviceaccount:team-b:carol" cannot list resource "pods"`,
  );
  expect(
    (
      await kubectl(["auth", "can-i", "get", "secrets", "-n", "team-b", "--as=system:serviceaccount:team-b:carol"])
    ).out.trim(),
  ).toBe("no");
  const jane = JSON.parse((await kubectl(["auth", "whoami", "--as=jane", "--as-group=devs", "-o", "json"])).out).status
    .userInfo;
  expect(jane).toMatchObject({ username: "jane", groups: ["devs", "system:authenticated"] });
  const refused = await kubectl(["--token", carol, "get", "pods", "-n", "team-b", "--as=jane"]);
  expect(refused.err).toContain(
    `users "jane" is forbidden: User "system:serviceaccount:team-b:carol" cannot impersonate resource ` +
      `"users" in API group "" at the cluster scope`,
  );

  // TokenReview and SubjectAccessReview, as an authenticating proxy would call them.
  const review = await api.json("POST", "/apis/authentication.k8s.io/v1/tokenreviews", {
    apiVersion: "authentication.k8s.io/v1",
    kind: "TokenReview",
    spec: { token: carol },
  });
  expect(review.body.status).toMatchObject({
    authenticated: true,
    user: { username: "system:serviceaccount:team-b:carol" },
  });
  expect(
    (
      await api.json("POST", "/apis/authentication.k8s.io/v1/tokenreviews", {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenReview",
        spec: { token: "nope" },
      })
    ).body.status.authenticated,
  ).toBeUndefined();
  const sar = (verb: string, ns: string) =>
    api.json("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
      apiVersion: "authorization.k8s.io/v1",
      kind: "SubjectAccessReview",
      spec: {
        user: "system:serviceaccount:team-b:carol",
        groups: ["system:serviceaccounts", "system:authenticated"],
        resourceAttributes: { namespace: ns, verb, resource: "pods" },
      },
    });
  expect((await sar("list", "team-b")).body.status.allowed).toBe(true);
  expect((await sar("delete", "team-b")).body.status.allowed).toBe(false);
  // Carol may not ask about others.
  expect(
    (
      await api.json(
        "POST",
        "/apis/authorization.k8s.io/v1/subjectaccessreviews",
        { spec: { user: "x", resourceAttributes: { verb: "get", resource: "pods" } } },
        { authorization: `Bearer ${carol}` },
      )
    ).status,
  ).toBe(403);
});

test(
  "the API server proxies only to a kubelet that proves itself: a Node pointing at another local service gets " +
    "nothing",
  async () => {
    const seen: (string | null)[] = [];
    const other = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (req) => {
        seen.push(req.headers.get("authorization"));
        return new Response("private data of another service");
      },
    });
    try {
      const node = {
        apiVersion: "v1",
        kind: "Node",
        metadata: { name: "impostor" },
        status: {
          addresses: [{ type: "InternalIP", address: "127.0.0.1" }],
          daemonEndpoints: { kubeletEndpoint: { Port: other.port } },
        },
      };
      expect((await api.json("POST", "/api/v1/nodes", node)).status).toBe(201);
      await api.json("PUT", "/api/v1/nodes/impostor/status", node);
      const res = await api.request("GET", "/api/v1/nodes/impostor/proxy/secret");
      expect(res.status).toBe(503);
      expect(await res.text()).not.toContain("private data");
      // Only the unauthenticated challenge reached it: no credential was ever sent.
      expect(seen.every((h) => h === null)).toBe(true);
      expect((await api.json("GET", "/api/v1/nodes/impostor")).body.metadata.annotations ?? {}).toEqual({});
    } finally {
      other.stop(true);
    }
  },
);
