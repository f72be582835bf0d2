/** A request handler that finishes when the test says so (flow-control and priority-level tests hold seats with it). */
export function held() {
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  let started = false;
  const handle = async () => {
    started = true;
    await done;
    return new Response("ok");
  };
  return { handle, finish, started: () => started };
}
