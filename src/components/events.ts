// Recording Events (what `kubectl describe` shows) for any component. Best effort: an event
// that cannot be written is dropped, never retried, and never fails the caller.
import type { KubeObject } from "../api/types.ts";
import type { Client } from "../client/index.ts";
import { apiVersionOf, resolveKind } from "../api/registry.ts";

export type EventType = "Normal" | "Warning";

export function recordEvent(client: Client, component: string, obj: KubeObject, type: EventType, reason: string, message: string): void {
  const meta = obj.metadata ?? {};
  const namespace = meta.namespace ?? "default";
  const kind = obj.kind ?? "";
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  const apiVersion = obj.apiVersion ?? (resolveKind(kind) ? apiVersionOf(resolveKind(kind)!) : "v1");
  const event = {
    apiVersion: "v1",
    kind: "Event",
    metadata: { name: `${meta.name}.${Date.now().toString(16)}${Math.floor(Math.random() * 4096).toString(16)}`, namespace },
    involvedObject: { apiVersion, kind, name: meta.name, namespace: meta.namespace, uid: meta.uid, resourceVersion: meta.resourceVersion },
    reason,
    message,
    type,
    source: { component },
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
    reportingComponent: component,
  };
  client.resource("events", namespace).create(event).catch(() => {});
}
