// Images through the Engine API: presence, pulls under Kubernetes' pull policies, and imports of
// root filesystem tars (how images exist here at all, with no registry reachable).

import { errorOf, type EngineHttp } from "./engine-http.ts";
import { ImagePullError, RuntimeError, type EnsuredImage, type PullPolicy } from "./types.ts";

/** Splits "repo[:tag]" ("localhost:5000/x" has no tag); digests stay in the repo part. */
export function splitRef(ref: string): { repo: string; tag: string } {
  if (ref.includes("@")) return { repo: ref, tag: "" };
  const slash = ref.lastIndexOf("/");
  const colon = ref.lastIndexOf(":");
  return colon > slash ? { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) } : { repo: ref, tag: "latest" };
}

export async function hasImage(http: EngineHttp, ref: string): Promise<boolean> {
  const res = await http.request("GET", `/images/${ref}/json`);
  await res.arrayBuffer();
  return res.status === 200;
}

/** The image's id and configured user (what runAsNonRoot is checked against); undefined when absent. */
async function imageFacts(http: EngineHttp, ref: string): Promise<{ id: string; user: string } | undefined> {
  const res = await http.request("GET", `/images/${ref}/json`);
  if (res.status === 404) {
    await res.arrayBuffer();
    return undefined;
  }
  if (res.status >= 400) throw await errorOf(res);
  const j = (await res.json()) as { Id: string; Config?: { User?: string } };
  return { id: j.Id, user: j.Config?.User ?? "" };
}

/** The facts of an image that must be there (just pulled, or known present). */
async function presentFacts(http: EngineHttp, ref: string): Promise<{ id: string; user: string }> {
  const facts = await imageFacts(http, ref);
  if (!facts) throw new RuntimeError(404, `image ${ref} is not present`);
  return facts;
}

/**
 * Policy as Kubernetes reads it, with two local rules for a machine without a registry:
 * - a `localhost/NAME` image (no port) is Podman's name for an image built or imported here,
 *   which no registry serves; when present it is used as is even with "Always" (Kubernetes
 *   makes ":latest" images default to "Always");
 * - when a pull fails because the registry cannot be reached and the image is in the engine's
 *   store, the stored image is used (the engine's "pull newer" semantics) and the failure is
 *   handed back in `pullFailure`, for a Warning event. A missing image still fails.
 * Short names (`myapp`, `busybox`) are resolved by the engine itself, as `podman run` does.
 */
export async function ensureImage(
  http: EngineHttp,
  ref: string,
  policy: PullPolicy,
  pullTimeoutMs: number,
): Promise<EnsuredImage> {
  // One inspect answers both "is it there" and "what is it" (the common case: present, not pulled).
  const facts = await imageFacts(http, ref);
  const present = facts !== undefined;
  if (facts && (policy !== "Always" || ref.startsWith("localhost/"))) return { ref, ...facts, pulled: false };
  if (policy === "Never") {
    throw new ImagePullError(
      "ErrImageNeverPull",
      ref,
      `Container image "${ref}" is not present with pull policy of Never`,
    );
  }
  const failure = await pull(http, ref, pullTimeoutMs);
  if (failure === null) return { ref, ...(await presentFacts(http, ref)), pulled: true };
  if (present && registryUnreachable(failure)) return { ref, ...facts, pulled: false, pullFailure: failure };
  throw new ImagePullError("ErrImagePull", ref, `failed to pull image "${ref}": ${failure}`);
}

/**
 * Whether a pull error says the registry could not be reached (no route, refused, DNS, TLS or
 * timeout), as opposed to the registry answering that the image or access does not exist.
 */
export function registryUnreachable(failure: string): boolean {
  if (/manifest unknown|not found|unauthorized|denied|authentication required/i.test(failure)) return false;
  return /pinging container registry|dial tcp|no such host|connection refused|network is unreachable|no route to host|i\/o timeout|TLS handshake|deadline exceeded|timed? ?out|aborted|server misbehaving/i.test(
    failure,
  );
}

/** Pulls; null on success, else the engine's error text. */
async function pull(http: EngineHttp, ref: string, timeoutMs: number): Promise<string | null> {
  const { repo, tag } = splitRef(ref);
  let text: string;
  try {
    const res = await http.request("POST", "/images/create", {
      query: { fromImage: repo, tag: tag || undefined },
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await res.text();
    if (res.status >= 400) return text.trim();
  } catch (e) {
    return (e as Error).message;
  }
  // The answer is a stream of JSON progress lines; a failure is a line with "error".
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const j = JSON.parse(line) as { error?: string };
      if (j.error) return j.error;
    } catch {}
  }
  return (await hasImage(http, ref)) ? null : "image not present after pull";
}

/** Imports a root filesystem tar as `ref` (no registry involved). */
export async function importImage(http: EngineHttp, ref: string, rootfs: Uint8Array): Promise<void> {
  const res = await http.request("POST", "/images/create", {
    query: { fromSrc: "-", repo: ref }, // Podman ignores `tag`: the tag rides in `repo`
    body: rootfs,
    contentType: "application/x-tar",
  });
  const text = await res.text();
  if (res.status >= 400 || !(await hasImage(http, ref)))
    throw new RuntimeError(res.status, `importing ${ref} failed: ${text.trim()}`);
}
