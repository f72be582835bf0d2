// The API server's /metrics: authorized as upstream (nonResourceURL /metrics, verb get: cluster-admin
// and the system:monitoring group), Prometheus text with kube-apiserver's names and labels, and
// nothing at all when metrics are off.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestApi, TEST_TOKEN, type TestApi } from "../helpers/api.ts";

let api: TestApi;
let served: { url: string; ca: string; stop(): Promise<void> };

beforeAll(async () => {
  api = await startTestApi();
  served = await api.listen();
});
afterAll(async () => {
  await api.close();
});

const scrape = (token?: string) =>
  fetch(`${served.url}/metrics`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    tls: { ca: served.ca },
  } as RequestInit);

/** The value of one sample (name and exact label set as exposed), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test("no credential is a 401, an unbound service account a 403 with upstream's message", async () => {
  const anonymous = await scrape();
  expect(anonymous.status).toBe(401);
  expect((await anonymous.json()).reason).toBe("Unauthorized");

  await api.json("POST", "/api/v1/namespaces/default/serviceaccounts", {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: "nobody" },
  });
  const tr = await api.json("POST", "/api/v1/namespaces/default/serviceaccounts/nobody/token", {
    apiVersion: "authentication.k8s.io/v1",
    kind: "TokenRequest",
    spec: {},
  });
  expect(tr.status).toBe(201);
  const denied = await scrape(tr.body.status.token);
  expect(denied.status).toBe(403);
  expect(await denied.json()).toMatchObject({
    kind: "Status",
    status: "Failure",
    reason: "Forbidden",
    code: 403,
    message: `forbidden: User "system:serviceaccount:default:nobody" cannot get path "/metrics"`,
  });
});

test("the system:monitoring group and the admin read Prometheus text with upstream's series", async () => {
  const monitor = api.tokenFor({ name: "prometheus", groups: ["system:monitoring"] });
  const before = await scrape(monitor);
  expect(before.status).toBe(200);
  expect(before.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
  const created =
    'verb="POST",dry_run="",group="",version="v1",resource="configmaps",subresource="",scope="resource",component="apiserver",code="201"';
  const total = `apiserver_request_total{${created}}`;
  const n0 = sample(await before.text(), total) ?? 0;

  for (const name of ["a", "b", "c"])
    expect(
      (
        await api.json("POST", "/api/v1/namespaces/default/configmaps", {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name },
        })
      ).status,
    ).toBe(201);
  expect((await api.request("GET", "/api/v1/namespaces/default/configmaps/missing")).status).toBe(404);
  for (const name of ["a", "a"])
    expect((await api.request("GET", `/api/v1/namespaces/default/configmaps/${name}`)).status).toBe(200);

  const text = await (await scrape(TEST_TOKEN)).text();
  expect(sample(text, total)).toBe(n0 + 3);
  expect(
    sample(
      text,
      'apiserver_request_total{verb="GET",dry_run="",group="",version="v1",resource="configmaps",' +
        'subresource="",scope="resource",component="apiserver",code="404"}',
    ),
  ).toBe(1);
  // The anonymous 401 and the forbidden 403 of the first test are counted too.
  expect(
    sample(
      text,
      'apiserver_request_total{verb="GET",dry_run="",group="",version="",resource="",subresource="/metrics",scope="",component="apiserver",code="401"}',
    ),
  ).toBeGreaterThanOrEqual(1);
  expect(
    sample(
      text,
      'apiserver_request_duration_seconds_bucket{verb="POST",dry_run="",group="",version="v1",resource="configmaps",' +
        'subresource="",scope="resource",component="apiserver",le="60"}',
    ),
  ).toBeGreaterThanOrEqual(3);
  expect(
    sample(
      text,
      'apiserver_request_total{verb="GET",dry_run="",group="",version="v1",resource="configmaps",' +
        'subresource="",scope="resource",component="apiserver",code="200"}',
    ),
  ).toBe(2);
  expect(sample(text, 'etcd_request_duration_seconds_count{operation="get",type="configmaps"}')).toBeGreaterThanOrEqual(
    3,
  );
  expect(sample(text, 'apiserver_storage_objects{resource="configmaps"}')).toBeGreaterThanOrEqual(3);
  expect(
    sample(text, 'etcd_request_duration_seconds_count{operation="create",type="configmaps"}'),
  ).toBeGreaterThanOrEqual(3);
  expect(sample(text, 'apiserver_current_inflight_requests{request_kind="readOnly"}')).toBeGreaterThanOrEqual(1);
  expect(text).toContain("process_cpu_seconds_total ");
  expect(text).toContain("process_resident_memory_bytes ");
});

test("a watch is a long-running request and a registered watcher while it is open", async () => {
  const watchers = 'apiserver_registered_watchers{group="",version="v1",kind="ConfigMap"}';
  const res = await api.request("GET", "/api/v1/namespaces/default/configmaps?watch=true");
  expect(res.status).toBe(200);
  const open = await (await scrape(TEST_TOKEN)).text();
  expect(sample(open, watchers)).toBe(1);
  expect(
    sample(
      open,
      'apiserver_longrunning_requests{verb="WATCH",group="",version="v1",resource="configmaps",subresource="",scope="namespace",component="apiserver"}',
    ),
  ).toBe(1);
  await res.body!.cancel();
  expect(sample(await (await scrape(TEST_TOKEN)).text(), watchers)).toBe(0);
});

test("with metrics off there is no /metrics", async () => {
  await using off = await startTestApi({ metrics: false });
  const res = await off.request("GET", "/metrics");
  expect(res.status).toBe(404);
});
