// The arithmetic of a rolling update, as Kubernetes does it: maxSurge rounds up, maxUnavailable
// rounds down, both zero means one may be unavailable.
import { scaledValue } from "../../../api/intstr.ts";
export function surgeAndUnavailable(
  replicas: number,
  rollingUpdate: { maxSurge?: number | string; maxUnavailable?: number | string } | undefined,
): { maxSurge: number; maxUnavailable: number } {
  const maxSurge = scaledValue(rollingUpdate?.maxSurge ?? "25%", replicas, true);
  let maxUnavailable = scaledValue(rollingUpdate?.maxUnavailable ?? "25%", replicas, false);
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable: Math.min(maxUnavailable, replicas) };
}

/** How many replicas the new ReplicaSet may have now. */
export function newReplicaCount(replicas: number, current: number, totalOfAll: number, maxSurge: number): number {
  const maxTotal = replicas + maxSurge;
  if (totalOfAll >= maxTotal) return current;
  return Math.min(replicas, current + (maxTotal - totalOfAll));
}

/** How many old replicas may go now while keeping replicas - maxUnavailable available. */
export function oldScaleDownBudget(
  replicas: number,
  maxUnavailable: number,
  totalOfAll: number,
  newUnavailable: number,
): number {
  const minAvailable = replicas - maxUnavailable;
  return Math.max(0, totalOfAll - minAvailable - newUnavailable);
}
