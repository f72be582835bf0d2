// The reference for the pod-start burst: `n` pods started at once with nothing but the engine's
// HTTP API on its unix socket. A pod is what the kubelet needs at the least: an infra container
// (the pause image, holding the network namespace) created and started, then the app container
// joined to it created and started. All n chains run in parallel; the time is until the last
// app container has started. The containers are removed afterwards (not timed).
import { API_VERSION } from "../../src/components/kubelet/runtime/engine-http.ts";
import { PAUSE_COMMAND } from "../../src/components/kubelet/runtime/pause.ts";
import { PAUSE_IMAGE } from "../../src/components/kubelet/runtime/types.ts";

export async function rawBurst(
  socket: string,
  n: number,
  image: string,
  label: string,
  /** Called when the last app container has started (before the removal). */
  atEnd?: () => void,
): Promise<number> {
  const call = async (method: string, path: string, body?: unknown): Promise<string> => {
    const res = await fetch(`http://d/${API_VERSION}${path}`, {
      method,
      unix: socket,
      headers: body ? { "content-type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    } as RequestInit);
    const text = await res.text();
    if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text;
  };
  const create = async (name: string, body: object) =>
    (JSON.parse(await call("POST", `/containers/create?name=${name}`, body)) as { Id: string }).Id;
  // Apps first: Podman refuses to remove an infra container that others still join.
  const apps: string[] = [];
  const infras: string[] = [];
  let elapsed = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const tag = `${label}-${process.pid}-${i}`;
      const infra = await create(`${tag}-infra`, {
        Image: PAUSE_IMAGE,
        Entrypoint: PAUSE_COMMAND,
        Hostname: tag,
        Labels: { "io.kube.bench": label },
      });
      infras.push(infra);
      await call("POST", `/containers/${infra}/start`);
      const app = await create(`${tag}-app`, {
        Image: image,
        Entrypoint: ["sleep", "3600"],
        Labels: { "io.kube.bench": label },
        HostConfig: { NetworkMode: `container:${infra}`, UTSMode: `container:${infra}` },
      });
      apps.push(app);
      await call("POST", `/containers/${app}/start`);
    }),
  ).finally(async () => {
    const ms = performance.now() - t0;
    atEnd?.();
    await Promise.all(apps.map((id) => call("DELETE", `/containers/${id}?force=1&v=1`).catch(() => {})));
    await Promise.all(infras.map((id) => call("DELETE", `/containers/${id}?force=1&v=1`).catch(() => {})));
    elapsed = ms;
  });
  return elapsed;
}
