// How the API server and a kubelet prove themselves to each other without any credential in an
// API object: the API server holds one HMAC key (DATA/kubelet.key, 0600) and each node's kubelet
// the key derived from it for its node name (`nodeKey`): the in-process kubelets derive it, a
// `kube agent` receives its own when it joins, so no agent can speak for another node.
// Before calling a kubelet, the API server asks it to sign a fresh nonce for its node name (an
// endpoint that cannot sign, such as another local service a Node object points at, is never sent
// anything else); its calls then carry a credential signed for that node, valid five minutes.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

const sign = (key: Uint8Array, text: string) => createHmac("sha256", key).update(text).digest("base64url");
const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export const PROOF_PATH = "/kubelet-proof";
const MAX_AGE_S = 300;

/** The key of one node's kubelet, derived from the API server's key. */
export const nodeKey = (key: Uint8Array, node: string): Uint8Array =>
  createHmac("sha256", key).update(`node\0${node}`).digest();

export const newNonce = () => randomBytes(18).toString("base64url");
/** The kubelet's answer to a challenge; `key` is its node's key. */
export const kubeletProof = (key: Uint8Array, node: string, nonce: string) => sign(key, `proof\0${node}\0${nonce}`);
/** Checked by the API server with its own key. */
export const proofValid = (key: Uint8Array, node: string, nonce: string, proof: string) =>
  same(kubeletProof(nodeKey(key, node), node, nonce), proof);

/** The bearer credential the API server (holding `key`) presents to the kubelet of `node`. */
export function kubeletCredential(key: Uint8Array, node: string, now = Date.now()): string {
  const ts = Math.floor(now / 1000);
  return `${ts}.${sign(nodeKey(key, node), `call\0${node}\0${ts}`)}.${node}`;
}

/** Whether an Authorization header carries the API server's fresh credential for a node this kubelet has the key of. */
export function credentialValid(
  keyOf: (node: string) => Uint8Array | undefined,
  header: string | null,
  now = Date.now(),
): boolean {
  const m = /^Bearer (\d+)\.([A-Za-z0-9_-]+)\.(.+)$/.exec(header ?? "");
  const key = m && keyOf(m[3]!);
  if (!m || !key) return false;
  if (Math.abs(now / 1000 - Number(m[1])) > MAX_AGE_S) return false;
  return same(sign(key, `call\0${m[3]}\0${m[1]}`), m[2]!);
}
