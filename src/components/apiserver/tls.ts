// The API server's TLS: a cluster CA and a serving certificate for loopback and this host,
// made on first start and kept in DATA/pki. kubectl only sends bearer tokens over TLS, so
// HTTPS is what makes token auth work with real clients.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

export interface TlsMaterial {
  /** PEM of the CA (goes into kubeconfig's certificate-authority-data). */
  ca: string;
  cert: string;
  key: string;
}

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const TEN_YEARS = 3650 * 864e5;

type X509 = typeof import("@peculiar/x509");

/** The certificate library is loaded only to make certificates: a restart reads them from disk. */
async function loadX509(): Promise<X509> {
  await import("reflect-metadata");
  return import("@peculiar/x509");
}

async function pemKey(x509: X509, key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await crypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY");
}

function serial(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(12)))
    .toString("hex")
    .replace(/^[89a-f]/, "1");
}

/** The cluster CA: its certificate and key (PEM). Kept in DATA/pki so it outlives serving certificates. */
export interface CaMaterial {
  ca: string;
  caKey: string;
}

async function createCa(x509: X509): Promise<CaMaterial> {
  const now = new Date(Date.now() - 60_000);
  const caKeys = (await crypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: "CN=kube-ca",
    notBefore: now,
    notAfter: new Date(now.getTime() + TEN_YEARS),
    signingAlgorithm: ALG,
    keys: caKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  return { ca: ca.toString("pem"), caKey: await pemKey(x509, caKeys.privateKey) };
}

/** A serving certificate for `hosts`, signed by `ca` (made now when absent). */
export async function createTlsMaterial(hosts: string[], given?: CaMaterial): Promise<TlsMaterial & CaMaterial> {
  const x509 = await loadX509();
  const now = new Date(Date.now() - 60_000);
  const authority = given ?? (await createCa(x509));
  const caCert = new x509.X509Certificate(authority.ca);
  const caKey = await crypto.subtle.importKey(
    "pkcs8",
    x509.PemConverter.decode(authority.caKey)[0]!,
    { name: ALG.name, namedCurve: ALG.namedCurve },
    false,
    ["sign"],
  );
  const keys = (await crypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
  const names = [...new Set(hosts)].map((h) =>
    /^[\d.]+$/.test(h) || h.includes(":") ? { type: "ip" as const, value: h } : { type: "dns" as const, value: h },
  );
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: "CN=kube-apiserver",
    issuer: caCert.subject,
    notBefore: now,
    notAfter: new Date(now.getTime() + TEN_YEARS),
    signingAlgorithm: ALG,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.SubjectAlternativeNameExtension(names),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    ],
  });
  return { ...authority, cert: cert.toString("pem"), key: await pemKey(x509, keys.privateKey) };
}

/** Where DATA/pki keeps each piece. */
export function pkiFiles(dataDir: string) {
  const dir = join(dataDir, "pki");
  return {
    dir,
    ca: join(dir, "ca.crt"),
    caKey: join(dir, "ca.key"),
    cert: join(dir, "apiserver.crt"),
    key: join(dir, "apiserver.key"),
    hosts: join(dir, "hosts"),
  };
}

/**
 * Loads DATA/pki, or creates it. A serving certificate that does not cover `host` and `extraNames`
 * is re-issued by the same CA (its hash is in join tokens); only a data dir from before the CA key
 * was kept gets a new CA.
 */
export async function loadOrCreateTls(dataDir: string, host: string, extraNames: string[] = []): Promise<TlsMaterial> {
  const files = pkiFiles(dataDir);
  const hosts = ["127.0.0.1", "localhost", "::1", hostname(), host, ...extraNames].filter(
    (h) => h && h !== "0.0.0.0" && h !== "::",
  );
  const wanted = [...new Set(hosts)].sort().join(",");
  if (existsSync(files.key) && existsSync(files.hosts) && readFileSync(files.hosts, "utf8") === wanted)
    return {
      ca: readFileSync(files.ca, "utf8"),
      cert: readFileSync(files.cert, "utf8"),
      key: readFileSync(files.key, "utf8"),
    };
  const given =
    existsSync(files.ca) && existsSync(files.caKey)
      ? { ca: readFileSync(files.ca, "utf8"), caKey: readFileSync(files.caKey, "utf8") }
      : undefined;
  const m = await createTlsMaterial(hosts, given);
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  writeFileSync(files.ca, m.ca);
  writeFileSync(files.caKey, m.caKey, { mode: 0o600 });
  writeFileSync(files.cert, m.cert);
  writeFileSync(files.key, m.key, { mode: 0o600 });
  writeFileSync(files.hosts, wanted);
  return m;
}
