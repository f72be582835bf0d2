// The cluster zone's records (Kubernetes DNS specification 1.1.0, CoreDNS where it is silent),
// the host's hosts-file block, and the wire-level server: malformed packets dropped,
// truncation over UDP, forwarding to a fake upstream on loopback with its cache.
import { describe, expect, test } from "bun:test";
import dnsPacket from "dns-packet";
import dgram from "node:dgram";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../../../test/helpers/wait.ts";
import { Forwarder, parseUpstreams } from "./forward.ts";
import { startHostDns, withBlock } from "./host-dns.ts";
import type { Endpoints } from "../../api/kinds/core.ts";
import type { Service } from "../../api/kinds/service.ts";
import { ClusterZone } from "./records.ts";
import { handleQuery, startDnsServer } from "./server.ts";

const svc = (ns: string, name: string, spec: Service["spec"]): Service => ({ metadata: { namespace: ns, name }, spec });
const services: Service[] = [
  svc("default", "web", {
    clusterIP: "10.43.0.20",
    ports: [{ name: "http", port: 80 }, { port: 81 }, { name: "dns", port: 53, protocol: "UDP" }],
  }),
  svc("default", "kubernetes", { clusterIP: "10.43.0.1", ports: [{ name: "https", port: 443 }] }),
  svc("apps", "db", { clusterIP: "None", ports: [{ name: "pg", port: 5432 }] }),
  svc("apps", "ext", { type: "ExternalName", externalName: "db.example.com." }),
];
const endpoints: Record<string, Endpoints> = {
  "apps/db": {
    subsets: [
      {
        addresses: [{ ip: "10.88.0.5", hostname: "db-0" }, { ip: "10.88.0.6" }],
        notReadyAddresses: [{ ip: "10.88.0.7", hostname: "db-2" }],
        ports: [{ name: "pg", port: 5432 }],
      },
    ],
  },
};
const zone = new ClusterZone("cluster.local");
zone.rebuild(services, (k) => endpoints[k]);
const data = (name: string, type: string) => zone.answer(name, type).answers.map((a) => (a as { data: unknown }).data);

