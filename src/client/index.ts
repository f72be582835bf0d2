// The client package: typed REST + watch client, transports, kubeconfig, Informer and WorkQueue.
export * from "./types.ts";
export * from "./transport.ts";
export { bodySerializedByClient, createClient, type ClientOptions } from "./client.ts";
export { portTransport, servePort, type Port } from "./port-transport.ts";
export {
  apiErrorFrom,
  ignore,
  isAlreadyExists,
  isBadRequest,
  isConflict,
  isForbidden,
  isGone,
  isInvalid,
  isMethodNotSupported,
  isNotFound,
  isResourceExpired,
  isServiceUnavailable,
  isStatus,
  isTooManyRequests,
  isUnauthorized,
  statusFor,
} from "./errors.ts";
export { resourcePath, groupVersionPath, type KindRef } from "./paths.ts";
export * from "./kubeconfig.ts";
export * from "./informer.ts";
export * from "./shared-informers.ts";
export * from "./workqueue.ts";
export { realClock, type Clock } from "./clock.ts";
export { lines as ndjsonLines } from "./ndjson.ts";
