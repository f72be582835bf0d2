// Preferred node affinity: the weights of the node selector terms a node matches.
import { termMatches } from "../../../api/scheduling.ts";
import type { NodeInfo, Plugin } from "../types.ts";

export const nodeAffinityScore: Plugin = {
  name: "NodeAffinityPreferred",
  preScore: (state) => !!state.pod.spec.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length,
  score(state, info: NodeInfo) {
    const preferred = state.pod.spec.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    let total = 0;
    for (const p of preferred) if (termMatches(p.preference, info.node)) total += p.weight;
    return total;
  },
  normalize: "max",
  weight: 2,
};
