// Label selectors (equality- and set-based, from strings or LabelSelector objects) and field
// selectors, parsed once into matchers. Parse errors carry a message fit for a 400 Status.
export type Operator = "=" | "!=" | "in" | "notin" | "exists" | "!";
export interface Requirement {
  key: string;
  op: Operator;
  values: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export class SelectorError extends Error {
  override name = "SelectorError";
}

/** Splits on commas that are not inside parentheses. */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of s) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out.map((t) => t.trim()).filter((t) => t !== "");
}

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function checkKey(key: string, whole: string): string {
  if (!KEY.test(key)) throw new SelectorError(`unable to parse requirement: invalid label key "${key}" in "${whole}"`);
  return key;
}
function checkValue(v: string, whole: string): string {
  if (v.length > 63 || !VALUE.test(v))
    throw new SelectorError(`unable to parse requirement: invalid label value "${v}" in "${whole}"`);
  return v;
}

/** Parses "a=b,c!=d,e in (x,y),f notin (z),g,!h". An empty string selects everything. */
export function parseLabelSelector(s: string): Requirement[] {
  const reqs: Requirement[] = [];
  for (const term of splitTerms(s)) {
    let m: RegExpMatchArray | null;
    if ((m = term.match(/^(\S+)\s+(in|notin)\s*\((.*)\)$/))) {
      const values = m[3]!.split(",").map((v) => checkValue(v.trim(), term));
      reqs.push({ key: checkKey(m[1]!, term), op: m[2] as Operator, values });
    } else if ((m = term.match(/^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/))) {
      reqs.push({
        key: checkKey(m[1]!, term),
        op: m[2] === "!=" ? "!=" : "=",
        values: [checkValue(m[3]!.trim(), term)],
      });
    } else if ((m = term.match(/^!\s*(\S+)$/))) {
      reqs.push({ key: checkKey(m[1]!, term), op: "!", values: [] });
    } else if (KEY.test(term)) {
      reqs.push({ key: term, op: "exists", values: [] });
    } else throw new SelectorError(`unable to parse requirement: "${term}"`);
  }
  return reqs;
}

/** A LabelSelector object (or an RC's plain map) as requirements. */
export function requirementsOf(sel: LabelSelector | Record<string, string> | undefined | null): Requirement[] {
  if (!sel) return [];
  const isObj = "matchLabels" in sel || "matchExpressions" in sel;
  if (!isObj) return Object.entries(sel as Record<string, string>).map(([key, v]) => ({ key, op: "=", values: [v] }));
  const s = sel as LabelSelector;
  const reqs: Requirement[] = Object.entries(s.matchLabels ?? {}).map(([key, v]) => ({
    key,
    op: "=" as Operator,
    values: [v],
  }));
  for (const e of s.matchExpressions ?? []) {
    const op = ({ In: "in", NotIn: "notin", Exists: "exists", DoesNotExist: "!" } as Record<string, Operator>)[
      e.operator
    ];
    if (!op) throw new SelectorError(`"${e.operator}" is not a valid label selector operator`);
    reqs.push({ key: e.key, op, values: e.values ?? [] });
  }
  return reqs;
}

export function matchesLabels(reqs: Requirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  for (const r of reqs) {
    const has = Object.hasOwn(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case "=":
        if (v !== r.values[0]) return false;
        break;
      case "!=":
        if (has && v === r.values[0]) return false;
        break;
      case "in":
        if (!has || !r.values.includes(v!)) return false;
        break;
      case "notin":
        if (has && r.values.includes(v!)) return false;
        break;
      case "exists":
        if (!has) return false;
        break;
      case "!":
        if (has) return false;
        break;
    }
  }
  return true;
}

/**
 * Whether a LabelSelector object selects these labels. An empty selector object selects
 * everything; a missing one selects nothing (as Kubernetes treats nil selectors).
 */
export function selectorMatches(
  sel: LabelSelector | Record<string, string> | undefined | null,
  labels: Record<string, string> | undefined,
): boolean {
  if (!sel) return false;
  return matchesLabels(requirementsOf(sel), labels);
}

export function selectorToString(sel: LabelSelector | Record<string, string> | undefined | null): string {
  return requirementsOf(sel)
    .map((r) => {
      if (r.op === "=" || r.op === "!=") return `${r.key}${r.op}${r.values[0]}`;
      if (r.op === "in" || r.op === "notin") return `${r.key} ${r.op} (${r.values.join(",")})`;
      return r.op === "!" ? `!${r.key}` : r.key;
    })
    .join(",");
}

export interface FieldRequirement {
  field: string;
  op: "=" | "!=";
  value: string;
}

/** Parses "metadata.name=x,spec.nodeName!=y" (== is the same as =). */
export function parseFieldSelector(s: string): FieldRequirement[] {
  return splitTerms(s).map((term) => {
    const m = term.match(/^([^=!]+?)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw new SelectorError(`invalid selector: '${term}'; can't understand '${term}'`);
    return { field: m[1]!.trim(), op: m[2] === "!=" ? "!=" : "=", value: m[3]!.trim() };
  });
}

/** The value at a dotted path ("spec.nodeName"), as a string, or undefined. */
export function fieldValue(obj: unknown, path: string): string | undefined {
  let cur: unknown = obj;
  for (const part of path.split("."))
    cur = cur && typeof cur === "object" ? (cur as Record<string, unknown>)[part] : undefined;
  if (cur === undefined || cur === null) return undefined;
  return typeof cur === "object" ? JSON.stringify(cur) : String(cur);
}
