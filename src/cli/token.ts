// `kube token create|list|delete`: join tokens for `kube agent`, kept as upstream keeps bootstrap
// tokens (a Secret kube-system/bootstrap-token-<id>, api/bootstrap-token.ts), so every API server of
// the cluster accepts them and nothing else stores them. `create` prints K10<sha256 of the CA>::<id>.<secret>,
// the CA being what the server serves at /cacerts, read over this kubeconfig's verified connection.
import type { CAC } from "cac";
import { createHash, randomInt } from "node:crypto";
import {
  BOOTSTRAP_TOKEN_NAMESPACE,
  BOOTSTRAP_TOKEN_SECRET_PREFIX,
  BOOTSTRAP_TOKEN_TYPE,
  BOOTSTRAPPERS_GROUP,
  CACERTS_PATH,
  formatJoinToken,
} from "../api/bootstrap-token.ts";
import { rfc3339 } from "../api/time.ts";
import type { KubeObject } from "../api/types.ts";
import { apiErrorFrom, isNotFound } from "../client/index.ts";
import { cliContext, withGlobals, type GlobalOptions } from "./context.ts";
import { action, CliError } from "./fail.ts";
import { formatTable } from "./printers.ts";
import { durationMs } from "./up.ts";

type Secret = KubeObject & { type?: string; data?: Record<string, string> };

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
const randomText = (n: number) => Array.from({ length: n }, () => ALPHABET[randomInt(ALPHABET.length)]).join("");
const b64 = (s: string) => Buffer.from(s).toString("base64");
const unb64 = (s: string | undefined) => (s ? Buffer.from(s, "base64").toString() : "");
/** The group kube's join tokens add (k3s: system:bootstrappers:k3s:default-node-token). */
const EXTRA_GROUP = `${BOOTSTRAPPERS_GROUP}:kube:default-node-token`;

/** kubeadm's --ttl: a duration, or 0 for a token that never expires. */
const ttlMs = (value: string) => (value === "0" || value === "0s" ? 0 : durationMs(value, "ttl"));

export function registerToken(cli: CAC): void {
  withGlobals(cli.command("token <verb> [...ids]", "Join tokens for `kube agent`: create, list, delete ID..."))
    .option("--ttl <duration>", "How long a created token stays valid (0: never expires)", { default: "24h" })
    .option("--description <text>", "A note kept with the token")
    .action(
      action(async (verb: string, ids: string[], opts: GlobalOptions & { ttl?: string; description?: string }) => {
        const { client } = cliContext(opts);
        const secrets = client.resource<Secret>("secrets", BOOTSTRAP_TOKEN_NAMESPACE);
        if (verb === "create") {
          const ttl = ttlMs(String(opts.ttl ?? "24h"));
          const res = await client.request("GET", CACERTS_PATH);
          if (!res.ok) throw await apiErrorFrom(res);
          const caHash = createHash("sha256")
            .update(await res.text())
            .digest("hex");
          const id = randomText(6);
          const secret = randomText(16);
          const data: Record<string, string> = {
            "token-id": b64(id),
            "token-secret": b64(secret),
            "usage-bootstrap-authentication": b64("true"),
            "usage-bootstrap-signing": b64("true"),
            "auth-extra-groups": b64(EXTRA_GROUP),
          };
          if (ttl) data.expiration = b64(rfc3339(new Date(Date.now() + ttl)));
          if (opts.description) data.description = b64(opts.description);
          await secrets.create({
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: BOOTSTRAP_TOKEN_SECRET_PREFIX + id, namespace: BOOTSTRAP_TOKEN_NAMESPACE },
            type: BOOTSTRAP_TOKEN_TYPE,
            data,
          });
          console.log(formatJoinToken({ caHash, id, secret }));
        } else if (verb === "list") {
          const tokens = (await secrets.list()).items.filter((s) => s.type === BOOTSTRAP_TOKEN_TYPE);
          const rows = tokens.map((s) => {
            const expiration = unb64(s.data?.expiration);
            const left = expiration ? Date.parse(expiration) - Date.now() : undefined;
            const usages = Object.keys(s.data ?? {})
              .filter((k) => k.startsWith("usage-bootstrap-") && unb64(s.data?.[k]) === "true")
              .map((k) => k.slice("usage-bootstrap-".length));
            return [
              unb64(s.data?.["token-id"]),
              left === undefined ? "<forever>" : left <= 0 ? "<invalid>" : `${Math.ceil(left / 3_600_000)}h`,
              expiration || "<never>",
              usages.join(","),
              unb64(s.data?.description) || "<none>",
              unb64(s.data?.["auth-extra-groups"]),
            ];
          });
          console.log(formatTable(["ID", "TTL", "EXPIRES", "USAGES", "DESCRIPTION", "EXTRA GROUPS"], rows));
        } else if (verb === "delete") {
          if (!ids.length)
            throw new CliError("missing subcommand; 'token delete' is missing token of form '[a-z0-9]{6}'");
          for (const given of ids) {
            // A whole token (or join token) names its id before the dot.
            const id = /([a-z0-9]{6})(\.[a-z0-9]{16})?$/.exec(given)?.[1];
            if (!id) throw new CliError(`given token didn't match pattern "[a-z0-9]{6}" or "[a-z0-9]{6}.[a-z0-9]{16}"`);
            try {
              await secrets.delete(BOOTSTRAP_TOKEN_SECRET_PREFIX + id);
            } catch (err) {
              if (isNotFound(err)) throw new CliError(`bootstrap token "${id}" not found`);
              throw err;
            }
            console.log(`bootstrap token "${id}" deleted`);
          }
        } else throw new CliError(`unknown token command "${verb}": use create, list or delete`);
      }),
    );
}
