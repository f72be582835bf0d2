// The userspace TCP relays on real loopback sockets: the splice(2) relay thread (where libc is
// reachable through bun:ffi) and Bun's sockets (the fallback), with the same cases: FIN forwarded
// each way while the other direction keeps flowing, large transfers checked by hash, many
// connections at once, resets mid-transfer on either side, and no descriptor left behind.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { readdirSync, readlinkSync } from "node:fs";
import net from "node:net";
import { waitFor } from "../../../test/helpers/wait.ts";
import { createBalancer } from "./balancer.ts";
import { spliceConnections } from "./splice.ts";
import { libc } from "./splice-libc.ts";
import { type Listener, listenBun, listenTcp } from "./tcp.ts";

const relays: [string, typeof listenTcp][] = [["bun sockets", listenBun]];
if (libc()) relays.unshift(["splice", listenTcp]);

const target = (fd: string) => {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return undefined; // the directory handle readdir itself used
  }
};
/** This process's open descriptors, as "fd -> what", but for the copies of stdio Bun opens when it first prints. */
const fds = () => {
  const stdio = ["0", "1", "2"].map(target);
  return readdirSync("/proc/self/fd").flatMap((fd) => {
    const t = target(fd);
    return t && (Number(fd) < 3 || !stdio.includes(t)) ? [`${fd} -> ${t}`] : [];
  });
};
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
/** `mb` MiB of random bytes (a random MiB, each copy with its index in front so no two MiB match). */
const payload = (mb: number) => {
  const r = randomBytes(1 << 20);
  return Buffer.concat(Array.from({ length: mb }, (_, i) => Buffer.concat([Buffer.from(`${i}:`), r])));
};

function upstream(onConn: (c: net.Socket) => void): Promise<{ port: number; server: net.Server }> {
  const server = net.createServer({ allowHalfOpen: true }, (c) => {
    c.on("error", () => {});
    onConn(c);
  });
  return new Promise((r) =>
    server.listen(0, "127.0.0.1", () => r({ port: (server.address() as net.AddressInfo).port, server })),
  );
}

/** Everything the socket sends until its FIN. */
const readAll = (s: net.Socket) =>
  new Promise<Buffer>((resolve, reject) => {
    const parts: Buffer[] = [];
    s.on("data", (d: Buffer) => parts.push(d));
    s.on("end", () => resolve(Buffer.concat(parts)));
    s.on("error", reject);
  });

async function write(s: net.Socket, data: Buffer): Promise<void> {
  for (let i = 0; i < data.length; i += 1 << 18)
    if (!s.write(data.subarray(i, i + (1 << 18)))) await new Promise((r) => s.once("drain", r));
}

const connect = (port: number) =>
  new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true }, () => resolve(s));
    s.once("error", reject);
  });

