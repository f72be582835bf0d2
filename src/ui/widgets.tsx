// Small shared pieces: the keyboard-navigable row list, tables, sparklines, notices.
import type { ComponentChildren } from "preact";

/**
 * The rows on screen, so j/k/Enter can move over and open them. Each table owns a segment
 * (re-filled whenever it renders; tables re-render on their own when their watch moves), and
 * segments are ordered by their place on the page.
 */
export class Rows {
  private readonly segments = new Map<string, { order: number; opens: (() => void)[] }>();
  constructor(readonly cursor: number) {}

  segment(id: string, order: number): { add(open: () => void): boolean } {
    const seg = { order, opens: [] as (() => void)[] };
    this.segments.set(id, seg);
    const offset = () =>
      [...this.segments.values()].filter((s) => s.order < order).reduce((n, s) => n + s.opens.length, 0);
    return { add: (open) => offset() + seg.opens.push(open) - 1 === this.cursor };
  }

  drop(id: string): void {
    this.segments.delete(id);
  }

  get opens(): (() => void)[] {
    return [...this.segments.values()].sort((a, b) => a.order - b.order).flatMap((s) => s.opens);
  }
}

export interface Column<T> {
  title: string;
  cell: (row: T) => ComponentChildren;
  className?: string;
}

export function Table<T>(props: {
  rows: T[];
  columns: Column<T>[];
  nav: Rows;
  /** Place on the page among the tables of one view. */
  order?: number;
  open: (row: T) => void;
  testId?: string;
  empty?: string;
}) {
  const seg = props.nav.segment(props.testId ?? "table", props.order ?? 0);
  return (
    <table class="grid" data-testid={props.testId}>
      <thead>
        <tr>
          {props.columns.map((c) => (
            <th class={c.className}>{c.title}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.rows.length === 0 && (
          <tr>
            <td class="empty" colSpan={props.columns.length}>
              {props.empty ?? "Nothing here."}
            </td>
          </tr>
        )}
        {props.rows.map((row) => {
          const selected = seg.add(() => props.open(row));
          return (
            <tr
              class={selected ? "selected" : ""}
              onClick={(e) => {
                if (!(e.target as HTMLElement).closest("a,button,input")) props.open(row);
              }}
            >
              {props.columns.map((c) => (
                <td class={c.className}>{c.cell(row)}</td>
              ))}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** A tiny line chart of the last samples. */
export function Spark(props: { values: number[]; label: string; format: (v: number) => string }) {
  // One sample draws a flat line.
  const v = props.values.length === 1 ? [props.values[0]!, props.values[0]!] : props.values;
  if (v.length === 0) return <span class="muted">…</span>;
  const max = Math.max(...v, 1e-9);
  const w = 90;
  const h = 22;
  const pts = v.map((x, i) => `${(i / Math.max(1, v.length - 1)) * w},${h - (x / max) * (h - 2) - 1}`).join(" ");
  return (
    <span class="spark" title={`${props.label}: ${props.format(v[v.length - 1]!)}`}>
      <svg width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={props.label}>
        <polyline points={pts} fill="none" stroke="currentColor" stroke-width="1.5" />
      </svg>
      <span>{props.format(v[v.length - 1]!)}</span>
    </span>
  );
}

export const fmtCpu = (c: number) => (c < 1 ? `${Math.round(c * 1000)}m` : `${c.toFixed(2)}`);
export function fmtBytes(b: number): string {
  if (b >= 1024 ** 3) return `${(b / 1024 ** 3).toFixed(1)}Gi`;
  if (b >= 1024 ** 2) return `${(b / 1024 ** 2).toFixed(0)}Mi`;
  if (b >= 1024) return `${(b / 1024).toFixed(0)}Ki`;
  return `${b}`;
}

export function Notice(props: { error?: string; children?: ComponentChildren }) {
  if (!props.error) return null;
  return (
    <div class="notice" role="alert">
      {props.error}
      {props.children}
    </div>
  );
}

export function Badge(props: { tone: "ok" | "warn" | "bad" | "info"; children: ComponentChildren }) {
  return <span class={`badge ${props.tone}`}>{props.children}</span>;
}
