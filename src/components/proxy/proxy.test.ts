// The proxy's data planes on real loopback sockets: balancing, affinity, failover, live endpoint
// changes, closing, bulk transfer, and UDP sessions. The nftables plane runs where we are root
// (always in CI), with real kernel rules.
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import dgram from "node:dgram";
import net from "node:net";
import { createBalancer, type Endpoint } from "./balancer.ts";
import { NftTable } from "./nftables.ts";
import { ProxyTable, type DataPlane } from "./table.ts";

const planes: [string, () => Promise<DataPlane>][] = [["userspace", async () => new ProxyTable()]];
if (process.getuid?.() === 0 || process.env.CI) planes.push(["nftables", () => NftTable.create()]);

const backends: { stop(): void }[] = [];
function backend(name: string): Endpoint {
  const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(name) });
  backends.push({ stop: () => s.stop(true) });
  return { ip: "127.0.0.1", port: s.port! };
}
afterAll(() => backends.forEach((b) => b.stop()));

let nextIp = 60;
const freshAddress = () => `127.0.77.${nextIp++}`;
const spec = (
  key: string,
  address: string,
  port: number,
  endpoints: Endpoint[],
  affinity: "None" | "ClientIP" = "None",
) => ({ key, bindAddresses: [address], port, protocol: "TCP" as const, affinity: { type: affinity }, endpoints });
const get = async (url: string) => (await fetch(url, { headers: { connection: "close" } })).text();

describe("balancing", () => {
  test("round robin spreads connections evenly", () => {
    const b = createBalancer("roundrobin");
    b.setEndpoints([
      { ip: "a", port: 1 },
      { ip: "b", port: 1 },
      { ip: "c", port: 1 },
    ]);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 300; i++) {
      const ip = b.pick("x")[0]!.ip;
      counts[ip] = (counts[ip] ?? 0) + 1;
    }
    expect(Object.values(counts)).toEqual([100, 100, 100]);
  });

  test("ClientIP affinity keeps a client on one endpoint until the timeout", () => {
    let now = 0;
    const b = createBalancer("roundrobin", { timeoutSeconds: 10 }, () => now);
    b.setEndpoints([
      { ip: "a", port: 1 },
      { ip: "b", port: 1 },
    ]);
    const first = b.pick("client-1")[0]!.ip;
    for (let i = 0; i < 10; i++) expect(b.pick("client-1")[0]!.ip).toBe(first);
    expect(b.pick("client-2")[0]!.ip).not.toBe(first);
    now += 11_000;
    b.pick("client-2");
    expect(b.pick("client-1")[0]!.ip).toBeDefined();
  });
});

describe.each(planes)("%s TCP", (plane, newTable) => {
  test("every backend answers through the service address, evenly", async () => {
    const table = await newTable();
    const addr = freshAddress();
    const eps = ["a", "b", "c"].map(backend);
    expect(await table.sync([spec("ns/web:80/TCP", addr, 8080, eps)])).toEqual([]);
    const seen: Record<string, number> = {};
    for (let i = 0; i < 30; i++) {
      const name = await get(`http://${addr}:8080/`);
      seen[name] = (seen[name] ?? 0) + 1;
    }
    expect(seen).toEqual({ a: 10, b: 10, c: 10 });
    await table.closeAll();
  });

  test("random balancing reaches every backend", async () => {
    const table = await newTable();
    const addr = freshAddress();
    await table.sync([{ ...spec("ns/rand:80/TCP", addr, 8080, ["a", "b", "c"].map(backend)), mode: "random" }]);
    const names = new Set<string>();
    for (let i = 0; i < 40; i++) names.add(await get(`http://${addr}:8080/`));
    expect([...names].sort()).toEqual(["a", "b", "c"]);
    await table.closeAll();
  });

  test("a service port without endpoints refuses connections", async () => {
    const table = await newTable();
    const addr = freshAddress();
    await table.sync([spec("ns/empty:80/TCP", addr, 8080, [])]);
    await expect(get(`http://${addr}:8080/`)).rejects.toThrow();
    await table.sync([spec("ns/empty:80/TCP", addr, 8080, [backend("late")])]);
    expect(await get(`http://${addr}:8080/`)).toBe("late");
    await table.closeAll();
  });

  test("ClientIP affinity sends one client to one backend", async () => {
    const table = await newTable();
    const addr = freshAddress();
    await table.sync([spec("ns/sticky:80/TCP", addr, 8080, ["a", "b"].map(backend), "ClientIP")]);
    const names = new Set<string>();
    for (let i = 0; i < 10; i++) names.add(await get(`http://${addr}:8080/`));
    expect(names.size).toBe(1);
    await table.closeAll();
  });

  // The kernel plane cannot retry: like kube-proxy, it relies on readiness to drop such endpoints.
  test.skipIf(plane !== "userspace")("an endpoint that refuses is skipped for the next one", async () => {
    const table = await newTable();
    const addr = freshAddress();
    const dead = (() => {
      const s = net.createServer().listen(0, "127.0.0.1");
      const port = (s.address() as net.AddressInfo)?.port ?? 1;
      s.close();
      return { ip: "127.0.0.1", port };
    })();
    await table.sync([spec("ns/failover:80/TCP", addr, 8080, [dead, backend("alive")])]);
    for (let i = 0; i < 4; i++) expect(await get(`http://${addr}:8080/`)).toBe("alive");
    await table.closeAll();
  });

  test("changing endpoints keeps established connections and sends new ones to the new set; deleting frees the port", async () => {
    const table = await newTable();
    const addr = freshAddress();
    const echo = net.createServer((c) => c.pipe(c)).listen(0, "127.0.0.1");
    await new Promise((r) => echo.once("listening", r));
    const echoEp = { ip: "127.0.0.1", port: (echo.address() as net.AddressInfo).port };
    await table.sync([spec("ns/live:80/TCP", addr, 9000, [echoEp])]);
    const conn = net.connect(9000, addr);
    await new Promise((r) => conn.once("connect", r));
    const reply = (data: string) =>
      new Promise<string>((r) => {
        conn.once("data", (d) => r(d.toString()));
        conn.write(data);
      });
    expect(await reply("one")).toBe("one");
    await table.sync([spec("ns/live:80/TCP", addr, 9000, [backend("new")])]);
    expect(await reply("two")).toBe("two");
    expect(await get(`http://${addr}:9000/`)).toBe("new");
    conn.destroy();
    await table.sync([]);
    await expect(fetch(`http://${addr}:9000/`)).rejects.toThrow();
    await table.closeAll();
    echo.close();
  });

  test("50 MB arrive intact", async () => {
    const table = await newTable();
    const addr = freshAddress();
    let received = 0;
    let hash = 0;
    const sink = net
      .createServer((c) => {
        c.on("data", (d: Buffer) => {
          received += d.length;
          for (let i = 0; i < d.length; i += 4096) hash = (hash * 31 + d[i]!) >>> 0;
        });
        c.on("end", () => c.end(`${received}:${hash}`));
      })
      .listen(0, "127.0.0.1");
    await new Promise((r) => sink.once("listening", r));
    await table.sync([
      spec("ns/bulk:80/TCP", addr, 9001, [{ ip: "127.0.0.1", port: (sink.address() as net.AddressInfo).port }]),
    ]);
    const chunk = Buffer.alloc(1024 * 1024, 7);
    const conn = net.connect(9001, addr);
    const answer = new Promise<string>((r) => {
      let s = "";
      conn.on("data", (d) => (s += d));
      conn.on("end", () => r(s));
    });
    for (let i = 0; i < 50; i++) if (!conn.write(chunk)) await new Promise((r) => conn.once("drain", r));
    conn.end();
    let expectHash = 0;
    for (let i = 0; i < 50 * 1024 * 1024; i += 4096) expectHash = (expectHash * 31 + 7) >>> 0;
    const [n] = (await answer).split(":");
    expect(Number(n)).toBe(50 * 1024 * 1024);
    sink.close();
    await table.closeAll();
  });
});

