// The kernel data plane's rules, as nft scripts: what kube-proxy's nftables mode does, sized for
// one node. Every service port gets a chain that picks an endpoint (numgen inc for round robin,
// numgen random for random, a per-endpoint set of client addresses for ClientIP affinity), and
// every endpoint a chain that DNATs to it. Only the first packet of a connection sees these chains;
// conntrack carries the rest, so established connections survive endpoint changes.
import { createHash } from "node:crypto";
import type { ServicePortSpec } from "./table.ts";

/** Marks connections we DNAT so postrouting can masquerade the ones that leave through the bridge. */
export const MASQUERADE_MARK = "0x4000";

export interface RenderedState {
  chains: Set<string>;
  sets: Set<string>;
}

const hash = (s: string) => createHash("sha1").update(s).digest("hex").slice(0, 12);
const quote = (s: string) => `"${s.replace(/["\\]/g, "")}"`;
const proto = (p: ServicePortSpec["protocol"]) => (p === "UDP" ? "udp" : "tcp");

/** Creates the table afresh with its base chains (hooks), replacing any table of that name. */
export function renderBase(table: string): string {
  return [
    `table ip ${table} {}`,
    `delete table ip ${table}`,
    `table ip ${table} {`,
    `  chain services {}`,
    `  chain no_endpoints {}`,
    `  chain nat_output {`,
    `    type nat hook output priority -100; policy accept;`,
    `    jump services`,
    `  }`,
    `  chain nat_prerouting {`,
    `    type nat hook prerouting priority -100; policy accept;`,
    // Loopback addresses (cluster IPs, 127.0.0.1 NodePorts) are the host's own, never reached from outside.
    `    ip daddr 127.0.0.0/8 return`,
    `    jump services`,
    `  }`,
    `  chain nat_postrouting {`,
    `    type nat hook postrouting priority 100; policy accept;`,
    // Host traffic to a cluster IP leaves with a loopback source, and pod traffic to a pod on the
    // same bridge would get its reply straight from that pod: both need the node's bridge address.
    `    meta mark & ${MASQUERADE_MARK} == ${MASQUERADE_MARK} oifname != "lo" masquerade`,
    `  }`,
    `  chain filter_output {`,
    `    type filter hook output priority 0; policy accept;`,
    `    jump no_endpoints`,
    `  }`,
    `  chain filter_input {`,
    `    type filter hook input priority 0; policy accept;`,
    // route_localnet on the bridge lets our DNAT reach 127.0.0.1 endpoints; nothing else may
    // use it to reach the host's loopback services from a container (CVE-2020-8558).
    `    iifname != "lo" ip daddr 127.0.0.0/8 ct status & dnat == 0 drop`,
    `    jump no_endpoints`,
    `  }`,
    `}`,
    "",
  ].join("\n");
}

/**
 * One transaction that brings the table from `previous` to `specs`: chains that stay are flushed
 * and refilled (affinity sets that stay keep their clients), the rest deleted.
 */
export function renderSync(
  table: string,
  specs: ServicePortSpec[],
  previous: RenderedState,
): { script: string; state: RenderedState } {
  const out: string[] = [];
  const rules: string[] = [];
  const chains = new Set<string>();
  const sets = new Set<string>();
  const chain = (name: string) => {
    if (chains.has(name)) return;
    chains.add(name);
    out.push(`add chain ip ${table} ${name}`, `flush chain ip ${table} ${name}`);
  };
  const rule = (chainName: string, text: string) => rules.push(`add rule ip ${table} ${chainName} ${text}`);
  out.push(`flush chain ip ${table} services`, `flush chain ip ${table} no_endpoints`);

  for (const spec of specs) {
    const match = (addr: string) => `ip daddr ${addr} ${proto(spec.protocol)} dport ${spec.port}`;
    const comment = `comment ${quote(spec.key)}`;
    if (spec.endpoints.length === 0) {
      const reject = spec.protocol === "UDP" ? "reject" : "reject with tcp reset";
      for (const addr of spec.bindAddresses) rule("no_endpoints", `${match(addr)} ${reject} ${comment}`);
      continue;
    }
    const svcChain = `svc_${hash(spec.key)}`;
    chain(svcChain);
    for (const addr of spec.bindAddresses) rule("services", `${match(addr)} goto ${svcChain} ${comment}`);
    const timeout = spec.affinity.type === "ClientIP" ? (spec.affinity.timeoutSeconds ?? 10800) : 0;
    const targets: string[] = [];
    for (const ep of spec.endpoints) {
      const id = hash(`${spec.key}|${ep.ip}:${ep.port}`);
      const epChain = `ep_${id}`;
      if (chains.has(epChain)) continue; // the same endpoint listed twice
      chain(epChain);
      targets.push(epChain);
      if (timeout) {
        const set = `aff_${id}_${timeout}`;
        sets.add(set);
        out.push(`add set ip ${table} ${set} { type ipv4_addr; flags dynamic,timeout; timeout ${timeout}s; }`);
        rule(svcChain, `ip saddr @${set} goto ${epChain}`);
        rule(epChain, `update @${set} { ip saddr }`);
      }
      rule(
        epChain,
        `meta l4proto ${proto(spec.protocol)} meta mark set meta mark | ${MASQUERADE_MARK} dnat to ${ep.ip}:${ep.port}`,
      );
    }
    if (targets.length === 1) rule(svcChain, `goto ${targets[0]}`);
    else {
      const gen = spec.mode === "random" ? "random" : "inc";
      rule(
        svcChain,
        `numgen ${gen} mod ${targets.length} vmap { ${targets.map((t, i) => `${i} : goto ${t}`).join(", ")} }`,
      );
    }
  }
  out.push(...rules);
  // Stale chains are emptied before any is deleted, so no deletion meets a reference.
  const staleChains = [...previous.chains].filter((c) => !chains.has(c));
  for (const c of staleChains) out.push(`flush chain ip ${table} ${c}`);
  for (const c of staleChains) out.push(`delete chain ip ${table} ${c}`);
  for (const s of previous.sets) if (!sets.has(s)) out.push(`delete set ip ${table} ${s}`);
  return { script: out.join("\n") + "\n", state: { chains, sets } };
}
