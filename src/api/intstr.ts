// intstr.IntOrString values such as maxSurge, maxUnavailable and a budget's minAvailable.

/**
 * intstr.GetScaledValueFromIntOrPercent: an integer as it is, "N%" as N percent of total, rounded up
 * or down as the caller's field wants (upstream chooses per call site too).
 */
export function scaledValue(v: number | string, total: number, roundUp: boolean): number {
  if (typeof v === "number") return v;
  if (!v.endsWith("%")) return Number(v);
  const exact = (Number.parseInt(v, 10) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}