describe("records", () => {
  test("ClusterIP services: A, SRV for named ports only, PTR; AAAA is NODATA", () => {
    expect(data("web.default.svc.cluster.local", "A")).toEqual(["10.43.0.20"]);
    expect(data("WEB.Default.svc.cluster.local.", "A")).toEqual(["10.43.0.20"]);
    expect(data("kubernetes.default.svc.cluster.local", "A")).toEqual(["10.43.0.1"]);
    expect(data("_http._tcp.web.default.svc.cluster.local", "SRV")).toEqual([
      { priority: 0, weight: 100, port: 80, target: "web.default.svc.cluster.local" },
    ]);
    expect(data("_dns._udp.web.default.svc.cluster.local", "SRV")).toEqual([
      { priority: 0, weight: 100, port: 53, target: "web.default.svc.cluster.local" },
    ]);
    expect(
      zone
        .answer("_http._tcp.web.default.svc.cluster.local", "SRV")
        .additionals.map((a) => (a as { data: unknown }).data),
    ).toEqual(["10.43.0.20"]);
    expect(data("20.0.43.10.in-addr.arpa", "PTR")).toEqual(["web.default.svc.cluster.local"]);
    const aaaa = zone.answer("web.default.svc.cluster.local", "AAAA");
    expect([aaaa.rcode, aaaa.answers.length, aaaa.authorities[0]?.type]).toEqual(["NOERROR", 0, "SOA"]);
  });

  test("headless services: ready endpoints only, hostnames, dashed names, SRV per endpoint, PTR for named endpoints", () => {
    expect(data("db.apps.svc.cluster.local", "A")).toEqual(["10.88.0.5", "10.88.0.6"]);
    expect(data("db-0.db.apps.svc.cluster.local", "A")).toEqual(["10.88.0.5"]);
    expect(data("10-88-0-6.db.apps.svc.cluster.local", "A")).toEqual(["10.88.0.6"]);
    expect(zone.answer("db-2.db.apps.svc.cluster.local", "A").rcode).toBe("NXDOMAIN");
    expect(data("_pg._tcp.db.apps.svc.cluster.local", "SRV")).toEqual([
      { priority: 0, weight: 100, port: 5432, target: "db-0.db.apps.svc.cluster.local" },
      { priority: 0, weight: 100, port: 5432, target: "10-88-0-6.db.apps.svc.cluster.local" },
    ]);
    expect(data("5.0.88.10.in-addr.arpa", "PTR")).toEqual(["db-0.db.apps.svc.cluster.local"]);
    // publishNotReadyAddresses lists the others too.
    const z = new ClusterZone();
    z.rebuild([svc("apps", "db", { clusterIP: "None", publishNotReadyAddresses: true })], (k) => endpoints[k]);
    expect(z.answer("db.apps.svc.cluster.local", "A").answers).toHaveLength(3);
  });

  test("ExternalName is a CNAME, for any type asked", () => {
    expect(zone.answer("ext.apps.svc.cluster.local", "A").answers).toEqual([
      { type: "CNAME", name: "ext.apps.svc.cluster.local", ttl: 5, class: "IN", data: "db.example.com" },
    ]);
  });

  test("missing names are NXDOMAIN with the SOA; parents of names are NODATA; TTL is 5; pods insecure; dns-version", () => {
    for (const name of [
      "nope.default.svc.cluster.local",
      "web.other.svc.cluster.local",
      "web.cluster.local",
      "x.cluster.local",
    ]) {
      const a = zone.answer(name, "A");
      expect([name, a.rcode, a.authorities[0]?.type]).toEqual([name, "NXDOMAIN", "SOA"]);
    }
    for (const name of ["default.svc.cluster.local", "svc.cluster.local", "_tcp.web.default.svc.cluster.local"])
      expect([name, zone.answer(name, "A").rcode]).toEqual([name, "NOERROR"]);
    expect(zone.answer("cluster.local", "SOA").answers[0]).toMatchObject({
      type: "SOA",
      ttl: 5,
      data: { mname: "ns.dns.cluster.local", minimum: 5 },
    });
    expect(zone.answer("web.default.svc.cluster.local", "A").answers[0]).toMatchObject({ ttl: 5, class: "IN" });
    expect(data("10-88-0-9.apps.pod.cluster.local", "A")).toEqual(["10.88.0.9"]);
    expect(zone.answer("10-88-0-999.apps.pod.cluster.local", "A").rcode).toBe("NXDOMAIN");
    expect(data("dns-version.cluster.local", "TXT")).toEqual(["1.1.0"]);
    expect([
      zone.owns("web.default.svc.cluster.local"),
      zone.owns("example.com"),
      zone.owns("20.0.43.10.in-addr.arpa"),
      zone.owns("1.1.1.1.in-addr.arpa"),
    ]).toEqual([true, false, true, false]);
  });

  test("another domain, and names follow a rebuild", () => {
    const z = new ClusterZone("corp.example");
    z.rebuild(services, () => undefined);
    expect(z.answer("web.default.svc.corp.example", "A").answers).toHaveLength(1);
    z.rebuild(services.slice(1), () => undefined);
    expect(z.answer("web.default.svc.corp.example", "A").rcode).toBe("NXDOMAIN");
    expect(z.hostEntries()).toContainEqual(["10.43.0.1", "kubernetes.default.svc.corp.example"]);
  });
});

describe("host DNS", () => {
  test("the host's hosts file keeps everything outside our block", () => {
    const base = "127.0.0.1 localhost\n";
    const once = withBlock(base, "kube (d)", ["10.43.0.20\tweb.default.svc.cluster.local"]);
    expect(once).toBe(
      "127.0.0.1 localhost\n# BEGIN kube (d)\n10.43.0.20\tweb.default.svc.cluster.local\n# END kube (d)\n",
    );
    expect(withBlock(once + "10.0.0.1 other\n", "kube (d)", [])).toBe("127.0.0.1 localhost\n10.0.0.1 other\n");
  });
});

