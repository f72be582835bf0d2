// Watch event lines handed over in one process: the API server encodes each line once and keeps its
// text here, under the very bytes it enqueues. A reader in the same process (the informers of
// `kube up`, over the in-process transport) is handed those bytes and takes the lines from here
// instead of decoding them again, and all its watchers get the same string objects (so sharing a
// decoded event by its line hashes each line once). Bytes that came over a socket are never here.
const texts = new WeakMap<Uint8Array, readonly string[]>();
const encoder = new TextEncoder();

/** The lines' bytes, each line followed by a newline; the lines must be non-empty and hold no newline. */
export function encodeLines(lines: readonly string[]): Uint8Array {
  const bytes = encoder.encode(lines.length === 1 ? `${lines[0]}\n` : `${lines.join("\n")}\n`);
  texts.set(bytes, lines);
  return bytes;
}

/** The lines encodeLines made these bytes of, in this process; undefined for any other bytes. */
export function linesOf(bytes: Uint8Array): readonly string[] | undefined {
  return texts.get(bytes);
}

/** Encoded lines joined into one write; its lines are known when every part's are. */
export function joinEncoded(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  const lines: string[] = [];
  let known = true;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
    const own = known ? texts.get(p) : undefined;
    if (own) for (const l of own) lines.push(l);
    else known = false;
  }
  if (known) texts.set(out, lines);
  return out;
}
