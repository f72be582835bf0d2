// Services by name, with real pods (Podman, busybox's nslookup and wget) and one cluster: every
// service has its own reachable IP (two on port 80 answer as themselves, from a pod and from the
// host), the cluster DNS answers the specification's records through the kube-dns service IP,
// forwards other names to a fake upstream the test starts on loopback, follows changes within
// seconds, and the kubelet writes resolv.conf and /etc/hosts per dnsPolicy. LoadBalancer services
// get a loopback address where their port answers.
import { afterAll, beforeAll, expect, test } from "bun:test";
import dnsPacket from "dns-packet";
import dgram from "node:dgram";
import net from "node:net";
import { ensureKubernetesService } from "../../src/components/apiserver/kubernetes-service.ts";
import { kubernetesServiceIp } from "../../src/components/apiserver/service-alloc.ts";
import { TEST_TOKEN } from "../helpers/api.ts";
import { BUSYBOX_IMAGE } from "../helpers/engine.ts";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";
import { waitFor } from "../helpers/wait.ts";

let cluster: TestCluster;
let upstream: dgram.Socket;
let upstreamAsked = 0;
let dnsIp = "";
let listening: { url: string; stop(): Promise<void> } | undefined;

/** The fake upstream resolver: outside.example.com is 192.0.2.99 (never contacted), the rest NXDOMAIN. */
async function startUpstream(): Promise<number> {
  upstream = dgram.createSocket("udp4");
  upstream.on("message", (msg, r) => {
    const q = dnsPacket.decode(msg);
    upstreamAsked++;
    const name = q.questions![0]!.name;
    const known = name === "outside.example.com" && q.questions![0]!.type === "A";
    upstream.send(
      dnsPacket.encode({
        type: "response",
        id: q.id,
        flags: dnsPacket.RECURSION_AVAILABLE | (name === "outside.example.com" ? 0 : 3),
        questions: q.questions,
        answers: known ? [{ type: "A", name, ttl: 30, data: "192.0.2.99" }] : [],
      }),
      r.port,
      r.address,
    );
  });
  await new Promise<void>((r) => upstream.bind(0, "127.0.0.1", r));
  return upstream.address().port;
}

