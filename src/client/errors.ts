// Turning a non-2xx response into an ApiError carrying a Kubernetes Status, whether or not the
// server sent one (proxies and plain-text errors do not).
import { ApiError, type Status } from "./types.ts";

const reasons: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  406: "NotAcceptable",
  409: "Conflict",
  410: "Expired",
  413: "RequestEntityTooLarge",
  415: "UnsupportedMediaType",
  422: "Invalid",
  429: "TooManyRequests",
  500: "InternalError",
  503: "ServiceUnavailable",
  504: "Timeout",
};

export function isStatus(v: unknown): v is Status {
  return typeof v === "object" && v !== null && (v as { kind?: unknown }).kind === "Status";
}

export function statusFor(code: number, message: string): Status {
  return {
    apiVersion: "v1",
    kind: "Status",
    metadata: {},
    status: "Failure",
    message,
    reason: reasons[code] ?? "Unknown",
    code,
  };
}

/** Reads the body of a failed response and builds the ApiError to throw. */
export async function apiErrorFrom(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => "");
  let status: Status | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (isStatus(parsed)) status = { ...parsed, code: parsed.code ?? res.status };
  } catch {
    // not JSON: build a Status below
  }
  return new ApiError(
    res.status,
    status ?? statusFor(res.status, text.trim() || res.statusText || `HTTP ${res.status}`),
  );
}

// Asking about an error, as apimachinery's apierrors.IsNotFound & co.: by the Status's reason, or by
// its code when the reason is missing or one this table does not know. Never by message text.
const knownReasons = new Set([...Object.values(reasons), "AlreadyExists", "Gone"]);

/** An ApiError, a Status (a watch's ERROR event), or the API server's own HttpError (same code and reason). */
function reasonAndCode(e: unknown): { reason: string; code: number } | undefined {
  if (e instanceof ApiError) return { reason: e.reason, code: e.code };
  if (isStatus(e)) return { reason: e.reason ?? "", code: e.code ?? 0 };
  const { code, reason } = (e ?? {}) as { code?: unknown; reason?: unknown };
  if (e instanceof Error && typeof code === "number" && typeof reason === "string") return { reason, code };
  return undefined;
}

function is(reason: string, code: number): (e: unknown) => boolean {
  return (e) => {
    const rc = reasonAndCode(e);
    if (!rc) return false;
    return rc.reason === reason || (!knownReasons.has(rc.reason) && rc.code === code);
  };
}

export const isNotFound = is("NotFound", 404);
export const isAlreadyExists = is("AlreadyExists", 409);
/** A write lost a race (resourceVersion or a precondition): re-read and retry. Not AlreadyExists. */
export const isConflict = is("Conflict", 409);
export const isGone = is("Gone", 410);
/** A watch or list from a resourceVersion that was compacted away. */
export const isResourceExpired = is("Expired", 410);
export const isForbidden = is("Forbidden", 403);
export const isUnauthorized = is("Unauthorized", 401);
export const isInvalid = is("Invalid", 422);
export const isBadRequest = is("BadRequest", 400);
export const isTooManyRequests = is("TooManyRequests", 429);
export const isMethodNotSupported = is("MethodNotAllowed", 405);
export const isServiceUnavailable = is("ServiceUnavailable", 503);

/**
 * The one idiom for an error a caller expects: `.catch(ignore(isNotFound))` resolves to undefined
 * when any predicate matches and rethrows anything else.
 */
export function ignore(...expected: ((e: unknown) => boolean)[]): (e: unknown) => undefined {
  return (e) => {
    if (expected.some((p) => p(e))) return undefined;
    throw e;
  };
}
