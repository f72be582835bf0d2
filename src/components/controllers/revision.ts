// A stable short hash of a pod template: the revision label that tells old pods from new ones
// (controller-revision-hash for DaemonSets and StatefulSets, pod-template-hash for Deployments).
const ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

function fnv32a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Deterministic JSON (sorted keys) so equal templates hash equally. */
function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(",")}]`;
  if (v && typeof v === "object") return `{${Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined).map((k) => `${JSON.stringify(k)}:${stable((v as Record<string, unknown>)[k])}`).join(",")}}`;
  return JSON.stringify(v);
}

/** Like Kubernetes' SafeEncodeString(fmt.Sprint(hash)): digits mapped into a vowel-free alphabet. */
export function templateHash(template: unknown, collisionCount = 0): string {
  const n = fnv32a(stable(template) + (collisionCount ? String(collisionCount) : ""));
  return String(n).split("").map((d) => ALPHABET[Number(d)]).join("").slice(0, 10);
}
