// The transports carry the bearer token. The handlers here echo what they receive; they do not
// stand in for the API server (the client is tested against the real one in client.test.ts).
import { afterAll, describe, expect, test } from "bun:test";
import { httpTransport, inProcessTransport } from "./transport.ts";

const echo = (req: Request) => Response.json({ url: req.url, auth: req.headers.get("authorization") });
const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: echo });
afterAll(() => server.stop(true));

describe("inProcessTransport", () => {
  test("calls the handler directly with the bearer token", async () => {
    const t = inProcessTransport(echo, "tok");
    expect(t.baseUrl).toBe("http://in-process");
    const res = await t.fetch(new Request(`${t.baseUrl}/api/v1/pods`));
    expect(await res.json()).toEqual({ url: "http://in-process/api/v1/pods", auth: "Bearer tok" });
  });

  test("without a token sends no Authorization header", async () => {
    const t = inProcessTransport(echo);
    expect(await (await t.fetch(new Request(`${t.baseUrl}/x`))).json()).toEqual({
      url: "http://in-process/x",
      auth: null,
    });
  });
});

describe("httpTransport", () => {
  test("sends the bearer token over a real socket, and trims the server's trailing slash", async () => {
    const t = httpTransport(`http://127.0.0.1:${server.port}/`, "s3cret");
    expect(t.baseUrl).toBe(`http://127.0.0.1:${server.port}`);
    const res = await t.fetch(new Request(`${t.baseUrl}/version`));
    expect(await res.json()).toEqual({ url: `http://127.0.0.1:${server.port}/version`, auth: "Bearer s3cret" });
  });
});
