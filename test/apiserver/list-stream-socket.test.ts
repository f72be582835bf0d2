// A streamed LIST over a real socket (HTTPS): the server writes each item's text straight to the
// response, so the bytes on the wire, UTF-8 of any text, must be those of the buffered document,
// and a client that goes away mid-list must stop the reading of the store.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestApi, TEST_TOKEN, type TestApi } from "../helpers/api.ts";
import { waitFor } from "../helpers/wait.ts";

const TEXTS = "/api/v1/namespaces/texts/configmaps";
const BIG = "/api/v1/namespaces/big/configmaps";
const BIG_N = 2500; // five store pages of 500
const BIG_DATA = "b".repeat(8 * 1024); // 20 MB in all: more than a socket buffers
let api: TestApi;
let server: { url: string; ca: string; stop(): Promise<void> };

beforeAll(async () => {
  api = await startTestApi();
  for (const ns of ["texts", "big"]) await api.json("POST", "/api/v1/namespaces", { metadata: { name: ns } });
  // ASCII, Latin-1 (one byte per character in the engine, two in UTF-8), beyond Latin-1, beyond the BMP.
  const texts = ["plain", "café crème ÿ", "日本語 – “quotes”", "emoji 🚀 \u{10348}", 'esc "\\ \n\t\u0001'];
  for (const [i, t] of texts.entries())
    await api.json("POST", TEXTS, { metadata: { name: `t-${i}`, annotations: { note: t } }, data: { t } });
  for (let i = 0; i < BIG_N; i += 250)
    await Promise.all(
      Array.from({ length: Math.min(250, BIG_N - i) }, (_, j) =>
        api.json("POST", BIG, { metadata: { name: `big-${String(i + j).padStart(5, "0")}` }, data: { d: BIG_DATA } }),
      ),
    );
  server = await api.listen();
}, 60_000);
afterAll(() => api.close());

const get = (path: string, init: { headers?: Record<string, string>; signal?: AbortSignal } = {}) =>
  fetch(`${server.url}${path}`, {
    headers: { authorization: `Bearer ${TEST_TOKEN}`, ...init.headers },
    signal: init.signal,
    tls: { ca: server.ca },
  });

test("over a socket the list's bytes are the UTF-8 of the buffered document, whatever the text", async () => {
  const res = await get(TEXTS);
  expect(res.status).toBe(200);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const body = JSON.parse(new TextDecoder().decode(bytes));
  expect(bytes).toEqual(new TextEncoder().encode(JSON.stringify(body)));
  expect(body.items.map((c: { data: { t: string } }) => c.data.t)).toEqual([
    "plain",
    "café crème ÿ",
    "日本語 – “quotes”",
    "emoji 🚀 \u{10348}",
    'esc "\\ \n\t\u0001',
  ]);
  // The same bytes as in-process, and as one buffered page of everything.
  expect(bytes).toEqual(new Uint8Array(await (await api.request("GET", TEXTS)).arrayBuffer()));
  const paged = (await api.json("GET", `${TEXTS}?limit=100`)).body;
  expect(body.items).toEqual(paged.items);
});

test("over a socket a Table of non-ASCII objects is the UTF-8 of the buffered Table", async () => {
  const accept = { accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json" };
  const res = await get(`${TEXTS}?includeObject=Object`, { headers: accept });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const table = JSON.parse(new TextDecoder().decode(bytes));
  expect(bytes).toEqual(new TextEncoder().encode(JSON.stringify(table)));
  expect(table.rows.map((r: { object: { data: { t: string } } }) => r.object.data.t)[2]).toBe("日本語 – “quotes”");
});

test("a client that goes away mid-list stops the reading of the store; the next list is whole", async () => {
  const list = api.store.list.bind(api.store);
  let pages = 0;
  api.store.list = (prefix, opts) => {
    if (prefix.startsWith("/registry/configmaps/big/")) pages++;
    return list(prefix, opts);
  };
  try {
    const abort = new AbortController();
    const res = await get(BIG, { signal: abort.signal });
    const reader = res.body!.getReader();
    expect((await reader.read()).done).toBe(false);
    // While it is written, kube up's forced collection waits (src/cli/gc.ts).
    expect(api.streamingLists()).toBe(1);
    abort.abort();
    await reader.cancel().catch(() => {});
    // Whole pages are read until the server sees the client gone: the count stops moving short of the end.
    let seen = -1;
    await waitFor(
      "the store reads to stop",
      () => {
        const still = seen === pages;
        seen = pages;
        return still;
      },
      10_000,
      200,
    );
    expect(pages).toBeLessThan(BIG_N / 500);
    expect(api.streamingLists()).toBe(0);

    pages = 0;
    const whole = await (await get(BIG)).json();
    expect(whole.items).toHaveLength(BIG_N);
    expect(whole.items[BIG_N - 1].metadata.name).toBe(`big-${String(BIG_N - 1).padStart(5, "0")}`);
    expect(pages).toBe(BIG_N / 500);
    expect(api.streamingLists()).toBe(0);
  } finally {
    api.store.list = list;
  }
});
