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
