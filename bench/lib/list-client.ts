// The client side of bench/list.ts, run as its own process (as the scale bench's client is):
// `bun list-client.ts MODE URL TOKEN CA_FILE` prints one JSON line of what it measured.
// count: fetch and count the body's bytes (no decoding); text: res.text() then JSON.parse, timed
// apart; list: the project's client, client.resource("pods").list(), as bench scale times it.
import { readFileSync } from "node:fs";
import { createClient, httpTransport } from "../../src/client/index.ts";

const [mode, url, token, caFile] = process.argv.slice(2) as [string, string, string, string];
const ca = readFileSync(caFile, "utf8");
const tls = { ca } as never;
const headers = { authorization: `Bearer ${token}` };
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const out: Record<string, number> = {};
if (mode === "count") {
  const res = await fetch(`${url}/api/v1/pods`, { headers, tls } as RequestInit);
  let bytes = 0;
  const reader = res.body!.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) bytes += r.value.byteLength;
  out.bytes = bytes;
} else if (mode === "text") {
  const res = await fetch(`${url}/api/v1/pods`, { headers, tls } as RequestInit);
  const text = await res.text();
  out.text_ms = performance.now() - t0;
  const p0 = performance.now();
  out.items = JSON.parse(text).items.length;
  out.parse_ms = performance.now() - p0;
} else {
  const client = createClient(httpTransport(url, token, { ca }));
  out.items = (await client.resource("pods").list()).items.length;
}
const cpu = process.cpuUsage(cpu0);
out.ms = performance.now() - t0;
out.cpu_ms = (cpu.user + cpu.system) / 1000;
out.rss_mb = process.memoryUsage().rss / 2 ** 20;
console.log(JSON.stringify(out));
process.exit(0);
