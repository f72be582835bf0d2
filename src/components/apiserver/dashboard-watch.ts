// The dashboard's watches, many over one WebSocket (/ui/watch). A browser keeps at most six
// HTTP/1.1 connections to one server and every watch holds one, so a page with a few views
// open would starve its own requests. Each watch is still an ordinary API request made with
// the user's bearer token through the app (authenticated and authorized like any other);
// this only carries its lines. Messages: {"id","path"} starts a watch of path (a list path,
// watch=1 is added), {"id"} stops it; the server sends {"id","event":<watch event>}, then
// {"id","end":true} or {"id","code","status":<Status>} when the request fails.
// The same socket carries the page's port-forwards (dashboard-forward.ts), which live as long as it:
// {"id","forward":{"namespace","pod","port"}} opens one, answered {"id","forwarding":{"port"}} (the
// local port on 127.0.0.1), or {"id","code","status"}; {"id"} stops it; {"id","end":true,"reason"}
// says it ended (the pod went).
import type { Server, ServerWebSocket } from "bun";
import { webSocketBearer } from "./auth/websocket-bearer.ts";
import type { Forward } from "./dashboard-forward.ts";
import { HttpError, statusResponse } from "./errors.ts";

export const WATCH_MUX_PATH = "/ui/watch";
export const WATCH_MUX_PROTOCOL = "watch.dashboard.kube";
const MAX_WATCHES = 64;
const MAX_FORWARDS = 16;

export interface ForwardTarget {
  namespace: string;
  pod: string;
  port: number;
}
/** Opens a port-forward for the token (see dashboard-forward.ts); rejects with an HttpError. */
export type OpenForward = (token: string, target: ForwardTarget, ended: (why: string) => void) => Promise<Forward>;

export interface WatchMuxData {
  kind: "ui-watch";
  token: string;
  fetch: (req: Request) => Promise<Response>;
  watches: Map<string, AbortController>;
  openForward?: OpenForward;
  forwards: Map<string, Forward | "opening">;
}

/** Upgrades /ui/watch for a token the server accepts; undefined for any other request. */
export async function maybeUpgradeWatchMux(
  req: Request,
  server: Server<unknown>,
  fetch: (req: Request) => Promise<Response>,
  authenticate: (token: string) => Promise<boolean>,
  openForward?: OpenForward,
): Promise<Response | undefined | "upgraded"> {
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") return undefined;
  if (new URL(req.url).pathname !== WATCH_MUX_PATH) return undefined;
  const token = webSocketBearer(req);
  if (!token || !(await authenticate(token))) return statusResponse(new HttpError(401, "Unauthorized", "Unauthorized"));
  const data: WatchMuxData = { kind: "ui-watch", token, fetch, watches: new Map(), openForward, forwards: new Map() };
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

function forward(ws: ServerWebSocket<WatchMuxData>, id: string, t: Partial<ForwardTarget>): void {
  const d = ws.data;
  const send = (m: object) => {
    if (ws.readyState === 1) ws.send(JSON.stringify({ id, ...m }));
  };
  const fail = (err: unknown) => {
    const e = err instanceof HttpError ? err : new HttpError(500, "InternalError", String(err));
    send({ code: e.code, status: e.toStatus() });
  };
  const refused = !d.openForward
    ? new HttpError(404, "NotFound", "port-forward is not served here")
    : d.forwards.has(id) || d.watches.has(id)
      ? new HttpError(400, "BadRequest", `${id} is already open`)
      : d.forwards.size >= MAX_FORWARDS
        ? new HttpError(429, "TooManyRequests", `at most ${MAX_FORWARDS} port-forwards per page`)
        : typeof t.namespace !== "string" || typeof t.pod !== "string" || typeof t.port !== "number"
          ? new HttpError(400, "BadRequest", "a port-forward needs a namespace, a pod and a port")
          : undefined;
  if (refused || !d.openForward) {
    fail(refused);
    return;
  }
  d.forwards.set(id, "opening");
  d.openForward(d.token, t as ForwardTarget, (reason) => {
    if (d.forwards.get(id) === undefined) return; // stopped by the page: it knows
    d.forwards.delete(id);
    send({ end: true, reason });
  }).then(
    (f) => {
      // Stopped (or the page gone) while opening: close it at once.
      if (d.forwards.get(id) !== "opening") return f.close();
      d.forwards.set(id, f);
      send({ forwarding: { port: f.port } });
    },
    (err) => {
      if (d.forwards.get(id) === "opening") d.forwards.delete(id);
      fail(err);
    },
  );
}

function stop(d: WatchMuxData, id: string): void {
  d.watches.get(id)?.abort();
  d.watches.delete(id);
  const f = d.forwards.get(id);
  d.forwards.delete(id);
  if (f && f !== "opening") f.close();
}

export const watchMuxHandlers = {
  message(ws: ServerWebSocket<WatchMuxData>, message: string | Buffer) {
    const m = JSON.parse(String(message)) as { id?: unknown; path?: unknown; forward?: unknown };
    if (typeof m.id !== "string" || m.id.length > 64) throw new Error("a watch message needs a string id");
    if (typeof m.path === "string") return start(ws, m.id, m.path);
    if (m.forward && typeof m.forward === "object") return forward(ws, m.id, m.forward as Partial<ForwardTarget>);
    stop(ws.data, m.id);
  },
  close(ws: ServerWebSocket<WatchMuxData>) {
    for (const id of [...ws.data.watches.keys(), ...ws.data.forwards.keys()]) stop(ws.data, id);
  },
};
