// RBAC policy rules as kube-apiserver evaluates them (pkg/apis/rbac/v1 evaluation helpers):
// matching a request against a rule, and whether one set of rules covers another (escalation
// prevention). Pure functions over plain objects.
import type { PolicyRule } from "../../../api/kinds/access.ts";
import type { Attributes } from "./attributes.ts";

export type { PolicyRule };

const has = (list: string[] | undefined, v: string) => !!list && (list.includes("*") || list.includes(v));

function resourceMatches(rule: PolicyRule, combined: string, sub: string): boolean {
  for (const r of rule.resources ?? []) {
    if (r === "*" || r === combined) return true;
    // "*/scale" matches the scale subresource of every resource.
    if (sub && r.length === sub.length + 2 && r.startsWith("*/") && r.endsWith(sub)) return true;
  }
  return false;
}

function urlMatches(rule: PolicyRule, path: string): boolean {
  for (const u of rule.nonResourceURLs ?? []) {
    if (u === "*" || u === path) return true;
    if (u.endsWith("*") && path.startsWith(u.slice(0, -1))) return true;
  }
  return false;
}

/** Whether one rule allows the request. */
export function ruleAllows(a: Attributes, rule: PolicyRule): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (!a.resourceRequest) return urlMatches(rule, a.path);
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  if (!has(rule.apiGroups, a.apiGroup) || !resourceMatches(rule, combined, a.subresource)) return false;
  return !rule.resourceNames?.length || rule.resourceNames.includes(a.name);
}

export const rulesAllow = (a: Attributes, rules: PolicyRule[]) => rules.some((r) => ruleAllows(a, r));

/** One rule per group, resource, verb and name (or URL, verb): the unit of Covers. */
function breakdown(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const group of rule.apiGroups ?? [])
    for (const resource of rule.resources ?? [])
      for (const verb of rule.verbs) {
        if (rule.resourceNames?.length)
          for (const name of rule.resourceNames)
            out.push({ apiGroups: [group], resources: [resource], resourceNames: [name], verbs: [verb] });
        else out.push({ apiGroups: [group], resources: [resource], verbs: [verb] });
      }
  for (const url of rule.nonResourceURLs ?? [])
    for (const verb of rule.verbs) out.push({ nonResourceURLs: [url], verbs: [verb] });
  return out;
}

function ruleCovers(owner: PolicyRule, servant: PolicyRule): boolean {
  const every = (o: string[] | undefined, s: string[] | undefined) => (s ?? []).every((v) => has(o, v));
  if (!every(owner.verbs, servant.verbs) || !every(owner.apiGroups, servant.apiGroups)) return false;
  for (const r of servant.resources ?? []) {
    const ok = (owner.resources ?? []).some(
      (o) =>
        o === "*" ||
        o === r ||
        (o.endsWith("/*") && r.startsWith(o.slice(0, -1))) ||
        (o.startsWith("*/") && r.includes("/") && r.endsWith(o.slice(1))),
    );
    if (!ok) return false;
  }
  for (const u of servant.nonResourceURLs ?? []) {
    const ok = (owner.nonResourceURLs ?? []).some(
      (o) => o === "*" || o === u || (o.endsWith("*") && u.startsWith(o.slice(0, -1))),
    );
    if (!ok) return false;
  }
  if (owner.resourceNames?.length && !(servant.resourceNames ?? []).every((n) => owner.resourceNames!.includes(n)))
    return false;
  if (owner.resourceNames?.length && !servant.resourceNames?.length) return false;
  return true;
}

/** The broken-down servant rules that no owner rule covers (empty: the owner holds them all). */
export function uncovered(owner: PolicyRule[], servant: PolicyRule[]): PolicyRule[] {
  return servant.flatMap(breakdown).filter((s) => !owner.some((o) => ruleCovers(o, s)));
}

const q = (list: string[]) => `[${list.map((s) => JSON.stringify(s)).join(" ")}]`;

/** PolicyRule.CompactString(): {APIGroups:[""], Resources:["pods"], Verbs:["get"]}. */
export function compactString(r: PolicyRule): string {
  const parts: string[] = [];
  if (r.apiGroups?.length) parts.push(`APIGroups:${q(r.apiGroups)}`);
  if (r.resources?.length) parts.push(`Resources:${q(r.resources)}`);
  if (r.nonResourceURLs?.length) parts.push(`NonResourceURLs:${q(r.nonResourceURLs)}`);
  if (r.resourceNames?.length) parts.push(`ResourceNames:${q(r.resourceNames)}`);
  if (r.verbs.length) parts.push(`Verbs:${q(r.verbs)}`);
  return `{${parts.join(", ")}}`;
}

export { q as quoteList };
