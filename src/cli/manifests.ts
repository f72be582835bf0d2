// Reading manifests for create/apply/delete -f: files, directories (*.yaml, *.yml, *.json),
// multi-document YAML, List objects, and "-" for stdin. Unreadable or invalid input fails
// before anything is sent.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import type { KubeObject } from "../api/types.ts";
import { CliError } from "./fail.ts";

export interface Manifest {
  source: string;
  obj: KubeObject;
}

function filesOf(path: string): string[] {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new CliError(`the path "${path}" does not exist`);
  }
  if (!st.isDirectory()) return [path];
  return readdirSync(path)
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .sort()
    .map((f) => join(path, f));
}

export async function readManifests(paths: string[]): Promise<Manifest[]> {
  if (paths.length === 0) throw new CliError("must specify one of -f and -k");
  const out: Manifest[] = [];
  for (const p of paths) {
    const sources =
      p === "-" || p === "/dev/stdin"
        ? [["stdin", await Bun.stdin.text()] as const]
        : filesOf(p).map((f) => [f, readFileSync(f, "utf8")] as const);
    for (const [source, text] of sources) {
      const docs = parseAllDocuments(text);
      for (const [i, doc] of (Array.isArray(docs) ? docs : [docs]).entries()) {
        if (doc.errors.length) throw new CliError(`error parsing ${source}: ${doc.errors[0]!.message.split("\n")[0]}`);
        const value = doc.toJS() as unknown;
        if (value === null || value === undefined) continue;
        if (typeof value !== "object" || Array.isArray(value))
          throw new CliError(`error parsing ${source}: document ${i + 1} is not an object`);
        const obj = value as KubeObject;
        if (obj.kind === "List" && Array.isArray(obj.items))
          for (const item of obj.items as KubeObject[]) out.push({ source, obj: item });
        else out.push({ source, obj });
      }
    }
  }
  for (const m of out) {
    if (!m.obj.apiVersion || !m.obj.kind)
      throw new CliError(`error validating ${m.source}: an object is missing apiVersion or kind`);
    if (!m.obj.metadata?.name && !m.obj.metadata?.generateName)
      throw new CliError(`error validating ${m.source}: ${m.obj.kind} is missing metadata.name`);
  }
  return out;
}
