// Runs iproute2's `ip` with arguments (no shell); resolves to its stdout, rejects with its stderr.
import { spawn } from "node:child_process";

export function ip(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("ip", args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(out) : reject(new Error(err.trim() || `ip exited with ${code}`)),
    );
  });
}
