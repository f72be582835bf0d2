// Which pod changes make a replica controller sync its owner (changedForOwner): every change its
// sync reads of a pod does, and the others (a binding, a status write that keeps the Ready
// condition, an annotation, a resync) do not.
import { expect, test } from "bun:test";
import type { Pod } from "../../../api/kinds/pod.ts";
import { cloneJson } from "../../../api/clone.ts";
import { changedForOwner } from "./index.ts";

const ready = (status: "True" | "False", at = "2026-12-03T10:00:00Z") => ({
  type: "Ready",
  status,
  lastTransitionTime: at,
});
const base: Pod = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name: "web-abc",
    namespace: "default",
    labels: { app: "web", "pod-template-hash": "abc" },
    ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web", uid: "u1", controller: true }],
  },
  spec: { containers: [{ name: "c", image: "busybox" }] },
  status: { phase: "Running", conditions: [ready("True")] },
};
/** Whether base -> base with `edit` applied syncs the owner; no edit: the same object again (a resync). */
const syncs = (edit?: (p: Pod) => void) => {
  if (!edit) return changedForOwner(base, base);
  const p = cloneJson(base);
  edit(p);
  return changedForOwner(base, p);
};

const cases: [string, ((p: Pod) => void) | undefined, boolean][] = [
  ["the same object (a resync)", undefined, false],
  ["a binding", (p) => void (p.spec!.nodeName = "node-1"), false],
  ["an annotation", (p) => void (p.metadata!.annotations = { a: "b" }), false],
  ["a status write that keeps Ready", (p) => void (p.status!.podIP = "10.0.0.5"), false],
  ["labels in another order", (p) => void (p.metadata!.labels = { "pod-template-hash": "abc", app: "web" }), false],
  ["a label changed", (p) => void (p.metadata!.labels!.app = "api"), true],
  ["a label removed", (p) => void delete p.metadata!.labels!.app, true],
  ["a label added", (p) => void (p.metadata!.labels!.track = "canary"), true],
  ["deletion begun", (p) => void (p.metadata!.deletionTimestamp = "2026-12-03T10:05:00Z"), true],
  ["another controller", (p) => void (p.metadata!.ownerReferences![0]!.uid = "u2"), true],
  ["released (no controller)", (p) => void (p.metadata!.ownerReferences = []), true],
  ["failed (no longer active)", (p) => void (p.status!.phase = "Failed"), true],
  ["no longer ready", (p) => void (p.status!.conditions = [ready("False")]), true],
  [
    "ready again later (minReadySeconds counts from then)",
    (p) => void (p.status!.conditions = [ready("True", "2026-12-03T10:09:00Z")]),
    true,
  ],
];

for (const [what, edit, want] of cases)
  test(`${what}: ${want ? "syncs the owner" : "no sync"}`, () => expect(syncs(edit)).toBe(want));
