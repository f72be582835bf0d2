// Errors the handlers throw and the one place that turns anything thrown into a Kubernetes
// Status response. Anything unexpected becomes a 500 with a short message, never a stack trace.
import type { Cause } from "../../api/types.ts";
import type { Status } from "../../client/types.ts";

export class HttpError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Status["details"],
  ) {
    super(message);
  }
  toStatus(): Status {
    const s: Status = { apiVersion: "v1", kind: "Status", metadata: {}, status: "Failure", message: this.message, reason: this.reason, code: this.code };
    if (this.details) s.details = this.details;
    return s;
  }
}

/** `pods "x"` or `deployments.apps "x"`, as Kubernetes names things in messages. */
export function qualified(resource: string, group: string): string {
  return group ? `${resource}.${group}` : resource;
}

export const notFound = (resource: string, group: string, name: string) =>
  new HttpError(404, "NotFound", `${qualified(resource, group)} "${name}" not found`, { name, group, kind: resource });

export const alreadyExists = (resource: string, group: string, name: string) =>
  new HttpError(409, "AlreadyExists", `${qualified(resource, group)} "${name}" already exists`, { name, group, kind: resource });

export const conflict = (resource: string, group: string, name: string, why = "the object has been modified; please apply your changes to the latest version and try again") =>
  new HttpError(409, "Conflict", `Operation cannot be fulfilled on ${qualified(resource, group)} "${name}": ${why}`, { name, group, kind: resource });

export const badRequest = (message: string) => new HttpError(400, "BadRequest", message);

export const methodNotAllowed = (message = "the server does not allow this method on the requested resource") =>
  new HttpError(405, "MethodNotAllowed", message);

export const expired = (message: string) => new HttpError(410, "Expired", message);

export const forbidden = (message: string) => new HttpError(403, "Forbidden", message);

export function invalid(kind: string, group: string, name: string, causes: Cause[]): HttpError {
  const list = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  const summary = list.length === 1 ? list[0] : `[${list.join(", ")}]`;
  return new HttpError(422, "Invalid", `${kind} "${name}" is invalid: ${summary}`, {
    name,
    group,
    kind,
    causes: causes.map((c) => ({ reason: c.reason, message: c.message, field: c.field })),
  });
}

export function statusResponse(err: unknown): Response {
  const e = err instanceof HttpError ? err : new HttpError(500, "InternalError", `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`);
  return Response.json(e.toStatus(), { status: e.code });
}
