// Whole-prefix lists that come back small, kept until a write under their kind. Admission lists
// the namespace's LimitRanges and ResourceQuotas and all PriorityClasses on every pod create:
// three SQLite reads (~100 us each under load, mostly the WAL index's locks) for lists that are
// nearly always empty and change rarely. This process is the only writer, so every write passes
// through `written` and a cached list is exact until then.
import type { KeyValue } from "../types.ts";

/** Lists longer than this are not kept (pods, events: they change all the time and are large). */
const MAX_ITEMS = 32;
/** Prefixes kept at most; the oldest goes first. */
const MAX_PREFIXES = 1024;

/**
 * A key's kind: its text up to the third "/" ("/registry/limitranges/"). Every key under a prefix
 * that has three "/" has that prefix's kind, so a write bumps exactly one generation.
 */
function kindOf(s: string): string | undefined {
  const a = s.indexOf("/", 1);
  const b = a < 0 ? -1 : s.indexOf("/", a + 1);
  return b < 0 ? undefined : s.slice(0, b + 1);
}

export class ListCache {
  /** Bumped by each write under the kind. */
  private readonly gens = new Map<string, number>();
  private readonly lists = new Map<string, { gen: number; kvs: KeyValue[] }>();

  /** The list of every key under `prefix`, when kept and still exact. */
  get(prefix: string): KeyValue[] | undefined {
    const hit = this.lists.get(prefix);
    if (!hit) return undefined;
    const kind = kindOf(prefix);
    if (kind && hit.gen === (this.gens.get(kind) ?? 0)) return hit.kvs.slice();
    this.lists.delete(prefix);
    return undefined;
  }

  /** A whole-prefix list just read from the database. */
  set(prefix: string, kvs: KeyValue[]): void {
    const kind = kindOf(prefix);
    if (!kind || kvs.length > MAX_ITEMS) return;
    if (!this.lists.has(prefix) && this.lists.size >= MAX_PREFIXES) this.lists.delete(this.lists.keys().next().value!);
    this.lists.set(prefix, { gen: this.gens.get(kind) ?? 0, kvs: kvs.slice() });
  }

  /** A key is about to be created, updated or deleted. */
  written(key: string): void {
    const kind = kindOf(key);
    if (kind) this.gens.set(kind, (this.gens.get(kind) ?? 0) + 1);
  }
}
