// The dashboard's watches, many over one WebSocket (/ui/watch). A browser keeps at most six
// HTTP/1.1 connections to one server and every watch holds one, so a page with a few views
// open would starve its own requests. Each watch is still an ordinary API request made with
// the user's bearer token through the app (authenticated and authorized like any other);
// this only carries its lines. Messages: {"id","path"} starts a watch of path (a list path,
// watch=1 is added), {"id"} stops it; the server sends {"id","event":<watch event>}, then
// {"id","end":true} or {"id","code","status":<Status>} when the request fails.
import type { Server, ServerWebSocket } from "bun";
import { webSocketBearer } from "./auth/websocket-bearer.ts";
import { HttpError, statusResponse } from "./errors.ts";

export const WATCH_MUX_PATH = "/ui/watch";
export const WATCH_MUX_PROTOCOL = "watch.dashboard.kube";
const MAX_WATCHES = 64;

export interface WatchMuxData {
  kind: "ui-watch";
  token: string;
  fetch: (req: Request) => Promise<Response>;
  watches: Map<string, AbortController>;
}

/** Upgrades /ui/watch for a token the server accepts; undefined for any other request. */
export async function maybeUpgradeWatchMux(
  req: Request,
  server: Server<unknown>,
  fetch: (req: Request) => Promise<Response>,
  authenticate: (token: string) => Promise<boolean>,
): Promise<Response | undefined | "upgraded"> {
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") return undefined;
  if (new URL(req.url).pathname !== WATCH_MUX_PATH) return undefined;
  const token = webSocketBearer(req);
  if (!token || !(await authenticate(token))) return statusResponse(new HttpError(401, "Unauthorized", "Unauthorized"));
  const data: WatchMuxData = { kind: "ui-watch", token, fetch, watches: new Map() };
  return server.upgrade(req, { headers: { "Sec-WebSocket-Protocol": WATCH_MUX_PROTOCOL }, data })
    ? "upgraded"
    : statusResponse(new HttpError(400, "BadRequest", "WebSocket upgrade failed"));
}

const isWatchable = (path: string) => /^\/apis?\/[^?#]*$/.test(path.split("?")[0]!) && !path.includes("..");

function start(ws: ServerWebSocket<WatchMuxData>, id: string, path: string): void {
  const d = ws.data;
  const send = (text: string) => {
    if (d.watches.has(id)) ws.send(text);
  };
  const fail = (code: number, message: string) => {
    ws.send(JSON.stringify({ id, code, status: new HttpError(code, "BadRequest", message).toStatus() }));
  };
  const refused = d.watches.has(id)
    ? `watch ${id} is already open`
    : d.watches.size >= MAX_WATCHES
      ? `at most ${MAX_WATCHES} watches per connection`
      : !isWatchable(path)
        ? `not an API path: ${path.slice(0, 100)}`
        : undefined;
  if (refused) {
    fail(refused.startsWith("at most") ? 429 : 400, refused);
    return;
  }
  const ctrl = new AbortController();
  d.watches.set(id, ctrl);
  const url = new URL(`http://in-process${path}`);
  url.searchParams.set("watch", "1");
  void (async () => {
    try {
      const res = await d.fetch(
        new Request(url, {
          headers: { authorization: `Bearer ${d.token}`, accept: "application/json" },
          signal: ctrl.signal,
        }),
      );
      if (!res.ok || !res.body) {
        const text = await res.text();
        send(`{"id":${JSON.stringify(id)},"code":${res.status},"status":${text.startsWith("{") ? text : "{}"}}`);
        return;
      }
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
          const line = buf.slice(0, i).trim();
          buf = buf.slice(i + 1);
          // Lines are watch events this server wrote: JSON objects, passed through unparsed.
          if (line.startsWith("{")) send(`{"id":${JSON.stringify(id)},"event":${line}}`);
        }
      }
      send(JSON.stringify({ id, end: true }));
    } catch {
      send(JSON.stringify({ id, end: true }));
    } finally {
      if (d.watches.get(id) === ctrl) d.watches.delete(id);
    }
  })();
}

export const watchMuxHandlers = {
  message(ws: ServerWebSocket<WatchMuxData>, message: string | Buffer) {
    const m = JSON.parse(String(message)) as { id?: unknown; path?: unknown };
    if (typeof m.id !== "string" || m.id.length > 64) throw new Error("a watch message needs a string id");
    if (typeof m.path === "string") return start(ws, m.id, m.path);
    ws.data.watches.get(m.id)?.abort();
    ws.data.watches.delete(m.id);
  },
  close(ws: ServerWebSocket<WatchMuxData>) {
    for (const c of ws.data.watches.values()) c.abort();
    ws.data.watches.clear();
  },
};
