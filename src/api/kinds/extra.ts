// Kinds that kubectl and real manifests carry besides workloads: PodTemplate (core/v1),
// ControllerRevision (apps/v1: the DaemonSet and StatefulSet controllers' history, which
// `kubectl rollout history/undo` reads) and APIService (apiregistration.k8s.io/v1: stored and
// listed; nothing is aggregated). Validation as upstream's (apps and apiregistration validation).
import type { Condition, KubeObject } from "../types.ts";
import * as v from "../validation.ts";
import type { Causes } from "../validation.ts";
import { age, ageColumn, col, defineKind, nameColumn, specOf, statusOf } from "./define.ts";
import { defaultPodSpec, validatePodTemplate, type PodSpec } from "./pod.ts";
import { checked } from "./stored.ts";

type Template = { metadata?: { labels?: Record<string, string> }; spec?: PodSpec };

/** stored.ts' shape and metadata checks, then `rules` on the causes. */
const validated = (rules: (c: Causes, obj: KubeObject, old?: KubeObject) => void) =>
  checked((obj, _causes, old, c) => rules(c, obj, old));

export const podTemplateKind = defineKind({
  group: "",
  version: "v1",
  kind: "PodTemplate",
  resource: "podtemplates",
  namespaced: true,
  defaults: (o) => {
    const tpl = o.template as Template | undefined;
    if (tpl && typeof tpl === "object") defaultPodSpec(tpl.spec);
  },
  validate: validated((c, o) => validatePodTemplate(c, "template", o.template)),
  specChanged: (a, b) => JSON.stringify(a.template) !== JSON.stringify(b.template),
  table: {
    columns: [nameColumn, col("Containers"), col("Images"), col("Pod Labels")],
    row: (o) => {
      const tpl = (o.template ?? {}) as Template;
      const cs = tpl.spec?.containers ?? [];
      const labels = Object.entries(tpl.metadata?.labels ?? {})
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, val]) => `${k}=${val}`)
        .join(",");
      return [o.metadata?.name, cs.map((x) => x.name).join(","), cs.map((x) => x.image).join(","), labels || "<none>"];
    },
  },
});

export const controllerRevisionKind = defineKind({
  group: "apps",
  version: "v1",
  kind: "ControllerRevision",
  resource: "controllerrevisions",
  namespaced: true,
  validate: validated((c, o, old) => {
    if (o.data === undefined || o.data === null) c.required("data");
    if (o.revision !== undefined && (typeof o.revision !== "number" || !Number.isInteger(o.revision)))
      c.invalid("revision", o.revision, "must be an integer");
    else v.nonNegativeInt(c, "revision", o.revision);
    if (old && JSON.stringify(o.data) !== JSON.stringify(old.data)) c.invalid("data", o.data, "field is immutable");
  }),
  defaults: (o) => {
    o.revision ??= 0;
  },
  specChanged: () => false,
  table: {
    columns: [nameColumn, col("Controller"), col("Revision", 0, "integer"), ageColumn],
    row: (o, now) => {
      const owner = (o.metadata?.ownerReferences ?? []).find((r) => r.controller);
      const group = owner?.apiVersion?.includes("/") ? owner.apiVersion.split("/")[0] : "";
      return [
        o.metadata?.name,
        owner ? `${owner.kind.toLowerCase()}${group ? `.${group}` : ""}/${owner.name}` : "<none>",
        o.revision ?? 0,
        age(o, now),
      ];
    },
  },
});

/** apiregistration.k8s.io/v1 APIServiceSpec; no service means served locally. */
export interface APIServiceSpec {
  service?: { namespace?: string; name?: string; port?: number };
  group?: string;
  version?: string;
  insecureSkipTLSVerify?: boolean;
  caBundle?: string;
  groupPriorityMinimum: number;
  versionPriority: number;
}
export interface APIServiceStatus {
  conditions?: Condition[];
}
export interface APIService extends KubeObject {
  spec: APIServiceSpec;
  status?: APIServiceStatus;
}

export const apiServiceKind = defineKind({
  group: "apiregistration.k8s.io",
  version: "v1",
  kind: "APIService",
  resource: "apiservices",
  namespaced: false,
  categories: ["api-extensions"],
  subresources: { status: true },
  hasStatus: true,
  defaults: (o) => {
    const s = specOf<APIServiceSpec>(o);
    if (s.service) s.service.port ??= 443;
  },
  validate: validated((c, o) => {
    const s = specOf<APIServiceSpec>(o);
    const required = `${s.version ?? ""}.${s.group ?? ""}`;
    if (o.metadata?.name && o.metadata.name !== required && !c.list.some((x) => x.field === "metadata.name"))
      c.invalid(
        "metadata.name",
        o.metadata.name,
        `must be \`spec.version+"."+spec.group\`: ${JSON.stringify(required)}`,
      );
    if (!s.group && s.version !== "v1")
      c.required("spec.group", "only v1 may have an empty group and it better be legacy kube");
    if (s.group) v.dns1123Subdomain(c, "spec.group", s.group);
    if (!s.version || !/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(s.version))
      c.invalid(
        "spec.version",
        s.version ?? "",
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
      );
    const gpm = s.groupPriorityMinimum ?? 0;
    if (gpm <= 0 || gpm > 20000) c.invalid("spec.groupPriorityMinimum", gpm, "must be positive and less than 20000");
    const vp = s.versionPriority ?? 0;
    if (vp <= 0 || vp > 1000) c.invalid("spec.versionPriority", vp, "must be positive and less than 1000");
    if (!s.service) {
      if (s.caBundle)
        c.invalid(
          "spec.caBundle",
          `${Buffer.from(s.caBundle, "base64").length} bytes`,
          "local APIServices may not have a caBundle",
        );
      if (s.insecureSkipTLSVerify)
        c.invalid("spec.insecureSkipTLSVerify", true, "local APIServices may not have insecureSkipTLSVerify");
      return;
    }
    if (!s.service.namespace) c.required("spec.service.namespace");
    if (!s.service.name) c.required("spec.service.name");
    const port = s.service.port;
    if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535)
      c.invalid("spec.service.port", port, "port is not valid: must be between 1 and 65535, inclusive");
    if (s.insecureSkipTLSVerify && s.caBundle)
      c.invalid("spec.insecureSkipTLSVerify", true, "may not be true if caBundle is present");
  }),
  specChanged: (a, b) => JSON.stringify(a.spec) !== JSON.stringify(b.spec),
  table: {
    columns: [nameColumn, col("Service"), col("Available"), ageColumn],
    row: (o, now) => {
      const s = specOf<APIServiceSpec>(o);
      const cond = (statusOf<APIServiceStatus>(o).conditions ?? []).find((x) => x.type === "Available");
      const available = !cond
        ? "Unknown"
        : cond.status !== "True" && cond.reason
          ? `${cond.status} (${cond.reason})`
          : cond.status;
      return [
        o.metadata?.name,
        s.service ? `${s.service.namespace}/${s.service.name}` : "Local",
        available,
        age(o, now),
      ];
    },
  },
});

export const EXTRA_KINDS = [podTemplateKind, controllerRevisionKind, apiServiceKind];