type Reply = ReturnType<typeof dnsPacket.decode> & { rcode: string };
/** One query to the cluster DNS at its service IP (the proxy's DNAT), over UDP or TCP. */
function ask(name: string, type = "A", tcp = false): Promise<Reply> {
  const msg: Buffer = dnsPacket.encode({
    type: "query",
    id: Math.floor(Math.random() * 65535),
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: type as "A", name }],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no answer for ${name}`));
    }, 3000);
    let done = () => {};
    if (tcp) {
      const c = net.connect(53, dnsIp, () =>
        c.write(Buffer.concat([Buffer.from([msg.length >> 8, msg.length & 255]), msg])),
      );
      let buf = Buffer.alloc(0);
      done = () => c.destroy();
      c.on("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
      c.on("data", (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          clearTimeout(timer);
          done();
          resolve(dnsPacket.streamDecode(buf) as Reply);
        }
      });
    } else {
      const s = dgram.createSocket("udp4");
      done = () => s.close();
      s.on("message", (m) => {
        clearTimeout(timer);
        done();
        resolve(dnsPacket.decode(m) as Reply);
      });
      s.send(Buffer.from(msg), 53, dnsIp);
    }
  });
}
const dataOf = (r: Reply) => (r.answers ?? []).map((a) => (a as { data: unknown }).data);

const api = (resource: string, ns = "default") => cluster.client.resource(resource, ns);
const web = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  image: BUSYBOX_IMAGE,
  imagePullPolicy: "IfNotPresent",
  command: ["httpd", "-f", "-p", "8080", "-h", "/etc"],
  ports: [{ name: "http", containerPort: 8080 }],
  readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
  ...extra,
});
const rc = (name: string, replicas: number) => ({
  apiVersion: "v1",
  kind: "ReplicationController",
  metadata: { name },
  spec: {
    replicas,
    selector: { app: name },
    template: {
      metadata: { labels: { app: name } },
      spec: { terminationGracePeriodSeconds: 1, containers: [web("web")] },
    },
  },
});
const service = (name: string, spec: Record<string, unknown>, ns = "default") =>
  api("services", ns).create({ apiVersion: "v1", kind: "Service", metadata: { name }, spec });
const readyAddresses = async (name: string) =>
  (
    (
      (await api("endpoints")
        .get(name)
        .catch(() => undefined)) as any
    )?.subsets ?? []
  ).flatMap((s: any) => s.addresses ?? []);

async function runPod(ns: string, name: string, script: string, spec: Record<string, unknown> = {}): Promise<string> {
  await api("pods", ns).create({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name },
    spec: {
      restartPolicy: "Never",
      terminationGracePeriodSeconds: 1,
      containers: [{ name: "c", image: BUSYBOX_IMAGE, imagePullPolicy: "IfNotPresent", command: ["sh", "-c", script] }],
      ...spec,
    },
  });
  const done: any = await waitFor(
    `${name} finished`,
    async () => {
      const p: any = await api("pods", ns).get(name);
      if (p.status?.phase === "Succeeded" || p.status?.phase === "Failed") return p;
      // Said if the deadline passes: how far the script got.
      throw new Error(await (await cluster.api.request("GET", `/api/v1/namespaces/${ns}/pods/${name}/log`)).text());
    },
    90_000,
  );
  const logs = await (await cluster.api.request("GET", `/api/v1/namespaces/${ns}/pods/${name}/log`)).text();
  expect(`${done.status.phase}: ${logs}`).toMatch(/^Succeeded/);
  return logs;
}
/**
 * Shell: `get NAME [PORT]` resolves NAME through the pod's /etc/resolv.conf as a libc resolver
 * would (names with fewer than ndots dots try each search domain first, then as given) with
 * busybox's nslookup, and fetches /hostname from that address, retrying for a few seconds (the
 * proxy applies endpoints a moment after they change). The image only has busybox-static, whose
 * wget cannot resolve names (static glibc, no NSS) and whose nslookup ignores the search list.
 */
const GET = [
  `lookup() { ip=$(nslookup -type=a $1 2>/dev/null | awk '/^Name:/ {n=1} n && /^Address/ {a=$2} END {print ` +
    `a}'); [ -n "$ip" ] && echo $ip; }`,
  `resolve() { for d in $(sed -n 's/^search //p' /etc/resolv.conf); do lookup $1.$d && return 0; done; lookup $1; }`,
  `get() { for i in $(seq 40); do ip=$(resolve $1) && wget -qO- http://$ip:\${2:-80}/hostname && return 0; ` +
    `sleep 0.25; done; return 1; }`,
].join("; ");
const retry = (cmd: string) => `for i in $(seq 40); do ${cmd} && break; sleep 0.25; done`;

beforeAll(async () => {
  const port = await startUpstream();
  cluster = await startCluster({ runtime: "engine", config: { dnsUpstream: `127.0.0.1:${port}` } });
  listening = await cluster.api.listen();
  await ensureKubernetesService({
    fetch: cluster.api.fetch,
    token: TEST_TOKEN,
    clusterIP: kubernetesServiceIp(cluster.serviceCidr),
    address: "127.0.0.1",
    port: Number(new URL(listening.url).port),
  });
  dnsIp = (
    (await waitFor("kube-dns", () =>
      api("services", "kube-system")
        .get("kube-dns")
        .catch(() => undefined),
    )) as any
  ).spec.clusterIP;
  await Promise.all([
    api("replicationcontrollers").create(rc("web", 1)),
    api("replicationcontrollers").create(rc("other", 1)),
  ]);
  await service("web", { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: "http" }] });
  await service("other", { selector: { app: "other" }, ports: [{ name: "http", port: 80, targetPort: "http" }] });
  await service("db", {
    clusterIP: "None",
    selector: { app: "db" },
    ports: [{ name: "pg", port: 5432, targetPort: 8080 }],
  });
  await service("ext", { type: "ExternalName", externalName: "outside.example.com" });
  await api("statefulsets.apps").create({
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: "db" },
    spec: {
      serviceName: "db",
      replicas: 2,
      selector: { matchLabels: { app: "db" } },
      template: {
        metadata: { labels: { app: "db" } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [web("db", { command: ["sh", "-c", "cat /etc/hosts; exec httpd -f -p 8080 -h /etc"] })],
        },
      },
    },
  });
  // In the headless service's selector but never ready: DNS leaves it out.
  await api("pods").create({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "unready", labels: { app: "db" } },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [web("c", { readinessProbe: { exec: { command: ["false"] }, periodSeconds: 1 } })],
    },
  });
  await api("namespaces", "").create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "elsewhere" } });
  await waitFor(
    "web, other and db ready",
    async () => {
      if (
        (await readyAddresses("web")).length === 1 &&
        (await readyAddresses("other")).length === 1 &&
        (await readyAddresses("db")).length === 2
      )
        return true;
      // Said when the deadline passes: where the pods are.
      throw new Error(
        ((await api("pods").list()).items as any[])
          .map((p) => `${p.metadata.name}:${p.status?.phase}:${p.status?.containerStatuses?.[0]?.ready}`)
          .join(" "),
      );
    },
    120_000,
  );
}, 180_000);

