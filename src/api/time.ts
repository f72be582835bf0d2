// Kubernetes' two time formats on the wire, written one way everywhere.

/** metav1.Time: RFC 3339 in whole seconds, UTC (`2024-05-01T10:00:00Z`); `at`, or now when not given. */
export function rfc3339(at?: Date | number | string | null): string {
  return (at ? new Date(at) : new Date()).toISOString().replace(/\.\d+Z$/, "Z");
}

/** metav1.Time of this moment. */
export const now = (): string => rfc3339();

/** metav1.MicroTime (a Lease's renewTime, an Event's eventTime): six fractional digits. */
export function microTime(at: Date = new Date()): string {
  return at.toISOString().replace("Z", "000Z");
}
