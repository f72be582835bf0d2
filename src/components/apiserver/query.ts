// Query parameters as kube-apiserver decodes them (apimachinery runtime/conversion.go): the
// first value of a parameter counts; a bool is false only for "0" or "false" in any case
// (anything else, even "", is true); an integer is Go's strconv.ParseInt(s, 10, 64), and a
// value it refuses is a 400 carrying Go's own error text. Options that parse but break a rule
// (dryRun values, fieldManager, log options) are 422s naming the options kind, as upstream.
import type { Cause } from "../../api/types.ts";
import { badRequest, invalid } from "./errors.ts";

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/** Go's strconv.ParseInt(s, 10, 64): an optional sign and decimal digits, within int64. */
export function parseGoInt64(s: string): number {
  if (!/^[+-]?\d+$/.test(s)) throw badRequest(`strconv.ParseInt: parsing ${goQuote(s)}: invalid syntax`);
  const n = BigInt(s);
  if (n > INT64_MAX || n < INT64_MIN) throw badRequest(`strconv.ParseInt: parsing ${goQuote(s)}: value out of range`);
  return Number(n);
}

/** Go's %q for the strings a query can carry (JSON escaping agrees for printable text). */
function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** Reads one query parameter set the way the parameter codec does. */
export class Query {
  constructor(readonly params: URLSearchParams) {}

  has(name: string): boolean {
    return this.params.has(name);
  }
  str(name: string): string | undefined {
    return this.params.get(name) ?? undefined;
  }
  /** Absent is false; "0" and "false" (any case) are false; everything else is true. */
  bool(name: string): boolean {
    const v = this.params.get(name);
    if (v === null) return false;
    return !(v === "0" || v.toLowerCase() === "false");
  }
  /** A *bool option: undefined when absent. */
  optBool(name: string): boolean | undefined {
    return this.params.has(name) ? this.bool(name) : undefined;
  }
  int(name: string): number | undefined {
    const v = this.params.get(name);
    return v === null ? undefined : parseGoInt64(v);
  }
  all(name: string): string[] {
    return this.params.getAll(name);
  }
}

export interface ListParams {
  watch: boolean;
  allowWatchBookmarks: boolean;
  /** Items per page; 0 = all (upstream ignores limits <= 0). */
  limit: number;
  timeoutSeconds?: number;
  resourceVersion?: string;
  continue?: string;
  labelSelector?: string;
  fieldSelector?: string;
  includeObject?: string;
}

/** The most items one page can hold: larger limits mean "all" in practice and stay integers for the store. */
const MAX_PAGE = 2 ** 31 - 1;

/** ListOptions (list and watch share them): every numeric and boolean field is decoded, even unused ones. */
export function listParams(q: Query): ListParams {
  const limit = q.int("limit") ?? 0;
  q.optBool("sendInitialEvents");
  return {
    watch: q.bool("watch"),
    allowWatchBookmarks: q.bool("allowWatchBookmarks"),
    limit: limit <= 0 ? 0 : Math.min(limit, MAX_PAGE),
    timeoutSeconds: q.int("timeoutSeconds"),
    resourceVersion: q.str("resourceVersion"),
    continue: q.str("continue"),
    labelSelector: q.str("labelSelector"),
    fieldSelector: q.str("fieldSelector"),
    includeObject: q.str("includeObject"),
  };
}

export type OptionsKind = "CreateOptions" | "UpdateOptions" | "PatchOptions" | "DeleteOptions";

function optionsInvalid(kind: OptionsKind | "PodLogOptions", name: string, causes: Cause[]) {
  return invalid(kind, kind === "PodLogOptions" ? "" : "meta.k8s.io", name, causes);
}

/** dryRun accepts only "All" (ValidateDryRun); returns whether the write is a dry run. */
export function dryRunOf(values: string[], kind: OptionsKind): boolean {
  if (values.some((v) => v !== "All")) {
    const list = `[]string{${values.map(goQuote).join(", ")}}`;
    throw optionsInvalid(kind, "", [
      {
        reason: "FieldValueNotSupported",
        field: "dryRun",
        message: `Unsupported value: ${list}: supported values: "All"`,
      },
    ]);
  }
  return values.length > 0;
}

/** fieldManager: at most 128 printable characters (ValidateFieldManager). */
export function fieldManagerOf(q: Query, kind: OptionsKind): string | undefined {
  const m = q.str("fieldManager");
  if (m === undefined) return undefined;
  if (m.length > 128)
    throw optionsInvalid(kind, "", [
      { reason: "FieldValueTooLong", field: "fieldManager", message: `Too long: may not be more than 128 bytes` },
    ]);
  if (/[^\x20-\x7e\u00a0-\uffff]/.test(m))
    throw optionsInvalid(kind, "", [
      {
        reason: "FieldValueInvalid",
        field: "fieldManager",
        message: `Invalid value: ${goQuote(m)}: must only contain printable characters`,
      },
    ]);
  return m;
}

export interface WriteParams {
  dryRun: boolean;
  fieldManager?: string;
  /** PatchOptions.force (apply only). */
  force?: boolean;
}

export function writeParams(q: Query, kind: OptionsKind): WriteParams {
  return {
    dryRun: dryRunOf(q.all("dryRun"), kind),
    fieldManager: fieldManagerOf(q, kind),
    force: kind === "PatchOptions" ? q.optBool("force") : undefined,
  };
}

export interface LogParams {
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  limitBytes?: number;
  sinceTime?: string;
}

/** PodLogOptions, decoded and checked as ValidatePodLogOptions does. */
export function logParams(q: Query, pod: string): LogParams {
  const p: LogParams = {
    follow: q.bool("follow"),
    previous: q.bool("previous"),
    timestamps: q.bool("timestamps"),
    tailLines: q.int("tailLines"),
    sinceSeconds: q.int("sinceSeconds"),
    limitBytes: q.int("limitBytes"),
    sinceTime: q.str("sinceTime"),
  };
  q.bool("insecureSkipTLSVerifyBackend");
  const causes: Cause[] = [];
  if (p.tailLines !== undefined && p.tailLines < 0)
    causes.push({
      reason: "FieldValueInvalid",
      field: "tailLines",
      message: `Invalid value: ${p.tailLines}: must be greater than or equal to 0`,
    });
  if (p.limitBytes !== undefined && p.limitBytes < 1)
    causes.push({
      reason: "FieldValueInvalid",
      field: "limitBytes",
      message: `Invalid value: ${p.limitBytes}: must be greater than 0`,
    });
  if (p.sinceSeconds !== undefined && p.sinceTime !== undefined)
    causes.push({
      reason: "FieldValueForbidden",
      field: "",
      message: "at most one of `sinceTime` or `sinceSeconds` may be specified",
    });
  if (p.sinceSeconds !== undefined && p.sinceSeconds < 1)
    causes.push({
      reason: "FieldValueInvalid",
      field: "sinceSeconds",
      message: `Invalid value: ${p.sinceSeconds}: must be greater than 0`,
    });
  if (p.sinceTime !== undefined && Number.isNaN(Date.parse(p.sinceTime)))
    throw badRequest(
      `parsing time ${goQuote(p.sinceTime)} as "2006-01-02T15:04:05Z07:00": cannot parse ${goQuote(p.sinceTime)} as "2006"`,
    );
  if (causes.length) throw optionsInvalid("PodLogOptions", pod, causes);
  return p;
}

/** The grace period upstream deletes with: negative means 1 second (rest.BeforeDelete). */
export function normalizeGrace(grace: number | undefined): number | undefined {
  return grace !== undefined && grace < 0 ? 1 : grace;
}
