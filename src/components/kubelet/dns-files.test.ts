// The kubelet's resolv.conf and hosts files for a pod (dnsPolicy, dnsConfig, hostname/subdomain,
// hostAliases), as upstream's kubelet writes them.
import { describe, expect, test } from "bun:test";
import type { Pod } from "../../api/kinds/pod.ts";
import { podHostsFile, podResolvConf } from "./dns-files.ts";

const pod = (spec: Partial<Pod["spec"]>, name = "p"): Pod =>
  ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "apps", uid: "u" },
    spec: { containers: [], ...spec },
  }) as Pod;
const host = { nameservers: ["192.0.2.53"], searches: ["corp.example"], options: ["timeout:2"] };

describe("kubelet resolv.conf and hosts", () => {
  const conf = (spec: Partial<Pod["spec"]>) =>
    podResolvConf(pod(spec), { clusterDns: "10.43.0.10", domain: "cluster.local", host });
  test("each dnsPolicy", () => {
    expect(conf({}).text).toBe(
      "search apps.svc.cluster.local svc.cluster.local cluster.local corp.example\nnameserver 10.43.0.10\noptions ndots:5\n",
    );
    expect(conf({ dnsPolicy: "Default" }).text).toBe("search corp.example\nnameserver 192.0.2.53\noptions timeout:2\n");
    expect(
      conf({
        dnsPolicy: "None",
        dnsConfig: {
          nameservers: ["1.2.3.4"],
          searches: ["a.b"],
          options: [{ name: "ndots", value: "2" }, { name: "edns0" }],
        },
      }).text,
    ).toBe("search a.b\nnameserver 1.2.3.4\noptions ndots:2 edns0\n");
    expect(
      conf({
        dnsConfig: {
          nameservers: ["1.2.3.4", "10.43.0.10"],
          searches: ["x.y", "cluster.local"],
          options: [{ name: "ndots", value: "1" }],
        },
      }).text,
    ).toBe(
      "search apps.svc.cluster.local svc.cluster.local cluster.local corp.example x.y\nnameserver 10.43.0.10\nnameserver 1.2.3.4\noptions ndots:1\n",
    );
    expect(conf({ hostNetwork: true }).text).toBe(conf({ dnsPolicy: "Default" }).text);
    expect(conf({ dnsPolicy: "ClusterFirstWithHostNet", hostNetwork: true }).text).toContain("nameserver 10.43.0.10");
    const none = podResolvConf(pod({}), { domain: "cluster.local", host });
    expect([none.fallback, none.text]).toEqual([true, conf({ dnsPolicy: "Default" }).text]);
  });

  test("hosts: the pod's name, its FQDN with a subdomain, and hostAliases", () => {
    const plain = podHostsFile(pod({}), "10.88.0.5", "cluster.local");
    expect(
      plain.startsWith(
        "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
      ),
    ).toBe(true);
    expect(plain.trim().split("\n").at(-1)).toBe("10.88.0.5\tp");
    const sts = podHostsFile(
      pod(
        {
          hostname: "db-0",
          subdomain: "db",
          hostAliases: [{ ip: "127.0.0.2", hostnames: ["foo.local", "bar.local"] }],
        },
        "db-0",
      ),
      "10.88.0.6",
      "cluster.local",
    );
    expect(sts.trim().split("\n").slice(-4)).toEqual([
      "10.88.0.6\tdb-0.db.apps.svc.cluster.local\tdb-0",
      "",
      "# Entries added by HostAliases.",
      "127.0.0.2\tfoo.local\tbar.local",
    ]);
  });
});
