// CoreDNS's counters as the server answers: a cluster name (decoded once, then from the encoded
// answer cache) and a name no upstream knows, each counted with its zone, type and rcode.
import { expect, test } from "bun:test";
import dnsPacket from "dns-packet";
import { Registry } from "prom-client";
import { DnsMetrics } from "./metrics.ts";
import { ClusterZone } from "./records.ts";
import { startDnsServer } from "./server.ts";
import { waitFor } from "../../../test/helpers/wait.ts";

test("requests and responses are counted by zone, type and rcode, cached answers too", async () => {
  const registry = new Registry();
  const metrics = new DnsMetrics(registry);
  const zone = new ClusterZone("cluster.local");
  zone.rebuild(
    [{ metadata: { name: "web", namespace: "default" }, spec: { clusterIP: "10.43.0.20", ports: [{ port: 80 }] } }],
    () => undefined,
  );
  const server = await startDnsServer({ host: "127.0.0.1", port: 0, zone: () => zone, metrics });
  metrics.server = `dns://127.0.0.1:${server.port}`;
  const answers: Buffer[] = [];
  const socket = await Bun.udpSocket({ socket: { data: (_s, buf) => void answers.push(buf) } });
  const ask = (id: number, name: string, type: "A" | "AAAA") =>
    socket.send(dnsPacket.encode({ type: "query", id, questions: [{ type, name }] }), server.port, "127.0.0.1");
  try {
    ask(1, "web.default.svc.cluster.local", "A");
    await waitFor("the first answer", () => answers.length === 1);
    ask(2, "web.default.svc.cluster.local", "A");
    ask(3, "nothing.default.svc.cluster.local", "AAAA");
    await waitFor("three answers", () => answers.length === 3);
    expect(answers).toHaveLength(3);
    const text = await registry.metrics();
    const server = `server="dns://127.0.0.1:${metrics.server.split(":").pop()}"`;
    expect(text).toContain(
      `coredns_dns_requests_total{${server},zone="cluster.local.",proto="udp",family="1",type="A"} 2`,
    );
    expect(text).toContain(
      `coredns_dns_requests_total{${server},zone="cluster.local.",proto="udp",family="1",type="AAAA"} 1`,
    );
    expect(text).toContain(
      `coredns_dns_responses_total{${server},zone="cluster.local.",rcode="NOERROR",plugin="kubernetes"} 2`,
    );
    expect(text).toContain(
      `coredns_dns_responses_total{${server},zone="cluster.local.",rcode="NXDOMAIN",plugin="kubernetes"} 1`,
    );
    expect(text).toContain(`coredns_dns_request_duration_seconds_count{${server},zone="cluster.local.",type="A"} 2`);
  } finally {
    socket.close();
    await server.close();
  }
});
