// The import rules of docs/ARCHITECTURE.md ("Layers"), checked on every relative import under src/
// (static and dynamic, as Bun's transpiler reads them):
// - one-way layers: main -> cli -> components -> client -> api; src/util is shared below all; only the
//   API server reads src/store; a component reaches another only through the API (shared code of
//   several components lives in src/components/*.ts, src/components/metrics, src/client or src/api);
// - tests: source never imports test/ (or bench/); a *.test.ts next to the code may import test/helpers,
//   the one set of test helpers, and nothing else of test/; no test helper lives in src/ (a source file
//   that only tests import).
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { Glob } from "bun";

const root = resolve(import.meta.dir, "..");
const isTest = (f: string) => /\.test\.tsx?$/.test(f);

/** Every relative import of every file under src/, resolved to a path from the repository root. */
function sourceImports(): { from: string; to: string }[] {
  const edges: { from: string; to: string }[] = [];
  for (const from of new Glob("src/**/*.{ts,tsx}").scanSync(root)) {
    const text = readFileSync(join(root, from), "utf8");
    const transpiler = new Bun.Transpiler({ loader: from.endsWith(".tsx") ? "tsx" : "ts" });
    for (const imp of transpiler.scanImports(text.replace(/^#!.*/, "")))
      if (imp.path.startsWith(".")) edges.push({ from, to: relative(root, resolve(root, dirname(from), imp.path)) });
  }
  return edges;
}

/** The layer a source file belongs to: a top directory of src/, or one component's directory. */
function layer(file: string): string {
  const parts = file.split("/");
  if (parts[1] !== "components") return parts.length === 2 ? file : `src/${parts[1]}`;
  // src/components/*.ts and src/components/metrics are shared by the components.
  return parts.length === 3 || parts[2] === "metrics" ? "components-shared" : `src/components/${parts[2]}`;
}

/** What each layer may import besides itself. */
function allowed(from: string, to: string): boolean {
  const a = layer(from);
  const b = layer(to);
  if (a === b || b === "src/util") return true;
  if (a === "src/main.ts") return b === "src/cli";
  if (a === "src/cli") return b !== "src/main.ts" && b !== "src/store";
  if (a === "src/api" || a === "src/util" || a === "src/ui") return b === "src/api" && a !== "src/util";
  if (a === "src/client") return b === "src/api";
  if (a === "src/store") return b === "src/api";
  // Components, and the code they share.
  if (b === "src/store") return a === "src/components/apiserver";
  return b === "components-shared" || b === "src/client" || b === "src/api";
}

const edges = sourceImports();

test("layers import one way, and only the API server reads the store", () => {
  const wrong = edges
    .filter((e) => e.to.startsWith("src/") && !allowed(e.from, e.to))
    .map((e) => `${e.from} -> ${e.to}`);
  expect(wrong).toEqual([]);
});

test("source never imports test/ or bench/; tests next to the code import only test/helpers", () => {
  const wrong = edges
    .filter((e) => !e.to.startsWith("src/") && !e.to.startsWith("node_modules/") && !e.to.startsWith("package.json"))
    .filter((e) => !(isTest(e.from) && e.to.startsWith("test/helpers/")))
    .map((e) => `${e.from} -> ${e.to}`);
  expect(wrong).toEqual([]);
});

test("no test helper lives in src/: every source file some test imports is also imported by source", () => {
  const bySource = new Set(edges.filter((e) => !isTest(e.from)).map((e) => e.to));
  const onlyTests = [
    ...new Set(edges.filter((e) => isTest(e.from) && e.to.startsWith("src/")).map((e) => e.to)),
  ].filter((f) => !bySource.has(f) && !isTest(f));
  expect(onlyTests).toEqual([]);
});

test("the rules above can fail", () => {
  expect(allowed("src/client/client.ts", "src/components/apiserver/index.ts")).toBe(false);
  expect(allowed("src/components/controllers/daemonset/index.ts", "src/components/scheduler/plugins/x.ts")).toBe(false);
  expect(allowed("src/cli/down.ts", "src/store/index.ts")).toBe(false);
  expect(allowed("src/components/kubelet/node.ts", "src/store/index.ts")).toBe(false);
  expect(allowed("src/api/types.ts", "src/client/index.ts")).toBe(false);
  expect(allowed("src/components/apiserver/objects.ts", "src/store/index.ts")).toBe(true);
  expect(allowed("src/components/proxy/index.ts", "src/components/events.ts")).toBe(true);
});
