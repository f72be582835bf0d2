import { describe, expect, test } from "bun:test";
import { waitFor } from "../../../test/helpers/wait.ts";
import { Pleg, PlegStoppedError } from "./pleg.ts";
import type { ContainerInfo, ContainerState } from "./runtime/index.ts";

const box = (podUid: string, id: string, state: ContainerState) => ({ podUid, id, state }) as ContainerInfo;

/** Lets every promise already settled run its callbacks. */
const flush = () => new Promise((r) => setImmediate(r));

/** A Pleg over a list the test sets, recording the pods it reports. */
function plegOver(initial: ContainerInfo[] = []) {
  const world = { containers: initial, changed: [] as string[] };
  const pleg = new Pleg(
    async () => world.containers,
    (uid) => world.changed.push(uid),
    () => {},
  );
  return { world, pleg };
}

describe("relist", () => {
  test("a pod is reported when its containers appear, change state or go, and not when nothing changed", async () => {
    const { world, pleg } = plegOver([box("a", "1", "running")]);
    await pleg.relist();
    expect(world.changed).toEqual(["a"]);
    await pleg.relist();
    expect(world.changed).toEqual(["a"]);
    world.containers = [box("a", "1", "exited"), box("b", "2", "created")];
    await pleg.relist();
    expect(world.changed).toEqual(["a", "a", "b"]);
    world.containers = [box("a", "1", "exited"), box("a", "3", "running"), box("b", "2", "running")];
    await pleg.relist();
    expect(world.changed).toEqual(["a", "a", "b", "a", "b"]);
    world.containers = [box("b", "2", "running")];
    await pleg.relist();
    expect(world.changed).toEqual(["a", "a", "b", "a", "b", "a"]);
    expect(await pleg.containers("a")).toEqual([]);
    expect(await pleg.containers("b")).toEqual([box("b", "2", "running")]);
  });

  test("a pod reported by a relist reads what that relist saw", async () => {
    let containers = [box("a", "1", "running")];
    const read: ContainerInfo[][] = [];
    const pleg: Pleg = new Pleg(
      async () => containers,
      (uid) => void pleg.containers(uid).then((c) => read.push(c)),
      () => {},
    );
    await pleg.relist();
    containers = [box("a", "1", "exited")];
    await pleg.relist();
    expect(read).toEqual([[box("a", "1", "running")], [box("a", "1", "exited")]]);
  });

  test("a failed list reports nothing and keeps the last containers", async () => {
    let fail = false;
    const changed: string[] = [];
    const logs: string[] = [];
    const pleg = new Pleg(
      async () => {
        if (fail) throw new Error("engine answered 500");
        return [box("a", "1", "running")];
      },
      (uid) => changed.push(uid),
      (m) => logs.push(m),
    );
    await pleg.relist();
    fail = true;
    await pleg.relist();
    expect(changed).toEqual(["a"]);
    expect(logs).toEqual(["relisting the runtime's containers: engine answered 500"]);
    expect(await pleg.containers("a")).toEqual([box("a", "1", "running")]);
  });
});

describe("reading a pod's containers", () => {
  test("before the first relist, a reader waits for it", async () => {
    const { pleg } = plegOver([box("a", "1", "running")]);
    const read = pleg.containers("a");
    await pleg.relist();
    expect(await read).toEqual([box("a", "1", "running")]);
  });

  test("a reader that changed the runtime waits for a relist begun after its change, not one under way", async () => {
    const { world, pleg } = plegOver([box("a", "1", "running")]);
    await pleg.relist();
    // A relist begins, its list answering late: the change below is made while it is under way.
    let answer!: (list: ContainerInfo[]) => void;
    const slow = new Pleg(
      () => new Promise<ContainerInfo[]>((r) => (answer = r)),
      () => {},
      () => {},
    );
    const first = slow.relist();
    const changedAt = performance.now();
    world.containers = [box("a", "1", "exited"), box("a", "2", "running")];
    let read: ContainerInfo[] | undefined;
    void slow.containers("a", changedAt).then((c) => (read = c));
    answer([box("a", "1", "exited")]);
    await first;
    await flush();
    expect(read).toBeUndefined();
    // The next relist began after the change: the reader gets it.
    const second = slow.relist();
    answer(world.containers);
    await second;
    await flush();
    expect(read).toEqual([box("a", "1", "exited"), box("a", "2", "running")]);
    // Without a change since, the last relist is read at once.
    expect(await pleg.containers("a")).toEqual([box("a", "1", "running")]);
  });

  test("stopping ends a wait with PlegStoppedError", async () => {
    const { pleg } = plegOver();
    const read = pleg.containers("a");
    pleg.stop();
    await expect(read).rejects.toBeInstanceOf(PlegStoppedError);
    await pleg.relist();
    await expect(pleg.containers("a", performance.now())).rejects.toBeInstanceOf(PlegStoppedError);
  });
});

