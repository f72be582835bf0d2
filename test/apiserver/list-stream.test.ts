// An unpaged LIST is streamed a store page at a time (kube-apiserver's streaming collection
// encoding): the bytes must be exactly those of the whole list encoded at once, across pages,
// with filters that leave whole pages empty, and for an empty result.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestApi, type TestApi } from "../helpers/api.ts";

const N = 1201; // more than two store pages of the stream
const CM = "/api/v1/namespaces/many/configmaps";
let api: TestApi;

beforeAll(async () => {
  api = await startTestApi();
  await api.json("POST", "/api/v1/namespaces", { metadata: { name: "many" } });
  for (let i = 0; i < N; i += 200)
    await Promise.all(
      Array.from({ length: Math.min(200, N - i) }, (_, j) => {
        const n = i + j;
        const labels = { parity: n % 2 ? "odd" : "even", ...(n >= 1150 ? { tail: "yes" } : {}) };
        return api.json("POST", CM, {
          metadata: { name: `cm-${String(n).padStart(5, "0")}`, labels },
          data: { n: `${n}` },
        });
      }),
    );
}, 60_000);
afterAll(() => api.close());

/** Every page of a paged list, as the reference for what the unpaged list must hold. */
async function pagedItems(query: string): Promise<unknown[]> {
  const items: unknown[] = [];
  let cont = "";
  do {
    const { body } = await api.json("GET", `${CM}?limit=137${query}${cont ? `&continue=${cont}` : ""}`);
    items.push(...body.items);
    cont = body.metadata.continue ?? "";
  } while (cont);
  return items;
}

