// Per-connection containment for Bun WebSocket handlers: whatever a client sends, an exception
// (thrown or rejected) in a handler closes that connection, never the process.
import type { ServerWebSocket, WebSocketHandler } from "bun";

type Handlers<T> = Pick<WebSocketHandler<T>, "open" | "message" | "close" | "drain">;

function closeQuietly(ws: ServerWebSocket<any>, err: unknown): void {
  try {
    ws.close(1011, `internal error: ${err instanceof Error ? err.message : String(err)}`.slice(0, 120));
  } catch {}
}

/** The same handlers, each one's failures confined to its connection. */
export function contained<T>(handlers: Handlers<T>): Handlers<T> {
  const guard = <A extends unknown[]>(
    fn: ((ws: ServerWebSocket<T>, ...a: A) => unknown) | undefined,
    closing = false,
  ) =>
    fn &&
    ((ws: ServerWebSocket<T>, ...a: A) => {
      const onError = (err: unknown) => (closing ? undefined : closeQuietly(ws, err));
      try {
        const r = fn(ws, ...a);
        if (r && typeof (r as Promise<unknown>).catch === "function") (r as Promise<unknown>).catch(onError);
      } catch (err) {
        onError(err);
      }
    });
  return {
    open: guard(handlers.open),
    message: guard(handlers.message as (ws: ServerWebSocket<T>, m: string | Buffer) => unknown),
    close: guard(handlers.close as (ws: ServerWebSocket<T>, code: number, reason: string) => unknown, true),
    drain: guard(handlers.drain),
  } as Handlers<T>;
}
