// Turning the engine's container list and inspect answers into the runtime's ContainerInfo.

import { fieldsFromLabels, LABELS, type ContainerInfo, type ContainerKind, type ContainerState } from "./types.ts";

function stateOf(s: string | undefined): ContainerState {
  switch (s) {
    case "running":
    case "paused":
      return "running";
    case "exited":
    case "stopped":
    case "dead":
      return "exited";
    case "created":
    case "configured":
      return "created";
    default:
      return "unknown";
  }
}

function time(t: string | undefined): string | null {
  if (!t || t.startsWith("0001-01-01")) return null;
  return t;
}

function base(id: string, name: string, labels: Record<string, string>): ContainerInfo {
  return {
    id,
    runtimeName: name.replace(/^\//, ""),
    image: "",
    imageId: "",
    labels,
    kind: (labels[LABELS.kind] ?? "app") as ContainerKind,
    ...fieldsFromLabels(labels),
    state: "unknown",
    exitCode: null,
    createdAt: null,
    startedAt: null,
    finishedAt: null,
    oomKilled: false,
    error: "",
    ip: "",
  };
}

/** What both list answers (Docker-compatible and Podman's own) say alike of a container. */
interface ListedContainer {
  Id: string;
  Names?: string[];
  Image?: string;
  ImageID?: string;
  Labels?: Record<string, string> | null;
  State?: string;
}

export interface ListItem extends ListedContainer {
  Status?: string;
  Created?: number;
  NetworkSettings?: { Networks?: Record<string, { IPAddress?: string }> | null };
}

export function fromListItem(c: ListItem): ContainerInfo {
  const info = base(c.Id, c.Names?.[0] ?? "", c.Labels ?? {});
  info.image = c.Image ?? "";
  info.imageId = c.ImageID ?? "";
  info.state = stateOf(c.State);
  if (info.state === "exited") {
    const m = /Exited \((-?\d+)\)/.exec(c.Status ?? "");
    info.exitCode = m ? Number(m[1]) : null;
  }
  if (c.Created) info.createdAt = new Date(c.Created * 1000).toISOString();
  info.ip = Object.values(c.NetworkSettings?.Networks ?? {}).find((n) => n.IPAddress)?.IPAddress ?? "";
  return info;
}

/** An item of Podman's own list (GET /libpod/containers/json): no network settings, the exit code as a number. */
export interface LibpodListItem extends ListedContainer {
  ExitCode?: number;
  /** RFC 3339 (Podman 4; a unix time in some earlier versions). */
  Created?: string | number;
}

/** As fromListItem; the IP is left empty (this list does not carry it: an inspect does). */
export function fromLibpodListItem(c: LibpodListItem): ContainerInfo {
  const info = base(c.Id, c.Names?.[0] ?? "", c.Labels ?? {});
  info.image = c.Image ?? "";
  // Bare hex here; the Docker-compatible list and inspect say sha256:<hex>.
  info.imageId = c.ImageID && /^[0-9a-f]{64}$/.test(c.ImageID) ? `sha256:${c.ImageID}` : (c.ImageID ?? "");
  info.state = stateOf(c.State);
  if (info.state === "exited") info.exitCode = c.ExitCode ?? null;
  if (typeof c.Created === "number") info.createdAt = new Date(c.Created * 1000).toISOString();
  else info.createdAt = time(c.Created);
  return info;
}

export interface InspectAnswer {
  Id: string;
  Name?: string;
  Image?: string;
  Created?: string;
  Config?: { Image?: string; Labels?: Record<string, string> | null; Tty?: boolean };
  State?: {
    Status?: string;
    ExitCode?: number;
    StartedAt?: string;
    FinishedAt?: string;
    OOMKilled?: boolean;
    Error?: string;
  };
  NetworkSettings?: { IPAddress?: string; Networks?: Record<string, { IPAddress?: string }> | null };
}

export function fromInspect(c: InspectAnswer): ContainerInfo {
  const info = base(c.Id, c.Name ?? "", c.Config?.Labels ?? {});
  info.image = c.Config?.Image ?? "";
  info.imageId = c.Image ?? "";
  info.state = stateOf(c.State?.Status);
  info.exitCode = info.state === "exited" ? (c.State?.ExitCode ?? null) : null;
  info.createdAt = time(c.Created);
  info.startedAt = time(c.State?.StartedAt);
  info.finishedAt = info.state === "exited" ? time(c.State?.FinishedAt) : null;
  info.oomKilled = c.State?.OOMKilled ?? false;
  info.error = c.State?.Error ?? "";
  const ns = c.NetworkSettings;
  info.ip = ns?.IPAddress || Object.values(ns?.Networks ?? {}).find((n) => n.IPAddress)?.IPAddress || "";
  return info;
}
