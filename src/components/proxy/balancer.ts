// Choosing an endpoint for a new connection: round robin (default) or random, optionally sticky
// per client address (sessionAffinity: ClientIP) for a timeout.
export interface Endpoint {
  ip: string;
  port: number;
}

export interface Balancer {
  /** Endpoints in the order to try them for one new connection from `client`. */
  pick(client: string): Endpoint[];
  setEndpoints(eps: Endpoint[]): void;
}

const same = (a: Endpoint, b: Endpoint) => a.ip === b.ip && a.port === b.port;

export function createBalancer(
  mode: "roundrobin" | "random",
  affinity?: { timeoutSeconds: number },
  now: () => number = Date.now,
): Balancer {
  let eps: Endpoint[] = [];
  let next = 0;
  const sticky = new Map<string, { ep: Endpoint; until: number }>();
  const order = (first: number) => eps.map((_, i) => eps[(first + i) % eps.length]!);
  return {
    setEndpoints(list) {
      eps = [...list];
      next = eps.length ? next % eps.length : 0;
      for (const [k, s] of sticky) if (!eps.some((e) => same(e, s.ep))) sticky.delete(k);
    },
    pick(client) {
      if (eps.length === 0) return [];
      if (affinity) {
        const s = sticky.get(client);
        if (s && s.until > now()) {
          s.until = now() + affinity.timeoutSeconds * 1000;
          const i = eps.findIndex((e) => same(e, s.ep));
          if (i >= 0) return order(i);
        }
      }
      const first = mode === "random" ? Math.floor(Math.random() * eps.length) : next++ % eps.length;
      const list = order(first);
      if (affinity) sticky.set(client, { ep: list[0]!, until: now() + affinity.timeoutSeconds * 1000 });
      return list;
    },
  };
}
