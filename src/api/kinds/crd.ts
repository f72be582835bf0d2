// apiextensions.k8s.io/v1 CustomResourceDefinition. Its validation (names, versions, structural
// schema) lives in api/crd; the API server attaches the hooks that accept names, set conditions
// and serve the custom resources (components/apiserver/crds.ts).
import type { KubeObject } from "../types.ts";
import { validateCrd } from "../crd/validate.ts";
import type { CrdSpec } from "../crd/types.ts";
import { Causes, objectMeta } from "../validation.ts";
import { col, defineKind, nameColumn } from "./define.ts";

export const customResourceDefinitionKind = defineKind({
  group: "apiextensions.k8s.io",
  version: "v1",
  kind: "CustomResourceDefinition",
  resource: "customresourcedefinitions",
  namespaced: false,
  shortNames: ["crd", "crds"],
  categories: ["api-extensions"],
  subresources: { status: true },
  hasStatus: true,
  defaults(obj: KubeObject) {
    const spec = obj.spec as Partial<CrdSpec> | undefined;
    if (!spec || typeof spec !== "object") return;
    const names = spec.names;
    if (names && typeof names === "object" && typeof names.kind === "string") {
      names.singular ??= names.kind.toLowerCase();
      names.listKind ??= `${names.kind}List`;
    }
    spec.conversion ??= { strategy: "None" };
    for (const v of Array.isArray(spec.versions) ? spec.versions : [])
      if (v && typeof v === "object") v.served ??= false;
  },
  validate(obj) {
    const c = new Causes();
    objectMeta(c, obj);
    return [...c.list, ...validateCrd(obj).list];
  },
  table: {
    columns: [nameColumn, { ...col("Created At"), type: "date" }],
    row: (o) => [o.metadata?.name, o.metadata?.creationTimestamp],
  },
});
