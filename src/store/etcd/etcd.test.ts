// The Store contract against a real etcd (Debian's etcd-server), started for this file: each
// store gets its own key prefix (from its temp dir), so reopening the same dir sees its keys.
import { afterAll, beforeAll, describe, test } from "bun:test";
import { basename } from "node:path";
import { startEtcd, type TestEtcd } from "../../../test/helpers/etcd.ts";
import { storeContract } from "../../../test/helpers/store-contract.ts";
import { openStore } from "../index.ts";

let etcd: TestEtcd;
beforeAll(async () => {
  etcd = await startEtcd();
});
afterAll(() => etcd?.stop());

storeContract({ describe, test }, (dir, opts) =>
  openStore({ dataDir: dir, ...opts, etcd: { endpoints: [etcd.endpoint], prefix: `/kube-test/${basename(dir)}` } }),
);
