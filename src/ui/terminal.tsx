// An exec terminal: xterm.js over pods/exec's WebSocket, speaking the channel protocol kubectl
// speaks (v5.channel.k8s.io, else v4): byte 0 of a frame is the stream (0 stdin, 1 stdout,
// 2 stderr, 3 status, 4 resize). The token travels as a WebSocket subprotocol: browsers cannot
// set an Authorization header there (the API server accepts it as kube-apiserver does).
import { useEffect, useRef, useState } from "preact/hooks";
import { type Api, BEARER_PROTOCOL_PREFIX, base64url, type K8sObject, wsUrl } from "./api.ts";

export function Terminal(props: { api: Api; pod: K8sObject }) {
  const box = useRef<HTMLDivElement>(null);
  const containers = ((props.pod.spec?.containers ?? []) as { name: string }[]).map((c) => c.name);
  const [container, setContainer] = useState(containers[0] ?? "");
  const [command, setCommand] = useState("sh");
  const [session, setSession] = useState(0);
  const [state, setState] = useState("connecting…");
  const { namespace, name } = props.pod.metadata;
  useEffect(() => {
    if (!box.current) return;
    let disposed = false;
    let cleanup = () => {};
    void import("@xterm/xterm").then(({ Terminal: XTerm }) => {
      if (disposed || !box.current) return;
      const term = new XTerm({ cols: 100, rows: 28, convertEol: false, cursorBlink: true, fontSize: 13 });
      term.open(box.current);
      const q = new URLSearchParams({ container, stdin: "true", stdout: "true", tty: "true" });
      for (const part of command.trim().split(/\s+/)) q.append("command", part);
      const url = wsUrl(`/api/v1/namespaces/${namespace}/pods/${name}/exec?${q}`);
      const ws = new WebSocket(url, [
        "v5.channel.k8s.io",
        "v4.channel.k8s.io",
        BEARER_PROTOCOL_PREFIX + base64url(props.api.token),
      ]);
      ws.binaryType = "arraybuffer";
      const send = (channel: number, data: string) => {
        const bytes = new TextEncoder().encode(data);
        const frame = new Uint8Array(bytes.length + 1);
        frame[0] = channel;
        frame.set(bytes, 1);
        if (ws.readyState === WebSocket.OPEN) ws.send(frame);
      };
      ws.onopen = () => {
        setState("connected");
        send(4, JSON.stringify({ Width: term.cols, Height: term.rows }));
        term.focus();
      };
      ws.onmessage = (ev) => {
        const data = new Uint8Array(ev.data as ArrayBuffer);
        if (data.length === 0) return;
        if (data[0] === 1 || data[0] === 2) term.write(data.subarray(1));
        else if (data[0] === 3) {
          const status = JSON.parse(new TextDecoder().decode(data.subarray(1))) as {
            status?: string;
            message?: string;
          };
          setState(status.status === "Success" ? "exited" : `exited: ${status.message ?? status.status}`);
        }
      };
      ws.onclose = (ev) => setState((s) => (s.startsWith("exited") ? s : `closed${ev.reason ? `: ${ev.reason}` : ""}`));
      ws.onerror = () => setState("the exec connection failed");
      const input = term.onData((d) => send(0, d));
      cleanup = () => {
        input.dispose();
        ws.close();
        term.dispose();
      };
    });
    return () => {
      disposed = true;
      cleanup();
    };
  }, [props.api, namespace, name, container, session]);
  return (
    <div class="terminal">
      <form
        class="exec-bar"
        onSubmit={(e) => {
          e.preventDefault();
          setState("connecting…");
          setSession((n) => n + 1);
        }}
      >
        {containers.length > 1 && (
          <select value={container} onChange={(e) => setContainer((e.target as HTMLSelectElement).value)}>
            {containers.map((c) => (
              <option value={c}>{c}</option>
            ))}
          </select>
        )}
        <input value={command} onInput={(e) => setCommand((e.target as HTMLInputElement).value)} aria-label="command" />
        <button type="submit">Reconnect</button>
        <span class="muted" data-testid="terminal-state">
          {state}
        </span>
      </form>
      <div ref={box} class="xterm-box" data-testid="terminal" />
    </div>
  );
}
