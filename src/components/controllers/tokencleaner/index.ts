// Deletes expired bootstrap tokens, as kube-controller-manager's tokencleaner
// (pkg/controller/bootstrap/tokencleaner.go): a Secret of type bootstrap.kubernetes.io/token in
// kube-system whose `expiration` has passed (or cannot be parsed) is deleted, with its UID as a
// precondition; one not yet expired is looked at again when it expires. The authenticator already
// refuses expired tokens; this keeps their Secrets from piling up.
import { BOOTSTRAP_TOKEN_NAMESPACE, BOOTSTRAP_TOKEN_TYPE, tokenExpiration } from "../../../api/bootstrap-token.ts";
import type { Secret } from "../../../api/kinds/core.ts";
import { Informer, isConflict, isNotFound, ignore } from "../../../client/index.ts";
import { Controller } from "../base.ts";

export class TokenCleaner extends Controller {
  readonly name = "token-cleaner";
  // Only the token Secrets of kube-system: every Secret of the cluster need not be held in memory.
  private readonly tokens = new Informer<Secret>(
    this.ctx.informers.client.resource("secrets", BOOTSTRAP_TOKEN_NAMESPACE),
    { fieldSelector: `type=${BOOTSTRAP_TOKEN_TYPE}`, resyncMs: 60_000 },
  );

  setup(): void {
    this.tokens.on({ add: this.enqueue, update: (_, s) => this.enqueue(s) });
  }

  override run(workers = 1): void {
    this.tokens.start();
    super.run(workers);
  }

  override async stop(): Promise<void> {
    this.tokens.stop();
    await super.stop();
  }

  async reconcile(key: string): Promise<void> {
    const secret = this.tokens.get(key);
    if (!secret || secret.type !== BOOTSTRAP_TOKEN_TYPE) return;
    const { expired, ttlMs } = tokenExpiration(secret, this.ctx.clock.now());
    if (!expired) {
      if (ttlMs > 0) this.queue.addAfter(key, ttlMs);
      return;
    }
    const { name, namespace, uid } = secret.metadata ?? {};
    this.ctx.log(`${this.name}: deleting expired bootstrap token Secret ${namespace}/${name}`);
    // Gone already, or replaced by a Secret of the same name (the UID precondition fails): nothing to do.
    await this.ctx.client
      .resource("secrets", namespace)
      .delete(name!, uid ? { preconditions: { uid } } : {})
      .catch(ignore(isNotFound, isConflict));
  }
}