afterAll(async () => {
  await listening?.stop();
  await cluster?.close();
  upstream?.close();
}, 150_000);

test("a pod reaches services by every name form, two services on port 80 answer as themselves, outside names are " +
  "forwarded", async () => {
  const lines = [
    GET,
    "cat /etc/resolv.conf",
    "echo WEB1=$(get web)",
    "echo WEB2=$(get web.default)",
    "echo WEB3=$(get web.default.svc.cluster.local)",
    "echo OTHER=$(get other)",
    `echo ENV=$WEB_SERVICE_HOST:$WEB_SERVICE_PORT $OTHER_SERVICE_HOST:$OTHER_SERVICE_PORT`,
    `echo SENV=$(${retry("wget -qO- http://$OTHER_SERVICE_HOST:$OTHER_SERVICE_PORT/hostname")})`,
    "echo STS=$(get db-1.db 8080)",
    `nslookup outside.example.com | grep -c 192.0.2.99 | sed 's/^/OUTSIDE=/'`,
  ];
  const logs = await runPod("default", "client", lines.join("; "));
  const out = Object.fromEntries(
    logs
      .split("\n")
      .filter((l) => /^[A-Z0-9]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1).trim()]),
  );
  const [webSvc, otherSvc]: any[] = await Promise.all([api("services").get("web"), api("services").get("other")]);
  expect(out).toEqual({
    WEB1: expect.stringMatching(/^web-/),
    WEB2: expect.stringMatching(/^web-/),
    WEB3: expect.stringMatching(/^web-/),
    OTHER: expect.stringMatching(/^other-/),
    ENV: `${webSvc.spec.clusterIP}:80 ${otherSvc.spec.clusterIP}:80`,
    SENV: expect.stringMatching(/^other-/),
    STS: "db-1",
    OUTSIDE: "1",
  });
  expect(logs).toContain(
    `search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver ${dnsIp}\noptions ndots:5\n`,
  );
  // From the host, each cluster IP on port 80 is its own service too.
  const fromHost = async (ip: string) =>
    (await fetch(`http://${ip}/hostname`, { headers: { connection: "close" } })).text();
  expect((await fromHost(webSvc.spec.clusterIP)).trim()).toMatch(/^web-/);
  expect((await fromHost(otherSvc.spec.clusterIP)).trim()).toMatch(/^other-/);
}, 120_000);

test("from another namespace only qualified names resolve", async () => {
  const logs = await runPod(
    "elsewhere",
    "client",
    [GET, "resolve web >/dev/null && echo SHORT=yes || echo SHORT=no", "echo QUALIFIED=$(get web.default)"].join("; "),
  );
  expect(logs).toContain("SHORT=no");
  expect(logs).toMatch(/QUALIFIED=web-/);
}, 120_000);

test("the records, over UDP and TCP at the kube-dns service IP: headless, StatefulSet pods, SRV, CNAME, PTR, " +
  "NXDOMAIN at once", async () => {
  const db: any = await api("endpoints").get("db");
  const dbIps = db.subsets[0].addresses.map((a: any) => a.ip).sort();
  expect(dataOf(await ask("db.default.svc.cluster.local")).sort()).toEqual(dbIps);
  const pods: any[] = (await api("pods").list()).items;
  const ipOf = (n: string) => pods.find((p) => p.metadata.name === n)?.status?.podIP;
  expect(dataOf(await ask("db-0.db.default.svc.cluster.local"))).toEqual([ipOf("db-0")]);
  expect(dataOf(await ask("db-1.db.default.svc.cluster.local", "A", true))).toEqual([ipOf("db-1")]);
  expect(
    dataOf(await ask("_pg._tcp.db.default.svc.cluster.local", "SRV"))
      .map((s: any) => `${s.target}:${s.port}`)
      .sort(),
  ).toEqual(["db-0.db.default.svc.cluster.local:8080", "db-1.db.default.svc.cluster.local:8080"]);
  const webSvc: any = await api("services").get("web");
  expect(dataOf(await ask("_http._tcp.web.default.svc.cluster.local", "SRV"))).toEqual([
    { priority: 0, weight: 100, port: 80, target: "web.default.svc.cluster.local" },
  ]);
  expect(dataOf(await ask(`${webSvc.spec.clusterIP.split(".").reverse().join(".")}.in-addr.arpa`, "PTR"))).toEqual([
    "web.default.svc.cluster.local",
  ]);
  const ext = await ask("ext.default.svc.cluster.local");
  expect(ext.answers?.[0]).toMatchObject({ type: "CNAME", data: "outside.example.com", ttl: 5 });
  expect(dataOf(await ask("kubernetes.default.svc.cluster.local"))).toEqual([
    ((await api("services").get("kubernetes")) as any).spec.clusterIP,
  ]);
  const started = performance.now();
  const missing = await ask("nothing.default.svc.cluster.local");
  expect([missing.rcode, performance.now() - started < 2000]).toEqual(["NXDOMAIN", true]);
  // The unready pod's address is nowhere in the headless answer.
  expect(dataOf(await ask("db.default.svc.cluster.local"))).not.toContain(ipOf("unready"));
  // A StatefulSet pod's /etc/hosts names its FQDN.
  const hosts = await (await cluster.api.request("GET", "/api/v1/namespaces/default/pods/db-0/log")).text();
  expect(hosts).toContain(`${ipOf("db-0")}\tdb-0.db.default.svc.cluster.local\tdb-0`);
}, 120_000);

