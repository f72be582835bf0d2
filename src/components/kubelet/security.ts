// securityContext as the kubelet applies it: the pod-level context fills what the container's
// leaves unset (upstream's DetermineEffectiveSecurityContext), runAsNonRoot is checked against
// the image's user before anything is created (upstream's verifyRunAsNonRoot, same messages),
// and what this node cannot apply is said in a Warning event instead of being dropped silently.
import { readFileSync } from "node:fs";
import type { Container, Pod, SecurityContext } from "../../api/kinds/pod.ts";
import type { ContainerSecurity } from "./runtime/index.ts";

/** The container's context with the pod's defaults filled in. */
export function effectiveSecurityContext(pod: Pod, c: Container): SecurityContext {
  const podSc = pod.spec.securityContext ?? {};
  const sc: SecurityContext = { ...(c.securityContext ?? {}) };
  sc.runAsUser ??= podSc.runAsUser;
  sc.runAsGroup ??= podSc.runAsGroup;
  sc.runAsNonRoot ??= podSc.runAsNonRoot;
  sc.seccompProfile ??= podSc.seccompProfile;
  sc.appArmorProfile ??= podSc.appArmorProfile;
  sc.seLinuxOptions ??= podSc.seLinuxOptions;
  sc.windowsOptions ??= podSc.windowsOptions;
  return sc;
}

/** A container that must not be created: the waiting reason is CreateContainerConfigError. */
export class ContainerConfigError extends Error {
  override name = "ContainerConfigError";
}

const formatPod = (pod: Pod) => `${pod.metadata!.name}_${pod.metadata!.namespace}(${pod.metadata!.uid})`;

/** Upstream's verifyRunAsNonRoot. `imageUser` is the image's configured user ("" = root). */
function verifyRunAsNonRoot(pod: Pod, c: Container, sc: SecurityContext, imageUser: string): void {
  if (!sc.runAsNonRoot) return;
  if (sc.runAsUser !== undefined) {
    if (sc.runAsUser === 0)
      throw new ContainerConfigError(
        `container's runAsUser breaks non-root policy (pod: "${formatPod(pod)}", container: ${c.name})`,
      );
    return;
  }
  const user = imageUser.split(":")[0] ?? "";
  if (user === "" || user === "0")
    throw new ContainerConfigError(
      `container has runAsNonRoot and image will run as root (pod: "${formatPod(pod)}", container: ${c.name})`,
    );
  if (!/^\d+$/.test(user))
    throw new ContainerConfigError(
      `container has runAsNonRoot and image has non-numeric user (${user}), cannot verify user is non-root (pod: "${formatPod(pod)}", container: ${c.name})`,
    );
}

/** What the engine is asked for, and what it cannot do (for a Warning event). */
export function containerSecurity(
  pod: Pod,
  c: Container,
  imageUser: string,
  opts = { appArmor: appArmorEnabled() },
): { security: ContainerSecurity; unsupported: string[] } {
  const sc = effectiveSecurityContext(pod, c);
  verifyRunAsNonRoot(pod, c, sc, imageUser);
  const podSc = pod.spec.securityContext ?? {};
  const unsupported: string[] = [];
  const security: ContainerSecurity = {};
  if (sc.privileged) security.privileged = true;
  if (sc.capabilities?.add?.length) security.capAdd = sc.capabilities.add;
  if (sc.capabilities?.drop?.length) security.capDrop = sc.capabilities.drop;
  if (sc.runAsUser !== undefined || sc.runAsGroup !== undefined) {
    const user = sc.runAsUser !== undefined ? String(sc.runAsUser) : imageUser.split(":")[0] || "0";
    security.user = sc.runAsGroup !== undefined ? `${user}:${sc.runAsGroup}` : user;
  }
  if (sc.readOnlyRootFilesystem) security.readOnlyRootfs = true;
  // Upstream sets no_new_privs only when allowPrivilegeEscalation is explicitly false (never when privileged).
  if (sc.allowPrivilegeEscalation === false && !sc.privileged) security.noNewPrivileges = true;
  const groups = [...(podSc.supplementalGroups ?? []), ...(podSc.fsGroup !== undefined ? [podSc.fsGroup] : [])];
  if (groups.length) security.groupAdd = [...new Set(groups)].map(String);
  // RuntimeDefault (and unset: the kubelet's --seccomp-default) is the engine's default profile.
  const seccomp = sc.seccompProfile?.type;
  if (seccomp === "Unconfined") security.seccompUnconfined = true;
  else if (seccomp === "Localhost")
    unsupported.push(
      `seccompProfile Localhost "${sc.seccompProfile?.localhostProfile ?? ""}" (no local profiles on this node; the runtime's default profile applies)`,
    );
  const apparmor = sc.appArmorProfile?.type;
  if (apparmor === "Localhost") {
    if (opts.appArmor) security.appArmorProfile = sc.appArmorProfile?.localhostProfile;
    else
      unsupported.push(
        `appArmorProfile Localhost "${sc.appArmorProfile?.localhostProfile ?? ""}" (AppArmor is not enabled on this node)`,
      );
  } else if (apparmor === "Unconfined" && opts.appArmor) security.appArmorProfile = "unconfined";
  if (sc.seLinuxOptions && Object.values(sc.seLinuxOptions).some(Boolean))
    unsupported.push("seLinuxOptions (SELinux labels are not applied on this node)");
  if (sc.procMount === "Unmasked") unsupported.push("procMount Unmasked (the engine keeps /proc masked)");
  if (podSc.sysctls?.length)
    unsupported.push(`sysctls ${podSc.sysctls.map((s) => s.name).join(", ")} (not set on this node)`);
  if (sc.windowsOptions?.hostProcess) unsupported.push("windowsOptions.hostProcess (a Linux node)");
  return { security, unsupported };
}

let appArmor: boolean | undefined;
/** True when the host kernel has AppArmor enabled (profiles can be applied by name). */
export function appArmorEnabled(): boolean {
  if (appArmor === undefined) {
    try {
      appArmor = readFileSync("/sys/module/apparmor/parameters/enabled", "utf8").trim() === "Y";
    } catch {
      appArmor = false;
    }
  }
  return appArmor;
}
