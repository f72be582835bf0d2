// Kubernetes resource quantities ("100m", "1.5", "128Mi", "1e3", "2G") as numbers in base
// units, and back to the short forms kubectl prints.
const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?)$/;

export class QuantityError extends Error {
  override name = "QuantityError";
}

export function isValidQuantity(s: unknown): boolean {
  return (typeof s === "string" && QUANTITY.test(s.trim())) || (typeof s === "number" && Number.isFinite(s));
}

/**
 * Parsed quantity texts: a cluster's pods repeat a handful ("100m", "500Mi"), and each pod's were
 * parsed by validation, by the scheduler for every cycle and placement, by quota and limits. Bounded:
 * cleared when full.
 */
const parsed = new Map<string, number>();
const PARSED_MAX = 4096;

/** The quantity in base units (cores for cpu, bytes for memory). Throws QuantityError. */
export function parseQuantity(q: string | number): number {
  if (typeof q === "number") return q;
  let n = parsed.get(q);
  if (n === undefined) {
    n = parseText(q);
    if (parsed.size >= PARSED_MAX) parsed.clear();
    parsed.set(q, n);
  }
  return n;
}

function parseText(q: string): number {
  const m = q.trim().match(QUANTITY);
  if (!m)
    throw new QuantityError(
      `quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
    );
  const n = Number(m[1]);
  if (m[2]) return n * 10 ** Number(m[2].slice(1));
  return n * SUFFIX[m[3] ?? ""]!;
}

/** CPU in millicores, rounded up like Kubernetes' MilliValue. */
export function cpuMillis(q: string | number | undefined): number {
  if (q === undefined || q === "") return 0;
  return Math.ceil(Math.round(parseQuantity(q) * 1e6) / 1e3);
}

export function memoryBytes(q: string | number | undefined): number {
  if (q === undefined || q === "") return 0;
  return Math.ceil(parseQuantity(q));
}

export function formatCpuMillis(m: number): string {
  return m % 1000 === 0 ? String(m / 1000) : `${m}m`;
}

export function formatBytes(b: number): string {
  for (const [suffix, size] of [
    ["Gi", 2 ** 30],
    ["Mi", 2 ** 20],
    ["Ki", 2 ** 10],
  ] as const)
    if (b >= size && b % size === 0) return `${b / size}${suffix}`;
  if (b >= 2 ** 20) return `${Math.round(b / 2 ** 20)}Mi`;
  return String(b);
}
