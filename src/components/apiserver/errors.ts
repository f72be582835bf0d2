// Errors the handlers throw and the one place that turns anything thrown into a Kubernetes
// Status response. Anything unexpected becomes a 500 with a short message, never a stack trace.
import type { Cause } from "../../api/types.ts";
import type { Status } from "../../client/types.ts";
import { StoreUnavailableError } from "../../store/types.ts";

export class HttpError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Status["details"],
  ) {
    super(message);
  }
  /** The Status with keys in the order Go's encoding/json writes metav1.Status; empty fields left out (omitempty). */
  toStatus(): Status {
    const s = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure" } as Status;
    if (this.message) s.message = this.message;
    if (this.reason) s.reason = this.reason;
    const d = this.details && orderedDetails(this.details);
    if (d && Object.keys(d).length) s.details = d;
    if (this.code) s.code = this.code;
    return s;
  }
}

type Details = NonNullable<Status["details"]>;

/** StatusDetails in Go's field order: name, group, kind, uid, causes, retryAfterSeconds (all omitempty). */
function orderedDetails(d: Details & { uid?: string }): Details {
  const out: Details & { uid?: string } = {};
  if (d.name) out.name = d.name;
  if (d.group) out.group = d.group;
  if (d.kind) out.kind = d.kind;
  if (d.uid) out.uid = d.uid;
  if (d.causes?.length)
    out.causes = d.causes.map((c) => {
      const o: { reason: string; message: string; field?: string } = {} as never;
      if (c.reason) o.reason = c.reason;
      if (c.message) o.message = c.message;
      if (c.field) o.field = c.field;
      return o;
    });
  if (d.retryAfterSeconds) out.retryAfterSeconds = d.retryAfterSeconds;
  return out;
}

/** JSON as kube-apiserver writes it: Go's json.Encoder ends every document with a newline. */
export function goJson(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body) + "\n", {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/** `pods "x"` or `deployments.apps "x"`, as Kubernetes names things in messages. */
export function qualified(resource: string, group: string): string {
  return group ? `${resource}.${group}` : resource;
}

export const notFound = (resource: string, group: string, name: string) =>
  new HttpError(404, "NotFound", `${qualified(resource, group)} "${name}" not found`, { name, group, kind: resource });

export const alreadyExists = (resource: string, group: string, name: string) =>
  new HttpError(409, "AlreadyExists", `${qualified(resource, group)} "${name}" already exists`, {
    name,
    group,
    kind: resource,
  });

export const conflict = (
  resource: string,
  group: string,
  name: string,
  why = "the object has been modified; please apply your changes to the latest version and try again",
) =>
  new HttpError(409, "Conflict", `Operation cannot be fulfilled on ${qualified(resource, group)} "${name}": ${why}`, {
    name,
    group,
    kind: resource,
  });

export const badRequest = (message: string) => new HttpError(400, "BadRequest", message);

export const methodNotAllowed = (message = "the server does not allow this method on the requested resource") =>
  new HttpError(405, "MethodNotAllowed", message);

export const expired = (message: string) => new HttpError(410, "Expired", message);

export const forbidden = (message: string) => new HttpError(403, "Forbidden", message);

/** errors.NewInvalid: `Deployment.apps "web" is invalid: spec.replicas: ...` (the kind qualified by its group). */
export function invalid(kind: string, group: string, name: string, causes: Cause[]): HttpError {
  const list = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  const summary = list.length === 1 ? list[0] : `[${list.join(", ")}]`;
  return new HttpError(422, "Invalid", `${qualified(kind, group)} "${name}" is invalid: ${summary}`, {
    name,
    group,
    kind,
    causes: causes.map((c) => ({ reason: c.reason, message: c.message, field: c.field })),
  });
}

export function statusResponse(err: unknown): Response {
  const e =
    err instanceof HttpError
      ? err
      : err instanceof StoreUnavailableError
        ? new HttpError(503, "ServiceUnavailable", `the storage backend is unavailable: ${err.message}`)
        : new HttpError(
            500,
            "InternalError",
            `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`,
          );
  return goJson(e.toStatus(), e.code);
}
