// Reading request bodies: a 3 MiB limit (413), JSON or YAML by content type, and a 400 with a
// clear message for anything that does not parse into an object.
import { isScalar, LineCounter, parseDocument, visit } from "yaml";
import { bodySerializedByClient } from "../../client/index.ts";
import { badRequest, HttpError } from "./errors.ts";
import type { KubeObject } from "../../api/types.ts";
import { decodeObject, ProtobufError } from "./protobuf/decode.ts";
import { depthCheck, GoDecodeError, MAX_DEPTH } from "../../api/gocheck.ts";

export const MAX_BODY_BYTES = 3 * 1024 * 1024;

async function readBytes(req: Request): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const buf = await req.arrayBuffer();
  if (buf.byteLength > MAX_BODY_BYTES) throw tooLarge();
  return new Uint8Array(buf);
}

/**
 * The body as UTF-8 text, read as text (an in-process request's body is a string already: copying it
 * into bytes and decoding them again cost 5.5 us a body against 0.5). Its size is counted in bytes
 * only when it could be over the limit (a UTF-16 unit is at most 3 UTF-8 bytes).
 */
export async function readText(req: Request): Promise<string> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const text = await req.text();
  if (text.length > MAX_BODY_BYTES / 3 && Buffer.byteLength(text) > MAX_BODY_BYTES) throw tooLarge();
  return text;
}

function tooLarge(): HttpError {
  return new HttpError(413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728");
}

/** Go's decoder refuses documents nested deeper than 10000 levels; nothing here ever sees one. */
export function checkDepth(value: unknown): void {
  try {
    depthCheck(value, 0);
  } catch (err) {
    if (err instanceof GoDecodeError || err instanceof RangeError)
      throw badRequest(`the body of the request could not be decoded: ${err.message}`);
    throw err;
  }
}

/** Keys given twice in one mapping: `line 5: key "name" already set in map`, as Go's YAML decoder says. */
export function parseYamlText(text: string): { value: unknown; duplicates: string[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: false, lineCounter: lines });
  if (doc.errors.length) throw doc.errors[0];
  const duplicates: string[] = [];
  visit(doc, {
    Map(_, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        if (seen.has(key))
          duplicates.push(
            `line ${lines.linePos((pair.key as { range?: number[] }).range?.[0] ?? 0).line}: key "${key}" already set in map`,
          );
        seen.add(key);
      }
    },
  });
  return { value: doc.toJS(), duplicates };
}

/** What a write's body said besides its value: the duplicate keys the parser let through. */
export interface BodyText {
  text: string;
  yaml: boolean;
  yamlDuplicates?: string[];
  /** JSON this process's client wrote from an object (no key can repeat): no duplicate scan. */
  serialized?: boolean;
}

export function parseJsonObject(text: string, contentType = "", seen?: BodyText): KubeObject {
  let value: unknown;
  const yaml = /yaml/.test(contentType);
  try {
    if (yaml) {
      const parsed = parseYamlText(text);
      value = parsed.value;
      if (seen) seen.yamlDuplicates = parsed.duplicates;
    } else value = JSON.parse(text);
  } catch (err) {
    throw badRequest(
      `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (${err instanceof Error ? err.message.split("\n")[0] : "parse error"})`,
    );
  }
  if (!value || typeof value !== "object" || Array.isArray(value))
    throw badRequest("the body of the request must be a JSON object");
  // Each level of JSON nesting takes a bracket of the text: a text no longer than the limit cannot
  // exceed it, and the walk over every value of every write body is skipped. (YAML is walked: its
  // aliases make a value larger than its text.)
  if (yaml || text.length > MAX_DEPTH) checkDepth(value);
  return value as KubeObject;
}

export async function readObject(req: Request, seen?: BodyText): Promise<KubeObject> {
  const type = req.headers.get("content-type") ?? "";
  // kubectl 1.33+ sends its generators' objects (create namespace, deployment, ...) as protobuf.
  if (/protobuf/.test(type)) {
    try {
      return decodeObject(await readBytes(req)) as KubeObject;
    } catch (err) {
      if (err instanceof ProtobufError) throw new HttpError(415, "UnsupportedMediaType", err.message);
      throw err;
    }
  }
  if (/cbor/.test(type))
    throw new HttpError(
      415,
      "UnsupportedMediaType",
      `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`,
    );
  const text = await readText(req);
  if (seen) Object.assign(seen, { text, yaml: /yaml/.test(type), serialized: bodySerializedByClient(req) });
  return parseJsonObject(text, type, seen);
}

/** Optional body (DELETE options); empty means {}. */
export async function readOptionalObject(req: Request): Promise<Record<string, unknown>> {
  const text = await readText(req);
  if (!text.trim()) return {};
  return parseJsonObject(text, req.headers.get("content-type") ?? "") as Record<string, unknown>;
}
