// Runs a real kubectl binary (a pinned minor version) against a kubeconfig, with its own
// discovery cache, and collects exit code, stdout and stderr.
import { join } from "node:path";

export const KUBECTL_DIR = "/usr/lib/google-cloud-sdk/bin";

export function kubectlRunner(kubeconfig: string, workDir: string) {
  return async (
    version: string,
    args: string[],
    stdin?: string,
  ): Promise<{ code: number; out: string; err: string }> => {
    const proc = Bun.spawn(
      [
        `${KUBECTL_DIR}/kubectl.${version}`,
        "--kubeconfig",
        kubeconfig,
        "--cache-dir",
        join(workDir, `cache-${version}`),
        ...args,
      ],
      {
        stdin: stdin !== undefined ? new Blob([stdin]) : "ignore",
        stdout: "pipe",
        stderr: "pipe",
        env: { ...process.env, HOME: workDir },
      },
    );
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    return { code, out, err };
  };
}

/** A test API server on a socket, a work dir with its kubeconfig, and a kubectl runner for it. */
export async function kubectlAgainstTestApi(prefix: string) {
  const { mkdtempSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { writeKubeconfig } = await import("../../src/client/kubeconfig.ts");
  const { startTestApi, TEST_TOKEN } = await import("./api.ts");
  const api = await startTestApi();
  const served = await api.listen();
  const work = mkdtempSync(join(tmpdir(), `${prefix}-`));
  writeKubeconfig(join(work, "kubeconfig"), { server: served.url, token: TEST_TOKEN, ca: served.ca, name: "kube" });
  return {
    api,
    work,
    kubectl: kubectlRunner(join(work, "kubeconfig"), work),
    async close() {
      await api.close();
      rmSync(work, { recursive: true, force: true });
    },
  };
}
