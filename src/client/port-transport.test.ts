// Requests over a MessagePort: both sides run here, on one MessageChannel; the handler stands in for
// the API server (the scheduler's thread is tested against the real one in test/scheduler).
import { afterEach, describe, expect, test } from "bun:test";
import { bodySerializedByClient, createClient } from "./client.ts";
import { portTransport, servePort } from "./port-transport.ts";
import { inProcessTransport } from "./transport.ts";
import { waitFor } from "../../test/helpers/wait.ts";

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

/** A transport over a fresh channel, served by `handler` with the token "tok". */
function over(handler: (req: Request) => Response | Promise<Response>) {
  const { port1, port2 } = new MessageChannel();
  const stop = servePort(port1, inProcessTransport(handler, "tok"));
  cleanup.push(() => {
    stop();
    port1.close();
    port2.close();
  });
  return portTransport(port2);
}

const echo = async (req: Request) =>
  Response.json(
    {
      method: req.method,
      url: req.url,
      auth: req.headers.get("authorization"),
      type: req.headers.get("content-type"),
      body: req.body ? await req.text() : null,
      serialized: bodySerializedByClient(req),
    },
    { status: 201, headers: { "x-answer": "yes" } },
  );

describe("portTransport", () => {
  test("carries the method, path, headers and body; the serving side adds its credentials", async () => {
    const t = over(echo);
    const res = await t.fetch(
      new Request(`${t.baseUrl}/api/v1/namespaces/default/pods?dryRun=All`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"a":1}',
      }),
    );
    expect({ status: res.status, answer: res.headers.get("x-answer"), body: await res.json() }).toEqual({
      status: 201,
      answer: "yes",
      body: {
        method: "POST",
        url: "http://in-process/api/v1/namespaces/default/pods?dryRun=All",
        auth: "Bearer tok",
        type: "application/json",
        body: '{"a":1}',
        serialized: false,
      },
    });
  });

  test("a body the client wrote with JSON.stringify arrives marked as such", async () => {
    const client = createClient(over(echo));
    const answer = await client.resource("pods", "default").create({ metadata: { name: "p" } } as never);
    expect(answer).toMatchObject({ serialized: true, body: '{"metadata":{"name":"p"}}' });
  });

  test("an error status comes back as the server's answer", async () => {
    const client = createClient(
      over(() => Response.json({ kind: "Status", code: 404, reason: "NotFound", message: "gone" }, { status: 404 })),
    );
    const err = await client
      .resource("pods", "default")
      .get("p")
      .catch((e: Error) => e);
    expect(err).toMatchObject({ code: 404, reason: "NotFound", message: "gone" });
  });

  test("a handler that throws fails the request with its message", async () => {
    const t = over(() => {
      throw new TypeError("no route");
    });
    const err = await t.fetch(new Request(`${t.baseUrl}/x`)).catch((e: Error) => e);
    expect(err).toMatchObject({ name: "TypeError", message: "no route" });
  });

  test("a watch streams its events as they come, and closing it cancels the server's body", async () => {
    let push: ((line: string) => void) | undefined;
    let cancelled = false;
    const client = createClient(
      over(
        () =>
          new Response(
            new ReadableStream<Uint8Array>({
              start(c) {
                push = (text) => c.enqueue(new TextEncoder().encode(text));
              },
              cancel() {
                cancelled = true;
              },
            }),
            { headers: { "content-type": "application/json" } },
          ),
      ),
    );
    const w = client.resource("pods", "default").watch();
    const seen: string[] = [];
    const reading = (async () => {
      for await (const ev of w) seen.push(`${ev.type} ${(ev.object as { metadata: { name: string } }).metadata.name}`);
    })();
    await waitFor("the watch reached the server", () => push);
    push!('{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n');
    await waitFor("the first event", () => seen.length === 1);
    // One event split across chunks, and two in one.
    push!('{"type":"MODIFIED","object":{"meta');
    push!('data":{"name":"a"}}}\n{"type":"DELETED","object":{"metadata":{"name":"a"}}}\n');
    await waitFor("all events", () => seen.length === 3);
    expect(seen).toEqual(["ADDED a", "MODIFIED a", "DELETED a"]);
    w.close();
    await reading;
    await waitFor("the server's body cancelled", () => cancelled);
  });

  test("aborting before the answer fails the request and aborts the server's", async () => {
    let serverSignal: AbortSignal | undefined;
    const t = over(
      (req) =>
        new Promise<Response>((resolve) => {
          serverSignal = req.signal;
          req.signal.addEventListener("abort", () => resolve(new Response(new ReadableStream())));
        }),
    );
    const abort = new AbortController();
    const pending = t
      .fetch(new Request(`${t.baseUrl}/api/v1/pods?watch=true`, { signal: abort.signal }))
      .catch((e: Error) => e);
    await waitFor("the request reached the server", () => serverSignal);
    abort.abort();
    expect(await pending).toMatchObject({ name: "AbortError" });
    await waitFor("the server's request aborted", () => serverSignal!.aborted);
  });

  test("a stream that fails on the server fails the reader", async () => {
    const t = over(
      () =>
        new Response(
          new ReadableStream<Uint8Array>({
            pull(c) {
              c.error(new Error("store closed"));
            },
          }),
        ),
    );
    const res = await t.fetch(new Request(`${t.baseUrl}/api/v1/pods?watch=1`));
    expect(await res.text().catch((e: Error) => e.message)).toBe("store closed");
  });
});
