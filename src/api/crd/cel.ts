// x-kubernetes-validations: CEL rules evaluated with @marcbachmann/cel-js (a CEL spec
// implementation with macros, has(), string functions and heterogeneous number comparison).
// `self` is the value at the rule's node, `oldSelf` the stored one on update (transition rules
// run only when the old value exists, as upstream). Kubernetes' CEL library extensions
// (quantity(), url(), ...) are not there: a rule calling them fails as "no such overload".
import { parse } from "@marcbachmann/cel-js";

type Program = ReturnType<typeof parse>;
const cache = new Map<string, Program | string>();

function program(rule: string): Program | string {
  let p = cache.get(rule);
  if (p === undefined) {
    try {
      p = parse(rule);
    } catch (err) {
      p = String(err instanceof Error ? err.message : err).split("\n")[0]!;
    }
    cache.set(rule, p);
  }
  return p;
}

/** undefined when the rule compiles, else the compiler's message. */
export function compileRule(rule: string): string | undefined {
  const p = program(rule);
  return typeof p === "string" ? p : undefined;
}

/** JSON integers become CEL ints (BigInt); everything else stays as it is. */
function toCel(v: unknown): unknown {
  if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
  if (Array.isArray(v)) return v.map(toCel);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toCel(x)]));
  return v;
}

/** true when the rule holds; a string says why it could not be evaluated. */
export function evaluateRule(rule: string, self: unknown, oldSelf: unknown, hasOld: boolean): true | false | string {
  const p = program(rule);
  if (typeof p === "string") return p;
  try {
    const vars: Record<string, unknown> = { self: toCel(self) };
    if (hasOld) vars.oldSelf = toCel(oldSelf);
    return p(vars) === true;
  } catch (err) {
    return String(err instanceof Error ? err.message : err).split("\n")[0]!;
  }
}

export function usesOldSelf(rule: string): boolean {
  return /\boldSelf\b/.test(rule);
}