test.each(planes)("%s UDP: each client gets its own session and its replies", async (_plane, newTable) => {
  const echo = dgram.createSocket("udp4");
  echo.on("message", (m, r) => echo.send(Buffer.from(`echo:${m}`), r.port, r.address));
  await new Promise<void>((r) => echo.bind(0, "127.0.0.1", () => r()));
  const table = await newTable();
  const addr = freshAddress();
  await table.sync([
    {
      key: "ns/dns:53/UDP",
      bindAddresses: [addr],
      port: 5353,
      protocol: "UDP",
      affinity: { type: "None" },
      endpoints: [{ ip: "127.0.0.1", port: echo.address().port }],
    },
  ]);
  const ask = async (text: string) => {
    const c = dgram.createSocket("udp4");
    const reply = new Promise<string>((r) => c.once("message", (m) => r(m.toString())));
    c.send(text, 5353, addr);
    const out = await reply;
    c.close();
    return out;
  };
  expect(await Promise.all([ask("a"), ask("b")])).toEqual(["echo:a", "echo:b"]);
  await table.closeAll();
  echo.close();
});

describe.skipIf(planes.length < 2)("nftables tables", () => {
  const tables = () => spawnSync("nft", ["list", "tables", "ip"], { encoding: "utf8" }).stdout;

  test("a service port without endpoints rejects, even where a host service listens on all addresses", async () => {
    const host = Bun.serve({ hostname: "0.0.0.0", port: 0, fetch: () => new Response("host service") });
    const table = await NftTable.create();
    const addr = freshAddress();
    expect(await get(`http://${addr}:${host.port}/`)).toBe("host service");
    await table.sync([spec("ns/none:80/TCP", addr, host.port!, [])]);
    await expect(get(`http://${addr}:${host.port}/`)).rejects.toThrow();
    await table.closeAll();
    host.stop(true);
  });

  test("closing removes the table; a table left by a killed process is removed by the next start", async () => {
    const table = await NftTable.create();
    expect(tables()).toContain(`table ip ${table.name}\n`);
    await table.closeAll();
    expect(tables()).not.toContain(`table ip ${table.name}\n`);

    const child = Bun.spawn(
      [
        process.execPath,
        "-e",
        `const { NftTable } = await import(${JSON.stringify(import.meta.dir + "/nftables.ts")}); console.log((await NftTable.create()).name); setInterval(() => {}, 1000);`,
      ],
      { stdout: "pipe" },
    );
    const reader = child.stdout.getReader();
    const name = new TextDecoder().decode((await reader.read()).value).trim();
    expect(tables()).toContain(`table ip ${name}\n`);
    child.kill("SIGKILL");
    await child.exited;
    const next = await NftTable.create();
    expect(tables()).not.toContain(`table ip ${name}\n`);
    await next.closeAll();
  });
});
