// A DNS server in its own process for `bench dns`: "kube" is the cluster DNS server (the zone of
// 1000 services, the default flood bound), "ref" a minimal UDP responder on the same library that
// answers every query with one fixed A record. Prints "ready <port>".
import dnsPacket from "dns-packet";
import type { Service } from "../../src/api/kinds/service.ts";
import { ClusterZone } from "../../src/components/dns/records.ts";
import { startDnsServer } from "../../src/components/dns/server.ts";

export const SERVICES = 1000;
export const serviceName = (i: number) => `svc-${i}.ns-${i % 10}.svc.cluster.local`;

if (import.meta.main) {
  if (process.argv[2] === "ref") {
    const s = await Bun.udpSocket({
      hostname: "127.0.0.1",
      socket: {
        data(sock, buf, port, addr) {
          let q: ReturnType<typeof dnsPacket.decode>;
          try {
            q = dnsPacket.decode(buf);
          } catch {
            return;
          }
          sock.send(
            dnsPacket.encode({
              type: "response",
              id: q.id,
              flags: dnsPacket.AUTHORITATIVE_ANSWER,
              questions: q.questions,
              answers: [{ type: "A", name: q.questions![0]!.name, ttl: 5, data: "10.43.0.20" }],
            }),
            port,
            addr,
          );
        },
      },
    });
    console.log(`ready ${s.port}`);
  } else {
    const services: Service[] = Array.from({ length: SERVICES }, (_, i) => ({
      metadata: { name: `svc-${i}`, namespace: `ns-${i % 10}` },
      spec: { clusterIP: `10.43.${(i >> 8) & 255}.${i & 255}`, ports: [{ name: "http", port: 80 }] },
    }));
    const zone = new ClusterZone("cluster.local");
    zone.rebuild(services, () => undefined);
    const s = await startDnsServer({ host: "127.0.0.1", port: 0, zone: () => zone });
    console.log(`ready ${s.port}`);
  }
  setInterval(() => {}, 1 << 30);
}