test("a new service resolves and a deleted one stops within seconds; outside names are cached", async () => {
  const svc: any = await service("late", { ports: [{ port: 8080 }] });
  await waitFor(
    "late resolves",
    async () => dataOf(await ask("late.default.svc.cluster.local"))[0] === svc.spec.clusterIP,
    3000,
  );
  await api("services").delete("late");
  await waitFor("late is gone", async () => (await ask("late.default.svc.cluster.local")).rcode === "NXDOMAIN", 3000);
  const before = upstreamAsked;
  expect(dataOf(await ask("outside.example.com"))).toEqual(["192.0.2.99"]);
  expect(dataOf(await ask("outside.example.com", "A", true))).toEqual(["192.0.2.99"]);
  expect(upstreamAsked - before).toBeLessThanOrEqual(1);
}, 120_000);

test("resolv.conf and /etc/hosts for dnsPolicy Default and None with dnsConfig, and hostAliases", async () => {
  const hostConf = await Bun.file("/etc/resolv.conf").text();
  const firstHostNs = hostConf.match(/^nameserver\s+(\S+)/m)?.[1];
  const logs = await runPod("default", "policies", "cat /etc/resolv.conf; echo ---; cat /etc/hosts", {
    dnsPolicy: "None",
    dnsConfig: { nameservers: ["192.0.2.53"], searches: ["corp.example"], options: [{ name: "ndots", value: "2" }] },
    hostname: "box",
    subdomain: "db",
    hostAliases: [{ ip: "127.0.0.2", hostnames: ["foo.local", "bar.local"] }],
  });
  const [resolv, hosts] = logs.split("---\n");
  expect(resolv).toBe("search corp.example\nnameserver 192.0.2.53\noptions ndots:2\n");
  expect(hosts).toMatch(/^# Kubernetes-managed hosts file\.\n127\.0\.0\.1\tlocalhost\n/);
  expect(hosts).toMatch(
    /\n\d+\.\d+\.\d+\.\d+\tbox\.db\.default\.svc\.cluster\.local\tbox\n\n# Entries added by HostAliases\.\n127\.0\.0\.2\tfoo\.local\tbar\.local\n$/,
  );
  const host = await runPod("default", "host-policy", "cat /etc/resolv.conf", { dnsPolicy: "Default" });
  if (firstHostNs) expect(host).toContain(`nameserver ${firstHostNs}`);
  expect(host).not.toContain(dnsIp);
}, 120_000);

test("a LoadBalancer service gets a loopback address where its own port answers, in status.loadBalancer", async () => {
  const svc: any = await service("front", {
    type: "LoadBalancer",
    selector: { app: "web" },
    ports: [{ port: 80, targetPort: "http" }],
  });
  const ingress: any = await waitFor(
    "an ingress address",
    async () => ((await api("services").get("front")) as any).status?.loadBalancer?.ingress?.[0],
    10_000,
  );
  expect(ingress.ip).toMatch(/^127\.0\.0\.\d+$/);
  const body = await waitFor(
    "the LoadBalancer address answers",
    () =>
      fetch(`http://${ingress.ip}:80/hostname`, { headers: { connection: "close" } }).then(
        (r) => r.text(),
        () => undefined,
      ),
    10_000,
  );
  expect(body.trim()).toMatch(/^web-/);
  await api("services").delete("front");
  await waitFor(
    "the address is released",
    () =>
      fetch(`http://${ingress.ip}:80/hostname`).then(
        () => false,
        () => true,
      ),
    10_000,
  );
  void svc;
}, 120_000);
