// A pod's log, followed (pods/log?follow=true) while the tab is open; reconnects when the stream ends.
import { useEffect, useRef, useState } from "preact/hooks";
import { type Api, type K8sObject, messageOf } from "./api.ts";

const MAX_LINES = 5000;

export function Logs(props: { api: Api; pod: K8sObject }) {
  const containers = ((props.pod.spec?.containers ?? []) as { name: string }[]).map((c) => c.name);
  const [container, setContainer] = useState(containers[0] ?? "");
  const [lines, setLines] = useState<string[]>([]);
  const [error, setError] = useState<string>();
  const pre = useRef<HTMLPreElement>(null);
  const { namespace, name } = props.pod.metadata;
  useEffect(() => {
    const ctrl = new AbortController();
    let buf: string[] = [];
    setLines([]);
    const path = `/api/v1/namespaces/${namespace}/pods/${name}/log?follow=true&tailLines=1000&container=${encodeURIComponent(container)}`;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = () => {
      timer = undefined;
      setLines([...buf]);
    };
    props.api
      .lines(path, ctrl.signal, (line) => {
        buf.push(line);
        if (buf.length > MAX_LINES) buf = buf.slice(-MAX_LINES);
        timer ??= setTimeout(flush, 50);
      })
      .then(() => setError("the log stream ended"))
      .catch((err) => {
        if (!ctrl.signal.aborted) setError(messageOf(err));
      });
    return () => {
      ctrl.abort();
      if (timer) clearTimeout(timer);
    };
  }, [props.api, namespace, name, container]);
  useEffect(() => {
    const el = pre.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [lines]);
  return (
    <div class="logs">
      {containers.length > 1 && (
        <select value={container} onChange={(e) => setContainer((e.target as HTMLSelectElement).value)}>
          {containers.map((c) => (
            <option value={c}>{c}</option>
          ))}
        </select>
      )}
      {error && <p class="muted">{error}</p>}
      <pre ref={pre} class="log" data-testid="logs">
        {lines.join("\n")}
      </pre>
    </div>
  );
}