/** A fake upstream resolver on loopback: answers `*.example.com` A 192.0.2.x, NXDOMAIN else; counts questions. */
async function fakeUpstream() {
  const socket = dgram.createSocket("udp4");
  let asked = 0;
  socket.on("message", (msg, r) => {
    const q = dnsPacket.decode(msg);
    asked++;
    const name = q.questions![0]!.name;
    const ok = name.endsWith("example.com");
    socket.send(
      dnsPacket.encode({
        type: "response",
        id: q.id,
        flags: ok ? 0 : 3,
        questions: q.questions,
        answers: ok ? [{ type: "A", name, ttl: 60, data: "192.0.2.7" }] : [],
      }),
      r.port,
      r.address,
    );
  });
  await new Promise<void>((r) => socket.bind(0, "127.0.0.1", r));
  return { port: socket.address().port, asked: () => asked, close: () => socket.close() };
}

function ask(port: number, msg: Buffer): Promise<Buffer | undefined> {
  const s = dgram.createSocket("udp4");
  return new Promise((resolve) => {
    const t = setTimeout(() => (s.close(), resolve(undefined)), 1500);
    s.on("message", (m) => (clearTimeout(t), s.close(), resolve(m)));
    s.send(msg, port, "127.0.0.1");
  });
}
const decode = (b: Buffer | undefined) =>
  dnsPacket.decode(b!) as ReturnType<typeof dnsPacket.decode> & { rcode: string; flag_aa: boolean; flag_tc: boolean };
const query = (name: string, type = "A", id = 7) =>
  dnsPacket.encode({ type: "query", id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: type as "A", name }] });

test("--host-dns without systemd-resolved: a managed block of the hosts file, kept in sync, removed at stop", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kube-hosts-"));
  const path = join(dir, "hosts");
  writeFileSync(path, "127.0.0.1 localhost\n");
  const z = new ClusterZone();
  z.rebuild(services, () => undefined);
  let notify = () => {};
  const host = await startHostDns({
    domain: "cluster.local",
    port: 53,
    zone: () => z,
    onChange: (f) => (notify = f),
    hostsFile: path,
    dataDir: "/data",
  });
  try {
    expect(readFileSync(path, "utf8")).toContain("10.43.0.20\tweb.default.svc.cluster.local\n");
    z.rebuild(services.slice(1), () => undefined);
    notify();
    await waitFor("web gone from the hosts file", () => !readFileSync(path, "utf8").includes("web.default"), 5000);
  } finally {
    await host.stop();
  }
  expect(readFileSync(path, "utf8")).toBe("127.0.0.1 localhost\n");
  rmSync(dir, { recursive: true, force: true });
});

