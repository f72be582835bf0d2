// What every view receives from the shell.
import type { Api, K8sObject } from "./api.ts";
import type { Res } from "./resources.ts";
import type { Rows } from "./widgets.tsx";

export interface Target {
  res: Res;
  namespace?: string;
  name: string;
}

export interface ViewProps {
  api: Api;
  /** "" = all namespaces. */
  namespace: string;
  filter: string;
  nav: Rows;
  open(target: Target): void;
  setNamespace(ns: string): void;
  /** Shows a message: the server's Status message for a failed action. */
  notify(message: string, tone?: "ok" | "bad"): void;
}

export const targetOf = (res: Res, o: K8sObject): Target => ({
  res,
  namespace: o.metadata.namespace,
  name: o.metadata.name,
});

/** Case-insensitive match on namespace/name. */
export const byFilter = (filter: string) => (o: K8sObject) =>
  !filter || `${o.metadata.namespace ?? ""}/${o.metadata.name}`.toLowerCase().includes(filter.toLowerCase());
