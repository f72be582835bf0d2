// The dashboard's bundle (src/ui, Preact + xterm.js): `bun run build` bundles it ahead and embeds
// it in dist/kube (scripts/build.ts hands it over in globalThis.__KUBE_UI__ before the CLI starts);
// running from source it is bundled with Bun.build on first use and kept for the process.
import { createHash } from "node:crypto";

export interface Asset {
  body: Uint8Array;
  gzip: Uint8Array;
  type: string;
  etag: string;
}

const ENTRY = new URL("../../ui/main.tsx", import.meta.url).pathname;
const TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
};

let loaded: Promise<Map<string, Asset>> | undefined;

/** The bundle's files by name (main.js, main.css). */
export function uiAssets(): Promise<Map<string, Asset>> {
  loaded ??= load().catch((err) => {
    loaded = undefined;
    throw err;
  });
  return loaded;
}

async function load(): Promise<Map<string, Asset>> {
  const embedded = (globalThis as { __KUBE_UI__?: Record<string, string> }).__KUBE_UI__;
  const files = embedded ?? (await bundleUi());
  const out = new Map<string, Asset>();
  for (const [name, text] of Object.entries(files)) {
    const body = new TextEncoder().encode(text);
    out.set(name, {
      body,
      gzip: Bun.gzipSync(body, { level: 9 }),
      type: TYPES[name.split(".").pop() ?? ""] ?? "application/octet-stream",
      etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 16)}"`,
    });
  }
  return out;
}

/** Bundles src/ui into {"main.js": ..., "main.css": ...} (also used by scripts/build.ts). */
export async function bundleUi(): Promise<Record<string, string>> {
  const result = await Bun.build({
    entrypoints: [ENTRY],
    target: "browser",
    minify: true,
    naming: { entry: "[name].[ext]", chunk: "chunk-[hash].[ext]", asset: "[name]-[hash].[ext]" },
    splitting: true,
    define: { "process.env.NODE_ENV": '"production"' },
  });
  if (!result.success) throw new Error(`dashboard bundle failed: ${result.logs.map(String).join("; ")}`);
  const files: Record<string, string> = {};
  for (const o of result.outputs) files[o.path.split("/").pop()!] = await o.text();
  return files;
}
