// Node credentials: what a joined node authenticates with, checked once and then known until it expires.
import { expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { NODE_CREDENTIAL_SECONDS, NodeCredentials } from "./node-credentials.ts";

test("a node credential names its node until it expires, also once its check is remembered", () => {
  const creds = new NodeCredentials(randomBytes(32));
  const t0 = 1_800_000_000;
  const { token, exp } = creds.issue({ name: "system:node:n1", groups: ["system:nodes"] }, t0);
  expect(exp).toBe(t0 + NODE_CREDENTIAL_SECONDS);
  const user = { name: "system:node:n1", groups: ["system:nodes", "system:authenticated"] };
  expect(creds.userOf(token, t0 + 1)).toEqual(user);
  expect(creds.userOf(token, t0 + 2)).toEqual(user);
  expect(creds.userOf(token, exp + 1)).toBeUndefined();
  // Signed by another cluster, or altered: no user.
  expect(new NodeCredentials(randomBytes(32)).userOf(token, t0 + 1)).toBeUndefined();
  const [h, p, sig] = token.split(".");
  expect(creds.userOf(`${h}.${p}.${sig!.slice(0, -2)}AA`, t0 + 1)).toBeUndefined();
  expect(creds.userOf("not-a-jwt", t0 + 1)).toBeUndefined();
});
