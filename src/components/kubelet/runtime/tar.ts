// A minimal ustar writer: enough to build a root filesystem (directories, files, symlinks)
// in memory and import it as an image, so that no registry is ever needed.

export type TarEntry =
  | { type: "dir"; path: string; mode?: number }
  | { type: "file"; path: string; data: Uint8Array; mode?: number }
  | { type: "symlink"; path: string; target: string };

const enc = new TextEncoder();

function writeString(h: Uint8Array, off: number, len: number, s: string): void {
  const b = enc.encode(s);
  if (b.length > len) throw new Error(`tar: "${s}" is longer than ${len} bytes`);
  h.set(b, off);
}

function writeOctal(h: Uint8Array, off: number, len: number, n: number): void {
  writeString(h, off, len, n.toString(8).padStart(len - 1, "0") + "\0");
}

function header(e: TarEntry, size: number): Uint8Array {
  const h = new Uint8Array(512);
  const path = e.type === "dir" && !e.path.endsWith("/") ? `${e.path}/` : e.path;
  writeString(h, 0, 100, path);
  const mode = e.type === "symlink" ? 0o777 : (e.mode ?? (e.type === "dir" ? 0o755 : 0o644));
  writeOctal(h, 100, 8, mode);
  writeOctal(h, 108, 8, 0); // uid
  writeOctal(h, 116, 8, 0); // gid
  writeOctal(h, 124, 12, size);
  writeOctal(h, 136, 12, 0); // mtime: fixed, so the same content gives the same tar
  h.fill(0x20, 148, 156); // checksum field counts as spaces while summing
  h[156] = e.type === "dir" ? 0x35 : e.type === "symlink" ? 0x32 : 0x30;
  if (e.type === "symlink") writeString(h, 157, 100, e.target);
  writeString(h, 257, 6, "ustar\0");
  writeString(h, 263, 2, "00");
  let sum = 0;
  for (const b of h) sum += b;
  writeString(h, 148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
  return h;
}

/** The tar archive holding `entries`, in order. */
export function buildTar(entries: TarEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    const data = e.type === "file" ? e.data : new Uint8Array(0);
    parts.push(header(e, data.length));
    if (data.length > 0) {
      parts.push(data);
      const pad = (512 - (data.length % 512)) % 512;
      if (pad) parts.push(new Uint8Array(pad));
    }
  }
  parts.push(new Uint8Array(1024)); // two zero blocks end the archive
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
