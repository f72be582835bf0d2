// The few libc calls the splice relay needs, through bun:ffi; `null` where they are not available
// (not Linux, not Bun, no glibc): the proxy then relays with Bun's sockets (tcp.ts).
import { isIPv4, isIPv6 } from "node:net";

export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCK_STREAM = 1;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const EAGAIN = 11;
export const EINPROGRESS = 115;
export const EINTR = 4;

const defs = {
  socket: { args: ["i32", "i32", "i32"], returns: "i32" },
  bind: { args: ["i32", "ptr", "u32"], returns: "i32" },
  listen: { args: ["i32", "i32"], returns: "i32" },
  accept4: { args: ["i32", "ptr", "ptr", "i32"], returns: "i32" },
  connect: { args: ["i32", "ptr", "u32"], returns: "i32" },
  getsockname: { args: ["i32", "ptr", "ptr"], returns: "i32" },
  getsockopt: { args: ["i32", "i32", "i32", "ptr", "ptr"], returns: "i32" },
  setsockopt: { args: ["i32", "i32", "i32", "ptr", "u32"], returns: "i32" },
  shutdown: { args: ["i32", "i32"], returns: "i32" },
  close: { args: ["i32"], returns: "i32" },
  read: { args: ["i32", "ptr", "u64"], returns: "i64_fast" },
  write: { args: ["i32", "ptr", "u64"], returns: "i64_fast" },
  splice: { args: ["i32", "ptr", "i32", "ptr", "u64", "u32"], returns: "i64_fast" },
  pipe2: { args: ["ptr", "i32"], returns: "i32" },
  fcntl: { args: ["i32", "i32", "i32"], returns: "i32" },
  eventfd: { args: ["u32", "i32"], returns: "i32" },
  epoll_create1: { args: ["i32"], returns: "i32" },
  epoll_ctl: { args: ["i32", "i32", "i32", "ptr"], returns: "i32" },
  epoll_wait: { args: ["i32", "ptr", "i32", "i32"], returns: "i32" },
  __errno_location: { args: [], returns: "ptr" },
} as const;

type Lib = {
  [K in keyof typeof defs]: (...args: (number | bigint | null | ArrayBufferView)[]) => number;
};

export interface Libc {
  C: Lib;
  errno(): number;
}

let cached: Libc | null | undefined;

/** libc through bun:ffi, or null (not Linux, not Bun, FFI refused, or KUBE_PROXY_SPLICE=0). */
export function libc(): Libc | null {
  if (cached !== undefined) return cached;
  cached = null;
  if (process.platform !== "linux" || !process.versions.bun || process.env.KUBE_PROXY_SPLICE === "0") return cached;
  if (process.arch !== "x64" && process.arch !== "arm64") return cached;
  try {
    // Loaded lazily so that importing this file works where bun:ffi does not exist.
    const ffi = require("bun:ffi") as typeof import("bun:ffi");
    const { symbols } = ffi.dlopen("libc.so.6", defs as unknown as Parameters<typeof ffi.dlopen>[1]);
    const C = symbols as unknown as Lib;
    cached = {
      C,
      errno: () => ffi.read.i32(C.__errno_location() as unknown as import("bun:ffi").Pointer, 0),
    };
  } catch {
    cached = null;
  }
  return cached;
}

/** struct sockaddr_in / sockaddr_in6 for ip:port, or null for something that is neither. */
export function sockaddr(ip: string, port: number): Uint8Array | null {
  if (isIPv4(ip)) {
    const b = new Uint8Array(16);
    const v = new DataView(b.buffer);
    v.setUint16(0, AF_INET, true);
    v.setUint16(2, port, false);
    b.set(ip.split(".").map(Number), 4);
    return b;
  }
  if (isIPv6(ip)) {
    const b = new Uint8Array(28);
    const v = new DataView(b.buffer);
    v.setUint16(0, AF_INET6, true);
    v.setUint16(2, port, false);
    // Expand "::" and an embedded IPv4 tail to eight 16-bit groups.
    let s = ip.split("%")[0]!;
    const tail = s.match(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/);
    if (tail) {
      const [a, b2, c, d] = tail.slice(1).map(Number) as [number, number, number, number];
      s = `${s.slice(0, tail.index)}${((a << 8) | b2).toString(16)}:${((c << 8) | d).toString(16)}`;
    }
    const [head, rest] = s.split("::") as [string, string | undefined];
    const hs = head ? head.split(":") : [];
    const rs = rest ? rest.split(":") : [];
    const groups = rest === undefined ? hs : [...hs, ...Array(8 - hs.length - rs.length).fill("0"), ...rs];
    for (const [i, g] of groups.entries()) v.setUint16(8 + i * 2, Number.parseInt(g, 16), false);
    return b;
  }
  return null;
}

/** The address and port in a struct sockaddr_in / sockaddr_in6. */
export function parseSockaddr(b: Uint8Array): { ip: string; port: number } {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const port = v.getUint16(2, false);
  if (v.getUint16(0, true) === AF_INET) return { ip: [...b.subarray(4, 8)].join("."), port };
  const groups = Array.from({ length: 8 }, (_, i) => v.getUint16(8 + i * 2, false));
  // ::ffff:a.b.c.d (an IPv4 client on a dual-stack socket) reads as the IPv4 address.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff)
    return { ip: [...b.subarray(20, 24)].join("."), port };
  return {
    ip: groups
      .map((g) => g.toString(16))
      .join(":")
      .replace(/(^|:)0(:0)+(:|$)/, "::"),
    port,
  };
}
