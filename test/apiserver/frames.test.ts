// Frame fuzzing of the streaming endpoints (issue 16): the SPDY parser only ever fails with a
// SpdyError, and hostile frames on a real port-forward or exec WebSocket close that connection
// while the API server keeps serving (an empty RST_STREAM once took the whole cluster down).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  FrameReader,
  FrameWriter,
  GOAWAY,
  PING,
  RST_STREAM,
  SpdyError,
  SYN_REPLY,
  SYN_STREAM,
} from "../../src/client/spdy.ts";
import { pod, TEST_TOKEN } from "../helpers/api.ts";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";
import { waitFor } from "../helpers/wait.ts";

const SEED = 16;

/** A control frame with any type, flags and payload (lengths that lie included). */
function control(type: number, payload: Uint8Array, flags = 0, length = payload.length): Uint8Array {
  const out = Buffer.alloc(8 + payload.length);
  out.writeUInt32BE((0x8000 | 3) * 0x10000 + type, 0);
  out[4] = flags;
  out.writeUIntBE(length, 5, 3);
  out.set(payload, 8);
  return out;
}

const frameArb = fc.oneof(
  fc
    .record({
      type: fc.constantFrom(SYN_STREAM, SYN_REPLY, RST_STREAM, 4, PING, GOAWAY, 8, 9, 0xffff),
      payload: fc.uint8Array({ maxLength: 40 }),
    })
    .map(({ type, payload }) => control(type, payload)),
  fc.uint8Array({ maxLength: 64 }),
  fc
    .record({ id: fc.nat(), data: fc.uint8Array({ maxLength: 16 }) })
    .map(({ id, data }) => new FrameWriter().data(id, data)),
  fc
    .record({ headers: fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 4 }) })
    .map(({ headers }) => new FrameWriter().synStream(1, headers)),
);

describe("the SPDY frame parser", () => {
  test("any bytes, split anywhere, parse or fail with a SpdyError only", () => {
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 8 }), fc.nat({ max: 7 }), (frames, split) => {
        const reader = new FrameReader();
        const all = Buffer.concat(frames);
        try {
          for (let i = 0; i < all.length; i += split + 1) reader.push(all.subarray(i, i + split + 1));
        } catch (err) {
          if (!(err instanceof SpdyError)) throw err;
        }
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  test("short control frames, lying lengths and compression bombs are SpdyErrors", () => {
    expect(() => new FrameReader().push(control(RST_STREAM, new Uint8Array(0)))).toThrow(SpdyError);
    expect(() => new FrameReader().push(control(SYN_STREAM, new Uint8Array(3)))).toThrow(SpdyError);
    expect(() => new FrameReader().push(control(PING, new Uint8Array(0), 0, 0xffffff))).toThrow(SpdyError);
    // A header block claiming 2^32-1 headers in 4 bytes.
    const w = new FrameWriter();
    const ok = w.synStream(1, { a: "b" });
    expect(new FrameReader().push(ok)[0]).toMatchObject({ kind: "control", type: SYN_STREAM, headers: { a: "b" } });
  });
});

describe("hostile frames on real WebSockets", () => {
  let cluster: TestCluster;
  let url: string;
  let ca: string;
  // A real kubelet (it proves itself to the API server, so upgrades reach a session) and a real pod
  // listening on the port the frames forward to.
  beforeAll(async () => {
    cluster = await startCluster({ runtime: "engine" });
    const served = await cluster.api.listen();
    url = served.url.replace(/^https/, "wss");
    ca = served.ca;
    const target = pod("target", { nodeName: cluster.nodeName });
    target.spec.containers[0].command = ["httpd", "-f", "-p", "80"];
    target.spec.terminationGracePeriodSeconds = 1;
    expect((await cluster.api.json("POST", "/api/v1/namespaces/default/pods", target)).status).toBe(201);
    await waitFor(
      "the target pod running",
      async () =>
        (await cluster.api.json("GET", "/api/v1/namespaces/default/pods/target")).body.status?.containerStatuses?.[0]
          ?.state?.running,
      60_000,
    );
  }, 90_000);
  afterAll(() => cluster.close(), 60_000);

  /** Sends the frames on a fresh WebSocket and waits for the server to close it (or the deadline). */
  async function send(path: string, protocol: string, frames: Uint8Array[]): Promise<number> {
    const ws = new WebSocket(`${url}${path}`, {
      headers: { authorization: `Bearer ${TEST_TOKEN}`, "sec-websocket-protocol": protocol },
      tls: { ca },
    } as unknown as string[]);
    ws.binaryType = "arraybuffer";
    const closed = new Promise<number>((resolve) => {
      ws.onclose = (ev) => resolve(ev.code);
    });
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("websocket failed"));
    });
    for (const f of frames) ws.send(f);
    const code = await Promise.race([closed, Bun.sleep(300).then(() => -1)]);
    if (code === -1) {
      ws.close();
      await closed;
    }
    return code;
  }

  const healthy = async () =>
    (await fetch(`${url.replace(/^wss/, "https")}/healthz`, { tls: { ca } } as RequestInit)).status;

  test("an empty RST_STREAM on port-forward closes that connection; the server lives on", async () => {
    const code = await send(
      "/api/v1/namespaces/default/pods/target/portforward?ports=80",
      "SPDY/3.1+portforward.k8s.io",
      [control(RST_STREAM, new Uint8Array(0))],
    );
    expect(code).toBe(1002);
    expect(await healthy()).toBe(200);
  });

  test("generated frame sequences on port-forward and exec never stop the process", async () => {
    const samples = fc.sample(fc.array(frameArb, { minLength: 1, maxLength: 5 }), { seed: SEED, numRuns: 12 });
    for (const frames of samples) {
      await send("/api/v1/namespaces/default/pods/target/portforward?ports=80", "SPDY/3.1+portforward.k8s.io", frames);
      await send(
        "/api/v1/namespaces/default/pods/target/exec?command=sh&stdin=true&stdout=true",
        "v5.channel.k8s.io",
        frames,
      );
    }
    expect(await healthy()).toBe(200);
    expect((await cluster.api.json("GET", "/api/v1/namespaces/default/pods/target")).status).toBe(200);
  });
});
