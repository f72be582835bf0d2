// Runs a host networking tool (iproute2's `ip`, `iptables`) with arguments (no shell); resolves to
// its stdout, rejects with its stderr.
import { spawn } from "node:child_process";

export function runCommand(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(out) : reject(new Error(err.trim() || `${command} exited with ${code}`)),
    );
  });
}

export const ip = (args: string[]): Promise<string> => runCommand("ip", args);
