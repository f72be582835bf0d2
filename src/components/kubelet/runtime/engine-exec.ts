// An interactive exec over a hijacked connection: stdin written raw, output demultiplexed
// (or raw with a tty), the exit code read from the exec once the stream ends.

import type { RawConn } from "./engine-http.ts";
import { demux } from "./mux.ts";
import type { ExecSession, OutputChunk } from "./types.ts";

export interface ExecHost {
  execExitCode(execId: string): Promise<number>;
  http: { call(method: string, path: string, opts?: { query?: Record<string, string | number> }): Promise<void> };
}

export function execSession(host: ExecHost, execId: string, conn: RawConn, tty: boolean): ExecSession {
  let settle!: (code: number) => void;
  let fail!: (e: unknown) => void;
  const exitCode = new Promise<number>((res, rej) => {
    settle = res;
    fail = rej;
  });
  exitCode.catch(() => {}); // callers that only read output must not see an unhandled rejection
  async function* output(): AsyncGenerator<OutputChunk> {
    try {
      yield* demux(conn, tty);
    } finally {
      conn.close();
      host.execExitCode(execId).then(settle, fail);
    }
  }
  return {
    output: output(),
    write: (data) => conn.write(data),
    closeStdin: () => conn.closeWrite(),
    resize: (cols, rows) => host.http.call("POST", `/exec/${execId}/resize`, { query: { h: rows, w: cols } }),
    exitCode,
    close: () => conn.close(),
  };
}
