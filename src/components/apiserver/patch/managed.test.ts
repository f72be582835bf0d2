// Tests of managedFields bookkeeping for non-apply writes and how it meets server-side apply.
import { describe, expect, test } from "bun:test";
import { applyPatch, fieldsV1Of, PatchError, recordUpdate } from "./index.ts";

type Obj = Record<string, any>;
const now = new Date("2026-01-02T03:04:05Z");
const pod = (image: string, labels: Record<string, string> = { app: "x" }): Obj => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p", labels },
  spec: { containers: [{ name: "c", image }] },
});
const managers = (o: Obj): string[] => (o.metadata.managedFields as Obj[]).map((e) => `${e.manager}/${e.operation}`);

describe("managedFields for non-apply writes", () => {
  test("a create gives its manager an Update entry owning every field it set", () => {
    const created = recordUpdate("Pod", undefined, pod("busybox"), { fieldManager: "kubectl-create", now }) as Obj;
    expect(created.metadata.managedFields).toEqual([
      {
        manager: "kubectl-create",
        operation: "Update",
        apiVersion: "v1",
        time: "2026-01-02T03:04:05Z",
        fieldsType: "FieldsV1",
        fieldsV1: fieldsV1Of("Pod", pod("busybox")),
      },
    ]);
  });

  test("an update moves the fields it changes from their previous manager to the writer", () => {
    const created = recordUpdate("Pod", undefined, pod("busybox"), { fieldManager: "alice", now });
    const updated = recordUpdate("Pod", created, pod("nginx"), { fieldManager: "bob", now }) as Obj;
    expect(managers(updated)).toEqual(["alice/Update", "bob/Update"]);
    const [alice, bob] = updated.metadata.managedFields as Obj[];
    expect(alice!.fieldsV1["f:spec"]["f:containers"]['k:{"name":"c"}']["f:image"]).toBeUndefined();
    expect(bob!.fieldsV1).toEqual({ "f:spec": { "f:containers": { 'k:{"name":"c"}': { "f:image": {} } } } });
  });

  test("a write without a field manager keeps the stored entries and ignores the client's", () => {
    const created = recordUpdate("Pod", undefined, pod("busybox"), { fieldManager: "alice", now });
    const sent = { ...pod("nginx"), metadata: { ...pod("nginx").metadata, managedFields: [{ manager: "forged" }] } };
    expect(managers(recordUpdate("Pod", created, sent, {}))).toEqual(["alice/Update"]);
  });

  test("a manager whose every field was taken disappears", () => {
    const created = recordUpdate(
      "Pod",
      undefined,
      { metadata: { name: "p", labels: { a: "1" } } },
      { fieldManager: "alice", now },
    );
    const updated = recordUpdate(
      "Pod",
      created,
      { metadata: { name: "p", labels: { a: "2" } } },
      { fieldManager: "bob", now },
    );
    expect(managers(updated)).toEqual(["bob/Update"]);
  });

  test("server-side apply conflicts with the manager that last changed a field", () => {
    const created = recordUpdate("Pod", undefined, pod("busybox"), { fieldManager: "kubectl-create", now });
    let err: unknown;
    try {
      applyPatch("Pod", created, pod("nginx"), "apply", { fieldManager: "kubectl", now });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PatchError);
    expect((err as PatchError).message).toBe(
      'Apply failed with 1 conflict: conflict with "kubectl-create" using v1: .spec.containers[name="c"].image',
    );
    // Applying the same values shares ownership instead.
    const applied = applyPatch("Pod", created, pod("busybox"), "apply", { fieldManager: "kubectl", now }) as Obj;
    expect(managers(applied)).toEqual(["kubectl-create/Update", "kubectl/Apply"]);
  });

  test("the input objects are not modified", () => {
    const before = recordUpdate("Pod", undefined, pod("busybox"), { fieldManager: "a", now });
    const after = pod("nginx");
    const [b, a] = [structuredClone(before), structuredClone(after)];
    recordUpdate("Pod", before, after, { fieldManager: "b", now });
    expect(before).toEqual(b);
    expect(after).toEqual(a);
  });
});
