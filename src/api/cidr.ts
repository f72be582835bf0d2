// IPv4 addresses and service ranges as numbers: shared by the allocator, the proxy and the DNS server.

export function ipToInt(ip: string): number | undefined {
  const parts = ip.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}
export const intToIp = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");

export function parseCidr(cidr: string): { first: number; last: number } {
  const [ip, bits] = cidr.split("/");
  const base = ipToInt(ip ?? "");
  const b = Number(bits);
  if (base === undefined || !Number.isInteger(b) || b < 8 || b > 30) throw new Error(`invalid service CIDR ${cidr}`);
  const size = 2 ** (32 - b);
  const first = base - (base % size);
  // Skip the network address and the .1 the way Kubernetes reserves the first address.
  return { first: first + 2, last: first + size - 2 };
}

/** The address Kubernetes reserves for the `default/kubernetes` service: the range's first. */
export function kubernetesServiceIp(cidr: string): string {
  return intToIp(parseCidr(cidr).first - 1);
}

/** The range's tenth address, which Kubernetes installers reserve for the cluster DNS service. */
export function dnsServiceIp(cidr: string): string {
  return intToIp(parseCidr(cidr).first + 8);
}

/** Whether `ip` lies in 127.0.0.0/8. */
export const isLoopbackIp = (ip: string) => ip.startsWith("127.");

/** The blocks of `clusterCidr` of size /maskSize, in order (upstream's cidrset). */
export function podCidrBlocks(clusterCidr: string, maskSize: number): { count: number; block(i: number): string } {
  const [ip, bits] = clusterCidr.split("/");
  const base = ipToInt(ip ?? "");
  const prefix = Number(bits);
  if (base === undefined || !Number.isInteger(prefix) || prefix < 8 || prefix > 30)
    throw new Error(`invalid cluster CIDR ${clusterCidr}`);
  if (!Number.isInteger(maskSize) || maskSize < prefix || maskSize > 30)
    throw new Error(`node CIDR mask size ${maskSize} must be between ${prefix} and 30 for cluster CIDR ${clusterCidr}`);
  const first = base - (base % 2 ** (32 - prefix));
  return {
    count: 2 ** (maskSize - prefix),
    block: (i) => `${intToIp(first + i * 2 ** (32 - maskSize))}/${maskSize}`,
  };
}
