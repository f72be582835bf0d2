import { describe, expect, test } from "bun:test";
import { ProbeCounter, runProbe, type ProbeTarget } from "./probes.ts";

function target(exitCode = 0): ProbeTarget {
  return { host: "127.0.0.1", namedPorts: {}, exec: async () => exitCode };
}

describe("probe thresholds", () => {
  test("a healthy container turns unhealthy only after failureThreshold failures in a row", () => {
    const c = new ProbeCounter({ failureThreshold: 3 }, true);
    expect([c.record(false), c.record(false), c.record(true), c.record(false), c.record(false)]).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(c.record(false)).toBe(true);
    expect(c.healthy).toBe(false);
  });

  test("an unhealthy container needs successThreshold successes in a row", () => {
    const c = new ProbeCounter({ successThreshold: 2 }, false);
    expect([c.record(true), c.record(false), c.record(true)]).toEqual([false, false, false]);
    expect(c.record(true)).toBe(true);
    expect(c.healthy).toBe(true);
  });
});

describe("running a probe", () => {
  test("httpGet succeeds on 2xx/3xx and fails on 5xx, resolving named ports", async () => {
    using server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (r) => new Response("x", { status: new URL(r.url).pathname === "/ok" ? 200 : 503 }),
    });
    const t = { ...target(), namedPorts: { http: server.port! } };
    expect((await runProbe({ httpGet: { path: "/ok", port: "http" } }, t)).ok).toBe(true);
    expect(await runProbe({ httpGet: { path: "/bad", port: server.port! } }, t)).toEqual({
      ok: false,
      message: "HTTP probe failed with statuscode: 503",
    });
  });

  test("tcpSocket succeeds on a listening port and fails on a closed one", async () => {
    const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = listener.port;
    expect((await runProbe({ tcpSocket: { port } }, target())).ok).toBe(true);
    listener.stop(true);
    expect((await runProbe({ tcpSocket: { port } }, target())).ok).toBe(false);
  });

  test("exec succeeds on exit 0 only", async () => {
    expect((await runProbe({ exec: { command: ["true"] } }, target(0))).ok).toBe(true);
    expect(await runProbe({ exec: { command: ["false"] } }, target(1))).toEqual({
      ok: false,
      message: 'command ["false"] exited with 1',
    });
  });

  test("an unknown named port is a failure with a message, not a throw", async () => {
    expect(await runProbe({ tcpSocket: { port: "nope" } }, target())).toEqual({
      ok: false,
      message: 'port "nope" is not a named port of the container',
    });
  });
});

describe("grpc probe (grpc.health.v1.Health/Check against grpc-js's health service)", () => {
  test("SERVING succeeds; NOT_SERVING, an unknown service, no health service and a closed port fail with upstream's messages", async () => {
    const grpc = await import("@grpc/grpc-js");
    const { HealthImplementation } = await import("grpc-health-check");
    const bind = (server: InstanceType<typeof grpc.Server>) =>
      new Promise<number>((res, rej) =>
        server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
      );
    const server = new grpc.Server();
    new HealthImplementation({ "": "SERVING", "shop.Cart": "SERVING", down: "NOT_SERVING" }).addToServer(server);
    const port = await bind(server);
    const bare = new grpc.Server(); // serves no service at all
    const barePort = await bind(bare);
    try {
      const probe = (p: number, service?: string) =>
        runProbe({ grpc: { port: p, service }, timeoutSeconds: 1 }, target());
      expect(await probe(port)).toEqual({ ok: true, message: "service healthy" });
      expect(await probe(port, "shop.Cart")).toEqual({ ok: true, message: "service healthy" });
      expect(await probe(port, "down")).toEqual({
        ok: false,
        message: 'service unhealthy (responded with "NOT_SERVING")',
      });
      expect(await probe(port, "nope")).toEqual({
        ok: false,
        message:
          "error: health rpc probe failed: rpc error: code = NotFound desc = Health status unknown for service nope",
      });
      expect(await probe(barePort)).toEqual({
        ok: false,
        message:
          "error: this server does not implement the grpc health protocol (grpc.health.v1.Health): The server does not implement the method /grpc.health.v1.Health/Check",
      });
      bare.forceShutdown();
      expect(await probe(barePort)).toEqual({
        ok: false,
        message: `timeout: failed to connect service "127.0.0.1:${barePort}" within 1s: context deadline exceeded`,
      });
    } finally {
      server.forceShutdown();
      bare.forceShutdown();
    }
  });

  test("the messages are encoded as protobuf does", async () => {
    const { decodeResponse, encodeRequest } = await import("./grpc-probe.ts");
    expect([...encodeRequest("")]).toEqual([]);
    expect([...encodeRequest("ab")]).toEqual([0x0a, 2, 0x61, 0x62]);
    expect([...encodeRequest("x".repeat(200)).subarray(0, 3)]).toEqual([0x0a, 0xc8, 0x01]);
    expect(decodeResponse(Buffer.from([0x08, 0x01]))).toBe(1);
    expect(decodeResponse(Buffer.alloc(0))).toBe(0);
    expect(decodeResponse(Buffer.from([0x12, 0x01, 0x00, 0x08, 0x02]))).toBe(2); // an unknown field first
  });
});