describe.each(relays)("%s relay", (_name, listen) => {
  let baseline: string[] = [];
  const servers: net.Server[] = [];
  const listeners: Listener[] = [];
  /** A relay listening on 127.0.0.1 (a free port) in front of the upstream. */
  const relay = async (port: number) => {
    const b = createBalancer("roundrobin");
    b.setEndpoints([{ ip: "127.0.0.1", port }]);
    const l = await listen("127.0.0.1", 0, b);
    listeners.push(l);
    return l.port;
  };
  const through = async (onConn: (c: net.Socket) => void) => {
    const u = await upstream(onConn);
    servers.push(u.server);
    return relay(u.port);
  };

  beforeAll(() => {
    baseline = fds();
  });
  afterAll(async () => {
    for (const s of servers) s.close();
  });

  test("the client's FIN reaches the upstream, which keeps sending afterwards", async () => {
    const sent = payload(16);
    const tail = payload(8);
    const port = await through((c) => {
      readAll(c).then((got) => {
        c.write(`${sha(got)}\n`);
        write(c, tail).then(() => c.end());
      });
    });
    const s = await connect(port);
    const reply = readAll(s);
    await write(s, sent);
    s.end();
    const got = await reply;
    const nl = got.indexOf(10);
    expect(got.subarray(0, nl).toString()).toBe(sha(sent));
    expect(sha(got.subarray(nl + 1))).toBe(sha(tail));
  });

  test("the upstream's FIN reaches the client, which keeps sending afterwards", async () => {
    const greeting = payload(4);
    const later = payload(8);
    let received: Promise<Buffer> = Promise.resolve(Buffer.alloc(0));
    const port = await through((c) => {
      received = readAll(c);
      write(c, greeting).then(() => c.end());
    });
    const s = await connect(port);
    expect(sha(await readAll(s))).toBe(sha(greeting));
    await write(s, later);
    s.end();
    expect(sha(await received)).toBe(sha(later));
    await new Promise((r) => (s.closed ? r(null) : s.once("close", r)));
  });

  test("64 MiB echoed both ways at once arrive intact", async () => {
    const data = payload(64);
    const port = await through((c) => c.pipe(c));
    const s = await connect(port);
    const echoed = readAll(s);
    await write(s, data);
    s.end();
    const got = await echoed;
    expect(got.length).toBe(data.length);
    expect(sha(got)).toBe(sha(data));
  });

  test("300 connections at once each get their own bytes back", async () => {
    const port = await through((c) => c.pipe(c));
    const chunk = randomBytes(64 * 1024);
    const results = await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        const s = await connect(port);
        const mine = Buffer.concat([Buffer.from(`conn-${i}:`), chunk]);
        const back = readAll(s);
        s.end(mine);
        return (await back).equals(mine);
      }),
    );
    expect(results.filter((ok) => !ok)).toEqual([]);
  });

  test("an upstream reset mid-transfer closes the client, and the relay goes on serving", async () => {
    let first = true;
    const port = await through((c) => {
      if (!first) return void c.pipe(c);
      first = false;
      let n = 0;
      c.on("data", (d: Buffer) => {
        n += d.length;
        if (n > 1 << 20 && !c.destroyed) c.resetAndDestroy();
      });
    });
    const s = await connect(port);
    const closed = new Promise((r) => s.once("close", r));
    s.on("error", () => {});
    s.on("data", () => {});
    const data = payload(8);
    // Keep sending until the relay gives up on this connection.
    (async () => {
      for (let i = 0; i < 64 && !s.destroyed; i++) await write(s, data).catch(() => {});
    })();
    await closed;
    const again = await connect(port);
    const back = readAll(again);
    again.end("still here");
    expect((await back).toString()).toBe("still here");
  });

  test("a client reset mid-transfer closes the upstream", async () => {
    let upstreamClosed!: Promise<unknown>;
    const data = payload(4);
    const port = await through((c) => {
      upstreamClosed = new Promise((r) => c.once("close", r));
      (async () => {
        while (!c.destroyed) await write(c, data).catch(() => {});
      })();
    });
    const s = await connect(port);
    let n = 0;
    await new Promise<void>((r) =>
      s.on("data", (d: Buffer) => {
        n += d.length;
        if (n > 1 << 20 && !s.destroyed) {
          s.resetAndDestroy();
          r();
        }
      }),
    );
    await waitFor("the upstream side to close", () => upstreamClosed);
    await upstreamClosed;
  });

  test("closing the listeners frees every descriptor the relay used", async () => {
    await Promise.all(listeners.map((l) => l.close()));
    for (const s of servers) s.close();
    await waitFor("no relayed connection open", () => spliceConnections() === 0);
    let extra: string[] = [];
    await waitFor("no descriptor left open", () => {
      extra = fds().filter((fd) => !baseline.includes(fd));
      return extra.length === 0;
    }).catch((err) => {
      throw new Error(`${(err as Error).message}: ${extra.join(", ")}`);
    });
  });
});
