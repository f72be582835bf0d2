// Reading a resolv.conf (the host's): shared by the DNS server (where other names go) and the
// kubelet (what pods with dnsPolicy Default, and the search list of ClusterFirst, get).
import { readFileSync } from "node:fs";

export interface ResolvConf {
  nameservers: string[];
  searches: string[];
  options: string[];
}

/** Nameservers, search domains and options of a resolv.conf file. */
export function readResolvConf(path: string): ResolvConf {
  let text = "";
  try {
    text = readFileSync(path, "utf8");
  } catch {}
  const out: ResolvConf = { nameservers: [], searches: [], options: [] };
  for (const line of text.split("\n")) {
    const [key, ...rest] = line
      .replace(/[#;].*$/, "")
      .trim()
      .split(/\s+/);
    if (key === "nameserver" && rest[0]) out.nameservers.push(rest[0]);
    else if (key === "search" || key === "domain") out.searches = rest;
    else if (key === "options") out.options.push(...rest);
  }
  return out;
}
