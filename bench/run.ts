// `bun run bench <name>`: runs bench/<name>.ts's default export. Each benchmark prints its
// figures and, last, one line `name: key=value ... ratio=R` against a reference measured in
// the same run.
import { readdirSync } from "node:fs";
import { join } from "node:path";

const name = process.argv[2];
const available = readdirSync(import.meta.dir)
  .filter((f) => f.endsWith(".ts") && f !== "run.ts" && !f.startsWith("lib"))
  .map((f) => f.slice(0, -3));
if (!name || !available.includes(name)) {
  console.error(`usage: bun run bench <${available.join("|")}>`);
  process.exit(1);
}
const mod = (await import(join(import.meta.dir, `${name}.ts`))) as { default: (args: string[]) => Promise<void> };
await mod.default(process.argv.slice(3));
process.exit(0);
