// How the client reaches the API server: in-process (the hono app's fetch, no socket) inside
// `kube up`, or HTTP(S) for the CLI and remote agents. Both add the bearer token when given.

export interface Transport {
  fetch(req: Request): Promise<Response>;
  /** Prefix for request paths, without a trailing slash. */
  baseUrl: string;
}

export interface HttpTransportOptions {
  /** Accept any server certificate (kubeconfig insecure-skip-tls-verify). */
  insecureSkipTLSVerify?: boolean;
  /** PEM of the CA that signed the server certificate. */
  ca?: string;
}

function withToken(req: Request, token: string | undefined): Request {
  if (token && !req.headers.has("authorization")) req.headers.set("authorization", `Bearer ${token}`);
  return req;
}

export function inProcessTransport(fetch: (req: Request) => Response | Promise<Response>, token?: string): Transport {
  return {
    baseUrl: "http://in-process",
    fetch: async (req) => fetch(withToken(req, token)),
  };
}

export function httpTransport(server: string, token?: string, opts: HttpTransportOptions = {}): Transport {
  const tls =
    opts.insecureSkipTLSVerify || opts.ca
      ? { rejectUnauthorized: !opts.insecureSkipTLSVerify, ...(opts.ca ? { ca: opts.ca } : {}) }
      : undefined;
  return {
    baseUrl: server.replace(/\/+$/, ""),
    // Bun's fetch takes `tls`; other runtimes ignore the unknown option.
    fetch: (req) => fetch(withToken(req, token), tls ? ({ tls } as RequestInit) : undefined),
  };
}

/**
 * Several API servers of one cluster (`kube agent --server URL1,URL2`): requests go to the server
 * that answered last; one that cannot be reached (connection refused, reset, DNS) is skipped for the
 * next, in order. Anything the server answered, errors included, is returned as it is. A body is
 * buffered first so that it can be sent again.
 */
export function failoverTransport(servers: string[], token?: string, opts: HttpTransportOptions = {}): Transport {
  const bases = servers.map((s) => s.replace(/\/+$/, ""));
  if (!bases.length) throw new Error("failoverTransport: no server");
  const each = bases.map((b) => httpTransport(b, token, opts));
  const baseUrl = bases[0]!;
  let current = 0;
  return {
    baseUrl,
    async fetch(req) {
      const rest = req.url.slice(baseUrl.length);
      const body = req.body ? await req.arrayBuffer() : undefined;
      let last: unknown;
      for (let i = 0; i < bases.length; i++) {
        const n = (current + i) % bases.length;
        if (req.signal.aborted) break;
        try {
          const res = await each[n]!.fetch(
            new Request(bases[n] + rest, { method: req.method, headers: req.headers, body, signal: req.signal }),
          );
          current = n;
          return res;
        } catch (err) {
          if (req.signal.aborted) throw err;
          last = err;
        }
      }
      throw last ?? new DOMException("The operation was aborted.", "AbortError");
    },
  };
}
