// Namespaces: picking one scopes every other view (the selector in the top bar does the same).
import { byFilter, type ViewProps } from "../context.ts";
import { useLive } from "../hooks.ts";
import { age, listPath, R } from "../resources.ts";
import { Badge, Notice, Table } from "../widgets.tsx";

export function NamespacesView(props: ViewProps) {
  const live = useLive(props.api, listPath(R.namespaces, ""));
  const rows = live.items.filter(byFilter(props.filter));
  return (
    <section>
      <h2>
        Namespaces <span class="count">{rows.length}</span>
      </h2>
      <Notice error={live.error} />
      <Table
        testId="namespaces"
        rows={rows}
        nav={props.nav}
        open={(n) => props.setNamespace(n.metadata.name)}
        columns={[
          { title: "Name", cell: (n) => <span class="name">{n.metadata.name}</span> },
          {
            title: "Status",
            cell: (n) => (
              <Badge tone={n.status?.phase === "Terminating" ? "warn" : "ok"}>{n.status?.phase ?? "Active"}</Badge>
            ),
          },
          { title: "Age", cell: (n) => age(n.metadata.creationTimestamp) },
        ]}
      />
    </section>
  );
}
