// The 403 kube-apiserver answers when authorization denies a request: `pods is forbidden: User
// "..." cannot list resource "pods" in API group "" in the namespace "x"`, with the authorizer's
// reason after a colon, and details naming the resource (errors.NewForbidden).
import { HttpError, qualified } from "../errors.ts";
import { forbiddenMessage, type Attributes } from "./attributes.ts";

export function forbiddenError(a: Attributes, reason = ""): HttpError {
  const why = reason ? `${forbiddenMessage(a)}: ${reason}` : forbiddenMessage(a);
  if (!a.resourceRequest || !a.resource) return new HttpError(403, "Forbidden", `forbidden: ${why}`, {});
  const gr = qualified(a.resource, a.apiGroup);
  const message = a.name ? `${gr} ${JSON.stringify(a.name)} is forbidden: ${why}` : `${gr} is forbidden: ${why}`;
  return new HttpError(403, "Forbidden", message, {
    ...(a.name ? { name: a.name } : {}),
    group: a.apiGroup,
    kind: a.resource,
  });
}