describe("a list that never answers", () => {
  test("is given up after the list timeout; the next relist lists again and wakes a waiting worker", async () => {
    const logged: string[] = [];
    let calls = 0;
    const answered = [box("a", "1", "running")];
    const pleg = new Pleg(
      () => (++calls === 1 ? new Promise<ContainerInfo[]>(() => {}) : Promise.resolve(answered)),
      () => {},
      (msg) => logged.push(msg),
      20,
    );
    const waiting = pleg.containers("a");
    await pleg.relist();
    expect(logged).toEqual([
      "relisting the runtime's containers: the runtime did not answer a container list within 20 ms",
    ]);
    await pleg.relist();
    expect(calls).toBe(2);
    expect(await waiting).toEqual(answered);
  });
});

describe("relists asked for (the runtime told of a change)", () => {
  /** A Pleg whose lists answer when the test says (answers holds one per list begun and unanswered). */
  function manual(minIntervalMs: number) {
    const answers: ((list: ContainerInfo[]) => void)[] = [];
    const pleg = new Pleg(
      () => new Promise<ContainerInfo[]>((r) => answers.push(r)),
      () => {},
      () => {},
      undefined,
      minIntervalMs,
    );
    const answerAll = async () => {
      for (const a of answers.splice(0)) a([box("a", "1", "running")]);
      await flush();
    };
    return { pleg, answers, answerAll };
  }

  test("a request relists at once once the interval has passed, else when it has; many requests make one relist", async () => {
    let calls = 0;
    const pleg = new Pleg(
      async () => {
        calls++;
        return [];
      },
      () => {},
      () => {},
      undefined,
      200,
    );
    await pleg.relist();
    pleg.request();
    pleg.request();
    expect(calls).toBe(1); // the last relist began less than 200 ms ago: this one waits
    await waitFor("the deferred relist", () => calls === 2);
    await Bun.sleep(50);
    expect(calls).toBe(2); // the two requests made one relist
    await Bun.sleep(250);
    pleg.request();
    expect(calls).toBe(3); // the interval has passed: at once
    pleg.stop();
  });

  test("requests made during a relist bring one more relist after it, not during it", async () => {
    const { pleg, answers, answerAll } = manual(0);
    const first = pleg.relist();
    pleg.request();
    pleg.request();
    expect(answers.length).toBe(1);
    answers.shift()!([]);
    await first;
    expect(answers.length).toBe(1); // began when the first ended
    await answerAll();
    expect(answers.length).toBe(0);
    pleg.stop();
  });

  test("a reader waiting for a relist newer than its change asks for one (no period needed)", async () => {
    const { pleg, answerAll } = manual(10);
    const first = pleg.relist();
    await answerAll();
    await first;
    const read = pleg.containers("a", performance.now());
    await waitFor("the relist the reader asked for", async () => {
      await answerAll();
      return Bun.peek.status(read) === "fulfilled";
    });
    expect(await read).toEqual([box("a", "1", "running")]);
    pleg.stop();
  });

  test("a failed relist is tried again (after the interval) while a reader waits", async () => {
    let calls = 0;
    const pleg = new Pleg(
      async () => {
        if (++calls === 2) throw new Error("engine answered 500");
        return [box("a", "1", "running")];
      },
      () => {},
      () => {},
      undefined,
      10,
    );
    await pleg.relist();
    expect(await pleg.containers("a", performance.now())).toEqual([box("a", "1", "running")]);
    expect(calls).toBe(3);
    pleg.stop();
  });

  test("without an interval (no events), a waiting reader asks for no relist", async () => {
    const { pleg, answers, answerAll } = manual(0);
    const first = pleg.relist();
    await answerAll();
    await first;
    void pleg.containers("a", performance.now()).catch(() => {});
    await Bun.sleep(20);
    expect(answers.length).toBe(0);
    pleg.stop();
  });
});
