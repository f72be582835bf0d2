// Kubernetes' two time formats on the wire, written one way everywhere.

/** metav1.Time: RFC 3339 in whole seconds, UTC (`2024-05-01T10:00:00Z`); `at`, or now when not given. */
export function rfc3339(at?: Date | number | string | null): string {
  const ms = !at ? Date.now() : typeof at === "number" ? at : undefined;
  if (ms === undefined || !Number.isFinite(ms)) return format(new Date(at!));
  // Every create, binding and Event asks for this second's text: it is made once a second.
  const second = Math.floor(ms / 1000);
  if (second !== last.second) {
    last.second = second;
    last.text = format(new Date(second * 1000));
  }
  return last.text;
}

const last = { second: Number.NaN, text: "" };
const format = (d: Date) => d.toISOString().replace(/\.\d+Z$/, "Z");

/** metav1.Time of this moment. */
export const now = (): string => rfc3339();

/** metav1.MicroTime (a Lease's renewTime, an Event's eventTime): six fractional digits. */
export function microTime(at: Date = new Date()): string {
  return at.toISOString().replace("Z", "000Z");
}
