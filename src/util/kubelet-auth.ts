// How the API server and a kubelet prove themselves to each other without any credential in an
// API object: both hold one HMAC key (DATA/kubelet.key, 0600, handed to the in-process kubelets).
// Before calling a kubelet, the API server asks it to sign a fresh nonce for its node name (an
// endpoint that cannot sign, such as another local service a Node object points at, is never sent
// anything else); its calls then carry a credential signed for that node, valid five minutes.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

const sign = (key: Uint8Array, text: string) => createHmac("sha256", key).update(text).digest("base64url");
const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export const PROOF_PATH = "/kubelet-proof";
const MAX_AGE_S = 300;

export const newNonce = () => randomBytes(18).toString("base64url");
export const kubeletProof = (key: Uint8Array, node: string, nonce: string) => sign(key, `proof\0${node}\0${nonce}`);
export const proofValid = (key: Uint8Array, node: string, nonce: string, proof: string) =>
  same(kubeletProof(key, node, nonce), proof);

/** The bearer credential the API server presents to the kubelet of `node`. */
export function kubeletCredential(key: Uint8Array, node: string, now = Date.now()): string {
  const ts = Math.floor(now / 1000);
  return `${ts}.${sign(key, `call\0${node}\0${ts}`)}.${node}`;
}

/** Whether an Authorization header carries the API server's fresh credential for one of `nodes`. */
export function credentialValid(
  key: Uint8Array,
  header: string | null,
  nodes: (node: string) => boolean,
  now = Date.now(),
): boolean {
  const m = /^Bearer (\d+)\.([A-Za-z0-9_-]+)\.(.+)$/.exec(header ?? "");
  if (!m || !nodes(m[3]!)) return false;
  if (Math.abs(now / 1000 - Number(m[1])) > MAX_AGE_S) return false;
  return same(sign(key, `call\0${m[3]}\0${m[1]}`), m[2]!);
}