describe("server", () => {
  test("forwards other names to the upstream once (cache), drops garbage, truncates big UDP answers, keeps serving", async () => {
    const up = await fakeUpstream();
    const forwarder = new Forwarder(parseUpstreams(`127.0.0.1:${up.port}`));
    const big = new ClusterZone();
    big.rebuild([svc("apps", "many", { clusterIP: "None" })], () => ({
      subsets: [{ addresses: Array.from({ length: 60 }, (_, i) => ({ ip: `10.88.1.${i + 1}` })) }],
    }));
    let current = zone;
    const server = await startDnsServer({ host: "127.0.0.1", port: 0, zone: () => current, forwarder });
    try {
      const r1 = decode((await ask(server.port, query("www.example.com", "A", 11)))!);
      expect([r1.id, r1.rcode, (r1.answers![0] as { data: string }).data, r1.flag_aa]).toEqual([
        11,
        "NOERROR",
        "192.0.2.7",
        false,
      ]);
      const r2 = decode((await ask(server.port, query("www.example.com", "A", 12)))!);
      expect([r2.id, (r2.answers![0] as { data: string }).data, up.asked()]).toEqual([12, "192.0.2.7", 1]);
      expect(decode((await ask(server.port, query("nope.invalid")))!).rcode).toBe("NXDOMAIN");
      // Garbage and responses are dropped (no answer), and the server still answers afterwards.
      for (const junk of [
        Buffer.from("hello"),
        Buffer.alloc(0),
        Buffer.alloc(600, 0xff),
        dnsPacket.encode({ type: "response", id: 1, questions: [{ type: "A", name: "x" }] }),
      ])
        expect(await handleQuery(junk, { zone: () => zone })).toBeUndefined();
      const local = decode((await ask(server.port, query("web.default.svc.cluster.local")))!);
      expect([local.rcode, local.flag_aa, (local.answers![0] as { data: string }).data]).toEqual([
        "NOERROR",
        true,
        "10.43.0.20",
      ]);
      current = big;
      const truncated = decode((await ask(server.port, query("many.apps.svc.cluster.local")))!);
      expect([truncated.flag_tc, truncated.answers?.length]).toEqual([true, 0]);
      // Over TCP the whole answer comes back.
      const full = await new Promise<Buffer>((resolve, reject) => {
        const c = net.connect(server.port, "127.0.0.1", () =>
          c.write(dnsPacket.streamEncode(dnsPacket.decode(query("many.apps.svc.cluster.local")))),
        );
        let buf = Buffer.alloc(0);
        c.on("data", (d: Buffer) => {
          buf = Buffer.concat([buf, d]);
          if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) c.end(), resolve(buf);
        });
        c.on("error", reject);
      });
      expect(dnsPacket.streamDecode(full).answers).toHaveLength(60);
    } finally {
      await server.close();
      forwarder.close();
      up.close();
    }
  });

  test("repeated questions are answered from encoded answers, with their own ID, until the zone changes", async () => {
    const z = new ClusterZone("cluster.local");
    z.rebuild(services, () => undefined);
    const server = await startDnsServer({ host: "127.0.0.1", port: 0, zone: () => z });
    const ip = async (id: number, name = "web.default.svc.cluster.local") => {
      const r = decode(await ask(server.port, query(name, "A", id)));
      return [r.id, (r.answers?.[0] as { data?: string } | undefined)?.data ?? r.rcode];
    };
    try {
      expect(await ip(1)).toEqual([1, "10.43.0.20"]);
      expect(await ip(2)).toEqual([2, "10.43.0.20"]);
      // The question's own case comes back (resolvers check it), not the first asker's.
      const mixed = decode(await ask(server.port, query("WEB.default.svc.cluster.local", "A", 3)));
      expect([mixed.id, mixed.questions?.[0]?.name]).toEqual([3, "WEB.default.svc.cluster.local"]);
      z.rebuild(
        [svc("default", "web", { clusterIP: "10.43.0.99", ports: [{ port: 80 }] }), ...services.slice(1)],
        () => undefined,
      );
      expect(await ip(4)).toEqual([4, "10.43.0.99"]);
      z.rebuild(services.slice(1), () => undefined);
      expect(await ip(5)).toEqual([5, "NXDOMAIN"]);
    } finally {
      await server.close();
    }
  });

  test("a truncated upstream answer is asked again over TCP; TCP clients get all of it", async () => {
    // A fake upstream on loopback: over UDP only the TC bit, over TCP (same port) 40 records.
    const records = Array.from({ length: 40 }, (_, i) => ({
      type: "A" as const,
      name: "big.example.com",
      ttl: 60,
      data: `192.0.2.${i + 1}`,
    }));
    let udpAsked = 0;
    let tcpAsked = 0;
    const { udp, tcp, port } = await onOnePort(
      (udp) => (msg, r) => {
        udpAsked++;
        const q = dnsPacket.decode(msg);
        const tc = dnsPacket.encode({
          type: "response",
          id: q.id,
          flags: dnsPacket.TRUNCATED_RESPONSE,
          questions: q.questions,
        });
        udp.send(tc, r.port, r.address);
      },
      (c) => {
        let buf = Buffer.alloc(0);
        c.on("data", (d: Buffer) => {
          buf = Buffer.concat([buf, d]);
          if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
          tcpAsked++;
          const q = dnsPacket.streamDecode(buf);
          c.end(dnsPacket.streamEncode({ type: "response", id: q.id, questions: q.questions, answers: records }));
        });
      },
    );
    const forwarder = new Forwarder(parseUpstreams(`127.0.0.1:${port}`));
    const server = await startDnsServer({ host: "127.0.0.1", port: 0, zone: () => zone, forwarder });
    try {
      // Over UDP our client gets the TC bit too (the answer is over 512 bytes), and retries over TCP, as libc does.
      const viaUdp = decode((await ask(server.port, query("big.example.com", "A", 21)))!);
      expect(viaUdp.flag_tc).toBe(true);
      const full = await new Promise<Buffer>((resolve, reject) => {
        const c = net.connect(server.port, "127.0.0.1", () =>
          c.write(dnsPacket.streamEncode(dnsPacket.decode(query("big.example.com", "A", 22)))),
        );
        let buf = Buffer.alloc(0);
        c.on("data", (d: Buffer) => {
          buf = Buffer.concat([buf, d]);
          if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
            c.end();
            resolve(buf);
          }
        });
        c.on("error", reject);
      });
      const answer = dnsPacket.streamDecode(full);
      expect([answer.id, answer.answers?.length, (answer.flags ?? 0) & dnsPacket.TRUNCATED_RESPONSE]).toEqual([
        22, 40, 0,
      ]);
      // One UDP question, one TCP retry; the second client was answered from the cache.
      expect([udpAsked, tcpAsked]).toEqual([1, 1]);
    } finally {
      await server.close();
      forwarder.close();
      udp.close();
      tcp.close();
    }
  });

  test("a flood over the rate is dropped before decoding", async () => {
    const server = await startDnsServer({ host: "127.0.0.1", port: 0, zone: () => zone, maxQps: 1000 });
    const s = dgram.createSocket("udp4");
    const msg = query("web.default.svc.cluster.local");
    try {
      // Bursts of 200 (loopback only) until the bucket has turned a few hundred away.
      await waitFor(
        "queries dropped",
        () => {
          for (let i = 0; i < 200; i++) s.send(msg, server.port, "127.0.0.1");
          return server.dropped() > 300;
        },
        10_000,
      );
      // The flood over, the server answers again once the bucket refills.
      await waitFor(
        "an answer after the flood",
        async () => (await ask(server.port, query("web.default.svc.cluster.local")))?.length,
        10_000,
      );
    } finally {
      s.close();
      await server.close();
    }
  });
});

/** A UDP and a TCP server on one free loopback port: a free UDP port may be TCP's already, so another is tried. */
async function onOnePort(
  onMessage: (udp: dgram.Socket) => (msg: Buffer, r: dgram.RemoteInfo) => void,
  onConnection: (c: net.Socket) => void,
): Promise<{ udp: dgram.Socket; tcp: net.Server; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const udp = dgram.createSocket("udp4");
    udp.on("message", onMessage(udp));
    await new Promise<void>((r) => udp.bind(0, "127.0.0.1", r));
    const port = udp.address().port;
    const tcp = net.createServer(onConnection);
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once("error", reject);
        tcp.listen(port, "127.0.0.1", () => resolve());
      });
      return { udp, tcp, port };
    } catch (e) {
      udp.close();
      if ((e as NodeJS.ErrnoException).code !== "EADDRINUSE" || attempt >= 20) throw e;
    }
  }
}
