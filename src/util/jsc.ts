// JavaScriptCore's heap, as Bun exposes it (bun:jsc), for the CLI's forced collections and the API
// server's streamed lists; under Node (the store's contract tests) there is none, and these do nothing.

type Jsc = { heapSize: () => number; edenGC: () => void };
const jsc: Jsc | undefined = typeof Bun === "undefined" ? undefined : (require("bun:jsc") as Jsc);

/** The heap's size now, garbage included (0 without JSC). */
export const heapSize: () => number = jsc ? jsc.heapSize : () => 0;

/** A young-generation collection: only the objects made since the last one are visited. */
export const edenCollect: () => void = jsc ? jsc.edenGC : () => {};