describe("streamed lists", () => {
  test("the whole list is the buffered encoding of every object, in key order", async () => {
    const res = await api.request("GET", CM);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    const text = await res.text();
    const body = JSON.parse(text);
    // Byte for byte what JSON.stringify of the same document gives (key order, no spaces).
    expect(text).toBe(JSON.stringify(body));
    expect(Object.keys(body)).toEqual(["kind", "apiVersion", "metadata", "items"]);
    expect(body.kind).toBe("ConfigMapList");
    expect(body.apiVersion).toBe("v1");
    expect(Object.keys(body.metadata)).toEqual(["resourceVersion"]);
    expect(body.items).toHaveLength(N);
    expect(body.items).toEqual(await pagedItems(""));
    expect(body.items[0]).toMatchObject({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm-00000" } });
    const one = await api.json("GET", `${CM}/cm-00777`);
    expect(body.items[777]).toEqual(one.body);
  });

  test("the body arrives in pieces, the first before the whole list is read", async () => {
    const res = await api.request("GET", CM);
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first.startsWith('{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"')).toBe(true);
    const inFirst = first.split('"kind":"ConfigMap"').length - 1;
    expect(inFirst).toBeGreaterThan(0);
    expect(inFirst).toBeLessThan(N);
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
    expect(JSON.parse(first + rest).items).toHaveLength(N);
  });

  test("label selectors filter across pages, including pages with no match", async () => {
    const odd = await api.json("GET", `${CM}?labelSelector=parity%3Dodd`);
    expect(odd.body.items).toHaveLength((N - 1) / 2);
    expect(odd.body.items).toEqual(await pagedItems("&labelSelector=parity%3Dodd"));
    const tail = await api.request("GET", `${CM}?labelSelector=tail%3Dyes`);
    const text = await tail.text();
    expect(text).toBe(JSON.stringify(JSON.parse(text)));
    expect(JSON.parse(text).items.map((c: { data: { n: string } }) => c.data.n)).toEqual(
      Array.from({ length: N - 1150 }, (_, i) => `${1150 + i}`),
    );
  });

  test("a list with no match is an empty items array", async () => {
    const res = await api.request("GET", `${CM}?labelSelector=parity%3Dnone`);
    const text = await res.text();
    expect(text).toMatch(
      /^\{"kind":"ConfigMapList","apiVersion":"v1","metadata":\{"resourceVersion":"\d+"\},"items":\[\]\}$/,
    );
    const empty = await api.request("GET", "/api/v1/namespaces/nothing-here/secrets");
    expect((await empty.json()).items).toEqual([]);
  });

  test("field selectors by name read only the named key", async () => {
    const { body } = await api.json("GET", `${CM}?fieldSelector=metadata.name%3Dcm-01000`);
    expect(body.items.map((c: { metadata: { name: string } }) => c.metadata.name)).toEqual(["cm-01000"]);
  });
});

describe("streamed Tables (kubectl get without --chunk-size)", () => {
  const TABLE = { accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json" };
  type Row = { cells: unknown[]; object?: { kind: string; metadata: { name: string; labels?: object } } };
  /** A Table without its rows' ages (the last cell: read at each request's own time). */
  const ageless = (t: { rows: Row[] }) => ({ ...t, rows: t.rows.map((r) => ({ ...r, cells: r.cells.slice(0, -1) })) });

  test("an unpaged Table arrives in pieces and holds what one buffered page of everything holds", async () => {
    const res = await api.request("GET", CM, undefined, TABLE);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json;charset=utf-8");
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first.startsWith('{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"')).toBe(
      true,
    );
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
    expect(rest.length).toBeGreaterThan(0);
    const text = first + rest;
    expect(text).toBe(JSON.stringify(JSON.parse(text)));
    const streamed = JSON.parse(text);
    expect(Object.keys(streamed)).toEqual(["kind", "apiVersion", "metadata", "columnDefinitions", "rows"]);
    expect(streamed.rows).toHaveLength(N);
    expect(streamed.rows[5].object).toMatchObject({ kind: "PartialObjectMetadata", metadata: { name: "cm-00005" } });
    // The buffered path (a limit larger than the list: one page, no continue) gives the same Table.
    const buffered = await (await api.request("GET", `${CM}?limit=${N + 1}`, undefined, TABLE)).json();
    expect(buffered.metadata).toEqual(streamed.metadata);
    expect(ageless(streamed)).toEqual(ageless(buffered));
  });

  test("selectors and includeObject apply to every page's rows", async () => {
    const q = "labelSelector=tail%3Dyes&includeObject=Object";
    const streamed = await (await api.request("GET", `${CM}?${q}`, undefined, TABLE)).json();
    const buffered = await (await api.request("GET", `${CM}?${q}&limit=${N + 1}`, undefined, TABLE)).json();
    expect(streamed.rows).toHaveLength(N - 1150);
    expect(streamed.rows[0].object).toMatchObject({ kind: "ConfigMap", data: { n: "1150" } });
    expect(ageless(streamed)).toEqual(ageless(buffered));
    const none = await (await api.request("GET", `${CM}?labelSelector=parity%3Dnone`, undefined, TABLE)).json();
    expect(none.rows).toEqual([]);
    expect(none.columnDefinitions.map((c: { name: string }) => c.name)).toEqual(["Name", "Data", "Age"]);
  });
});

describe("a streamed list bigger than the collection interval", () => {
  // 1,100 ConfigMaps of ~45 KB (three store pages, ~50 MB): the stream waits for the client to drain
  // it between pages and collects its young garbage (list-stream.ts's COLLECT_CHARS, 32 Mi
  // characters) while it is written.
  const BIG = "/api/v1/namespaces/big/configmaps";
  const COUNT = 1100;
  const blob = (n: number) => `${n}`.padEnd(45_000, "x");
  const name = (n: number) => `big-${String(n).padStart(4, "0")}`;

  test("is still the buffered encoding of every object", async () => {
    await api.json("POST", "/api/v1/namespaces", { metadata: { name: "big" } });
    for (let i = 0; i < COUNT; i += 100)
      await Promise.all(
        Array.from({ length: 100 }, (_, j) =>
          api.json("POST", BIG, { metadata: { name: name(i + j) }, data: { v: blob(i + j) } }),
        ),
      );
    const res = await api.request("GET", BIG);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.length).toBeGreaterThan(COUNT * 45_000);
    const body = JSON.parse(text);
    expect(text).toBe(JSON.stringify(body));
    expect(
      body.items.map((c: { metadata: { name: string }; data: { v: string } }) => [c.metadata.name, c.data.v]),
    ).toEqual(Array.from({ length: COUNT }, (_, n) => [name(n), blob(n)]));
    const one = await api.json("GET", `${BIG}/${name(777)}`);
    expect(body.items[777]).toEqual(one.body);
  }, 60_000);
});
