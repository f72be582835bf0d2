// Many callers, one request: each caller is answered by a call that started at or after its own
// call (so it sees everything it did before asking), and while one call runs, everyone who asks
// meanwhile shares the single next one. A burst of 50 pod workers listing their containers costs
// two or three node-wide lists instead of fifty.

export function freshShared<T>(fn: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  let queued: Promise<T> | undefined;
  return () => {
    if (queued) return queued;
    const prev = running;
    let p: Promise<T>;
    if (!prev) p = fn();
    else {
      p = prev
        .catch(() => undefined)
        .then(() => {
          if (queued === p) queued = undefined;
          return fn();
        });
      queued = p;
    }
    running = p;
    p.catch(() => undefined).finally(() => {
      if (running === p) running = undefined;
    });
    return p;
  };
}
