// The Store contract under Node with better-sqlite3: bundled by `bun build --target=node`
// and run by `node --test` (see package.json's test:node).
import { describe, test } from "node:test";
import { storeContract } from "../helpers/store-contract.ts";
import { openStore } from "../../src/store/index.ts";

storeContract({ describe, test }, (dir, opts) => openStore({ dataDir: dir, ...opts }));
