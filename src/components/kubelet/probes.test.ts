import { describe, expect, test } from "bun:test";
import { ProbeCounter, runProbe, type ProbeTarget } from "./probes.ts";

function target(exitCode = 0): ProbeTarget {
  return { host: "127.0.0.1", namedPorts: {}, exec: async () => exitCode };
}

describe("probe thresholds", () => {
  test("a healthy container turns unhealthy only after failureThreshold failures in a row", () => {
    const c = new ProbeCounter({ failureThreshold: 3 }, true);
    expect([c.record(false), c.record(false), c.record(true), c.record(false), c.record(false)]).toEqual([false, false, false, false, false]);
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
    using server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (r) => new Response("x", { status: new URL(r.url).pathname === "/ok" ? 200 : 503 }) });
    const t = { ...target(), namedPorts: { http: server.port! } };
    expect((await runProbe({ httpGet: { path: "/ok", port: "http" } }, t)).ok).toBe(true);
    expect(await runProbe({ httpGet: { path: "/bad", port: server.port! } }, t)).toEqual({ ok: false, message: "HTTP probe failed with statuscode: 503" });
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
    expect(await runProbe({ exec: { command: ["false"] } }, target(1))).toEqual({ ok: false, message: 'command ["false"] exited with 1' });
  });

  test("an unknown named port is a failure with a message, not a throw", async () => {
    expect(await runProbe({ tcpSocket: { port: "nope" } }, target())).toEqual({ ok: false, message: 'port "nope" is not a named port of the container' });
  });
});
