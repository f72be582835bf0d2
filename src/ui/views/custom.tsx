// Custom resources, generically: the CustomResourceDefinitions, then any one's instances with
// the printer columns its CRD declares (simple `.a.b` JSONPaths).
import type { K8sObject } from "../api.ts";
import { byFilter, targetOf, type ViewProps } from "../context.ts";
import { useLive } from "../hooks.ts";
import { age, listPath, R, type Res, resOfCrd } from "../resources.ts";
import { Notice, Table, type Column } from "../widgets.tsx";

interface PrinterColumn {
  name: string;
  jsonPath: string;
}

/** Reads `.spec.replicas`-style paths; anything fancier shows empty. */
export function simplePath(o: unknown, path: string): string {
  let v: unknown = o;
  for (const part of path.replace(/^\./, "").split(".")) {
    if (v === null || typeof v !== "object") return "";
    v = (v as Record<string, unknown>)[part];
  }
  return v === undefined || v === null ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
}

export function CustomView(props: ViewProps & { crdName?: string; select(crdName?: string): void }) {
  const crds = useLive(props.api, listPath(R.crds, ""));
  const crd = crds.items.find((c) => c.metadata.name === props.crdName);
  if (props.crdName && crd) return <Instances {...props} crd={crd} />;
  const rows = crds.items.filter(byFilter(props.filter));
  return (
    <section>
      <h2>
        Custom resources <span class="count">{rows.length}</span>
      </h2>
      <Notice error={crds.error} />
      <Table
        testId="crds"
        rows={rows}
        nav={props.nav}
        open={(c) => props.select(c.metadata.name)}
        empty={crds.loaded ? "No CustomResourceDefinitions." : "Loading…"}
        columns={[
          { title: "Kind", cell: (c) => <span class="name">{c.spec?.names?.kind}</span> },
          { title: "Name", cell: (c) => c.metadata.name },
          { title: "Scope", cell: (c) => c.spec?.scope },
          { title: "Versions", cell: (c) => (c.spec?.versions ?? []).map((v: { name: string }) => v.name).join(", ") },
          { title: "Age", cell: (c) => age(c.metadata.creationTimestamp) },
        ]}
      />
    </section>
  );
}

function Instances(props: ViewProps & { crd: K8sObject; select(crdName?: string): void }) {
  const res: Res = resOfCrd(props.crd);
  const live = useLive(props.api, listPath(res, props.namespace));
  const rows = live.items.filter(byFilter(props.filter));
  const version = (props.crd.spec?.versions ?? []).find((v: { name: string }) => v.name === res.version);
  const printer = ((version?.additionalPrinterColumns ?? []) as PrinterColumn[]).filter(
    (c) => c.jsonPath !== ".metadata.creationTimestamp",
  );
  const columns: Column<K8sObject>[] = [
    { title: "Name", cell: (o) => <span class="name">{o.metadata.name}</span> },
    ...(res.namespaced ? [{ title: "Namespace", cell: (o: K8sObject) => o.metadata.namespace }] : []),
    ...printer.map((c) => ({ title: c.name, cell: (o: K8sObject) => simplePath(o, c.jsonPath) })),
    { title: "Age", cell: (o) => age(o.metadata.creationTimestamp) },
  ];
  return (
    <section>
      <h2>
        <button type="button" class="link" onClick={() => props.select(undefined)}>
          Custom resources
        </button>{" "}
        / {res.kind} <span class="count">{rows.length}</span>
      </h2>
      <Notice error={live.error} />
      <Table
        testId="instances"
        rows={rows}
        nav={props.nav}
        open={(o) => props.open(targetOf(res, o))}
        columns={columns}
        empty={live.loaded ? `No ${res.plural}.` : "Loading…"}
      />
    </section>
  );
}
