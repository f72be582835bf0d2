// Where kube keeps its state when no --data-dir is given: $XDG_DATA_HOME/kube, else ~/.local/share/kube.
import { homedir } from "node:os";
import { join } from "node:path";

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const dataHome = env.XDG_DATA_HOME || join(env.HOME || homedir(), ".local", "share");
  return join(dataHome, "kube");
}

export function defaultKubeconfig(env: NodeJS.ProcessEnv = process.env): string {
  return join(defaultDataDir(env), "kubeconfig");
}
