// The store's cached small lists and cached reads for updates against the database itself: after
// any sequence of writes (some issued in the same turn, so in one transaction) a whole-prefix list
// equals a paged one (which never comes from the cache), and preconditions see every write.
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { openStore } from "../index.ts";
import { ConflictError, KeyExistsError, NotFoundError } from "../types.ts";

const prefixes = ["/registry/limitranges/a/", "/registry/limitranges/b/", "/registry/limitrangesx/a/", "/other/x/"];
const write = fc.record({
  op: fc.constantFrom("create", "update", "delete", "get"),
  prefix: fc.nat(prefixes.length - 1),
  name: fc.constantFrom("n1", "n2", "n3"),
  sameTurn: fc.boolean(),
});

test("whole-prefix lists and update preconditions stay exact through any writes", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kube-listcache-"));
  const s = await openStore({ dataDir: dir });
  let seq = 0;
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(write, { minLength: 1, maxLength: 30 }), async (ops) => {
        let turn: Promise<unknown>[] = [];
        for (const o of ops) {
          const key = `${prefixes[o.prefix]}${o.name}`;
          const value = `v${seq++}`;
          const p =
            o.op === "create"
              ? s.create(key, value)
              : o.op === "update"
                ? s.update(key, value, 0)
                : o.op === "delete"
                  ? s.delete(key, 0)
                  : s.get(key);
          turn.push(p.catch((e) => expect(e instanceof KeyExistsError || e instanceof NotFoundError).toBe(true)));
          if (!o.sameTurn) {
            await Promise.all(turn);
            turn = [];
            for (const prefix of prefixes) {
              const whole = await s.list(prefix);
              const paged = await s.list(prefix, { limit: 1000 });
              expect(whole.kvs).toEqual(paged.kvs);
            }
          }
        }
        await Promise.all(turn);
        for (const prefix of prefixes)
          expect((await s.list(prefix)).kvs).toEqual((await s.list(prefix, { limit: 1000 })).kvs);
      }),
      { numRuns: 40 },
    );
    // Two updates of a read (cached) key in one transaction: the second's precondition sees the first.
    const kv = await s.create("/registry/limitranges/c/x", "0");
    await s.get("/registry/limitranges/c/x");
    const [a, b] = await Promise.allSettled([
      s.update("/registry/limitranges/c/x", "1", kv.modRevision),
      s.update("/registry/limitranges/c/x", "2", kv.modRevision),
    ]);
    expect(a.status).toBe("fulfilled");
    expect(b.status === "rejected" && b.reason instanceof ConflictError).toBe(true);
    expect((await s.get("/registry/limitranges/c/x")).kv?.value).toBe("1");
    // A create of a key deleted in the same transaction succeeds.
    const [d, c] = await Promise.allSettled([
      s.delete("/registry/limitranges/c/x", 0),
      s.create("/registry/limitranges/c/x", "3"),
    ]);
    expect([d.status, c.status]).toEqual(["fulfilled", "fulfilled"]);
    expect((await s.list("/registry/limitranges/c/")).kvs.map((k) => k.value)).toEqual(["3"]);
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
