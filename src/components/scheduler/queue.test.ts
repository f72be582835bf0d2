// The scheduling queue hands out higher-priority pods first, FIFO among equals; a parked pod
// keeps its priority when it comes back.
import { expect, test } from "bun:test";
import { SchedulingQueue } from "./queue.ts";

test("higher priority first, FIFO among equal priorities; a re-added pod keeps its priority", async () => {
  const q = new SchedulingQueue();
  for (const [key, priority] of [
    ["a", 0],
    ["b", 10],
    ["c", 0],
    ["d", 1000],
    ["e", 10],
  ] as const)
    q.add(key, priority);
  expect(q.popReady(2)).toEqual(["d", "b"]);
  q.parkUnschedulable("d");
  q.moveAllToActive();
  expect(await q.pop()).toBe("d");
  expect(q.popReady(10)).toEqual(["e", "a", "c"]);
  q.close();
});
