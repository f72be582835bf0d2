// The API bench's reference: a bare hono handler answering fixed bytes over TLS, in a process of
// its own as the API server is. argv: cert file, key file, body file. Prints "port N".
import { Hono } from "hono";
import { readFileSync } from "node:fs";

const [cert, key, bodyFile] = process.argv.slice(2) as [string, string, string];
const body = readFileSync(bodyFile, "utf8");
const app = new Hono();
app.get("/pod", (c) => c.body(body, 200, { "content-type": "application/json" }));
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: app.fetch,
  tls: { cert: readFileSync(cert, "utf8"), key: readFileSync(key, "utf8") },
});
console.log(`port ${server.port}`);
process.on("SIGTERM", () => {
  server.stop(true);
  process.exit(0);
});
