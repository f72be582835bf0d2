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
