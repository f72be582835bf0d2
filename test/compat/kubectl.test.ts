// Real kubectl binaries (oldest and newest we have) against the real API server over HTTP:
// discovery, create -f, get tables, apply (client- and server-side), scale, label, delete,
// get -w, and error messages, exactly as a user types them.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeKubeconfig } from "../../src/client/kubeconfig.ts";
import { startTestApi, TEST_TOKEN, type TestApi } from "../helpers/api.ts";
import { KUBECTL_DIR, kubectlRunner } from "../helpers/kubectl.ts";

const VERSIONS = ["1.27", "1.30", "1.33"];

let api: TestApi;
let url: string;
let work: string;
beforeAll(async () => {
  api = await startTestApi();
  const served = await api.listen();
  url = served.url;
  work = mkdtempSync(join(tmpdir(), "kube-kubectl-"));
  writeKubeconfig(join(work, "kubeconfig"), { server: url, token: TEST_TOKEN, ca: served.ca, name: "kube" });
  kubectl = kubectlRunner(join(work, "kubeconfig"), work);
});
afterAll(async () => {
  await api.close();
  rmSync(work, { recursive: true, force: true });
});

let kubectl: ReturnType<typeof kubectlRunner>;

const manifest = (ns: string, image = "localhost/busybox:latest", replicas = 2) => `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${ns}
  labels: { app: web }
spec:
  replicas: ${replicas}
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      containers:
      - name: c
        image: ${image}
        ports: [{ containerPort: 80 }]
        env: [{ name: A, value: "1" }]
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: ${ns}
spec:
  selector: { app: web }
  ports: [{ port: 80, targetPort: 80 }]
`;

for (const v of VERSIONS) {
  describe(`kubectl ${v}`, () => {
    const ns = `ns-${v.replace(".", "-")}`;

    test("creates a namespace and objects from a multi-document file", async () => {
      // `kubectl create namespace` (a generator) sends protobuf from 1.33 on; files are JSON for every version.
      expect(
        (await kubectl(v, ["create", "-f", "-"], `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n`)).code,
      ).toBe(0);
      const file = join(work, `m-${v}.yaml`);
      writeFileSync(file, manifest(ns));
      const r = await kubectl(v, ["create", "-f", file]);
      expect(r.err).toBe("");
      expect(r.out).toContain("deployment.apps/web created");
      expect(r.out).toContain("service/web created");
    });

    test("get prints tables with kubectl's columns, with -o wide, -A and short names", async () => {
      const r = await kubectl(v, ["get", "deploy", "-n", ns]);
      expect(r.code).toBe(0);
      expect(r.out.split("\n")[0]).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE/);
      expect(r.out).toMatch(/^web\s/m);
      const svc = await kubectl(v, ["get", "svc", "-n", ns, "-o", "wide"]);
      expect(svc.out.split("\n")[0]).toMatch(/NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\s+SELECTOR/);
      expect(svc.out).toMatch(/web\s+ClusterIP\s+127\.\d+\.\d+\.\d+/);
      const all = await kubectl(v, ["get", "svc", "-A"]);
      expect(all.out).toMatch(new RegExp(`^${ns}\\s+web\\s`, "m"));
    });

    test("get -o json and jsonpath read real objects", async () => {
      const r = await kubectl(v, ["get", "deployment", "web", "-n", ns, "-o", "jsonpath={.spec.replicas}"]);
      expect(r.out).toBe("2");
    });

    test("apply of a changed file patches the object (strategic merge)", async () => {
      const file = join(work, `a-${v}.yaml`);
      writeFileSync(file, manifest(ns, "localhost/busybox:v2", 2));
      const first = await kubectl(v, ["apply", "-f", file]);
      expect(first.code).toBe(0);
      writeFileSync(file, manifest(ns, "localhost/busybox:v3", 4));
      const second = await kubectl(v, ["apply", "-f", file]);
      expect(second.err).toBe("");
      expect(second.out).toContain("deployment.apps/web configured");
      const got = JSON.parse((await kubectl(v, ["get", "deploy", "web", "-n", ns, "-o", "json"])).out);
      expect(got.spec.replicas).toBe(4);
      expect(got.spec.template.spec.containers).toHaveLength(1);
      expect(got.spec.template.spec.containers[0].image).toBe("localhost/busybox:v3");
      expect(got.spec.template.spec.containers[0].env).toEqual([{ name: "A", value: "1" }]);
    });

    test("scale and label work", async () => {
      expect((await kubectl(v, ["scale", "deployment", "web", "-n", ns, "--replicas=1"])).out).toContain("scaled");
      expect((await kubectl(v, ["label", "deployment", "web", "-n", ns, "tier=front"])).out).toContain("labeled");
      const got = JSON.parse((await kubectl(v, ["get", "deploy", "web", "-n", ns, "-o", "json"])).out);
      expect(got.spec.replicas).toBe(1);
      expect(got.metadata.labels.tier).toBe("front");
    });

    test("server-side apply creates and updates", async () => {
      const cm = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\n  namespace: ${ns}\ndata:\n  k: v1\n`;
      expect((await kubectl(v, ["apply", "--server-side", "-f", "-"], cm)).code).toBe(0);
      const r = await kubectl(v, ["apply", "--server-side", "-f", "-"], cm.replace("k: v1", "k: v2"));
      expect(r.code).toBe(0);
      expect(JSON.parse((await kubectl(v, ["get", "cm", "ssa", "-n", ns, "-o", "json"])).out).data.k).toBe("v2");
    });

    test("errors are the server's messages and a non-zero exit", async () => {
      const r = await kubectl(v, ["get", "pod", "nope", "-n", ns]);
      expect(r.code).toBe(1);
      expect(r.err).toContain('pods "nope" not found');
      const dup = await kubectl(
        v,
        ["create", "-f", "-"],
        `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n`,
      );
      expect(dup.code).toBe(1);
      expect(dup.err).toContain("already exists");
    });

    test("patch with all three types, and an unchanged apply", async () => {
      const merge = await kubectl(v, [
        "patch",
        "deployment",
        "web",
        "-n",
        ns,
        "--type=merge",
        "-p",
        '{"metadata":{"labels":{"patched":"merge"}}}',
      ]);
      expect(merge.out).toContain("patched");
      const json = await kubectl(v, [
        "patch",
        "deployment",
        "web",
        "-n",
        ns,
        "--type=json",
        "-p",
        '[{"op":"replace","path":"/spec/replicas","value":2}]',
      ]);
      expect(json.out).toContain("patched");
      const strategic = await kubectl(v, [
        "patch",
        "deployment",
        "web",
        "-n",
        ns,
        "-p",
        '{"spec":{"template":{"spec":{"containers":[{"name":"c","env":[{"name":"B","value":"2"}]}]}}}}',
      ]);
      expect(strategic.out).toContain("patched");
      const got = JSON.parse((await kubectl(v, ["get", "deploy", "web", "-n", ns, "-o", "json"])).out);
      expect(got.metadata.labels.patched).toBe("merge");
      expect(got.spec.replicas).toBe(2);
      expect(got.spec.template.spec.containers[0].env).toEqual([
        { name: "B", value: "2" },
        { name: "A", value: "1" },
      ]);
      const cm = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: same\n  namespace: ${ns}\ndata:\n  a: "1"\n`;
      expect((await kubectl(v, ["apply", "-f", "-"], cm)).out).toContain("configmap/same created");
      expect((await kubectl(v, ["apply", "-f", "-"], cm)).out).toContain("configmap/same unchanged");
    });

    test("describe shows the object and its events", async () => {
      const p = await api.json("POST", `/api/v1/namespaces/${ns}/pods`, {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "described" },
        spec: { containers: [{ name: "c", image: "localhost/busybox:latest" }] },
      });
      await api.json("POST", `/api/v1/namespaces/${ns}/events`, {
        apiVersion: "v1",
        kind: "Event",
        metadata: { name: "described.1" },
        involvedObject: { kind: "Pod", namespace: ns, name: "described", uid: p.body.metadata.uid },
        reason: "Testing",
        message: "an event for describe",
        type: "Normal",
      });
      const r = await kubectl(v, ["describe", "pod", "described", "-n", ns]);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^Name:\s+described$/m);
      expect(r.out).toContain("an event for describe");
      const d = await kubectl(v, ["describe", "deployment", "web", "-n", ns]);
      expect(d.code).toBe(0);
      expect(d.out).toMatch(/^Name:\s+web$/m);
      expect((await kubectl(v, ["get", "ns"])).out).toMatch(new RegExp(`^${ns}\\s+Active`, "m"));
    });

    test("kubectl create generators work (1.33 sends them as protobuf)", async () => {
      const gns = `gen-${v.replace(".", "-")}`;
      expect((await kubectl(v, ["create", "namespace", gns])).out).toContain(`namespace/${gns} created`);
      const run = async (args: string[]) => {
        const r = await kubectl(v, ["-n", gns, ...args]);
        expect(r.err).toBe("");
        return r.out;
      };
      expect(await run(["create", "configmap", "cm", "--from-literal=a=b"])).toContain("configmap/cm created");
      expect(await run(["create", "secret", "generic", "pw", "--from-literal=pw=s3cret"])).toContain(
        "secret/pw created",
      );
      expect(
        await run(["create", "deployment", "d", "--image=localhost/busybox:latest", "--replicas=2", "--port=8080"]),
      ).toContain("deployment.apps/d created");
      expect(await run(["create", "service", "nodeport", "svc", "--tcp=80:8080"])).toContain("service/svc created");
      expect(await run(["create", "job", "j", "--image=localhost/busybox:latest", "--", "echo", "hi"])).toContain(
        "job.batch/j created",
      );
      expect(await run(["create", "serviceaccount", "app"])).toContain("serviceaccount/app created");
      expect(await run(["create", "role", "reader", "--verb=get,list", "--resource=pods"])).toContain(
        "role.rbac.authorization.k8s.io/reader created",
      );
      expect(
        await run(["create", "rolebinding", "app-reads", "--role=reader", `--serviceaccount=${gns}:app`]),
      ).toContain("rolebinding.rbac.authorization.k8s.io/app-reads created");
      const get = async (what: string) => JSON.parse(await run(["get", what, "-o", "json"]));
      expect((await get("role/reader")).rules).toEqual([
        { apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] },
      ]);
      expect((await get("rolebinding/app-reads")).roleRef).toEqual({
        apiGroup: "rbac.authorization.k8s.io",
        kind: "Role",
        name: "reader",
      });
      expect((await get("cm/cm")).data).toEqual({ a: "b" });
      expect(Buffer.from((await get("secret/pw")).data.pw, "base64").toString()).toBe("s3cret");
      const d = await get("deployment/d");
      expect(d.spec.replicas).toBe(2);
      expect(d.spec.template.spec.containers[0]).toMatchObject({
        image: "localhost/busybox:latest",
        ports: [{ containerPort: 8080 }],
      });
      expect((await get("service/svc")).spec).toMatchObject({
        type: "NodePort",
        ports: [{ port: 80, targetPort: 8080 }],
      });
      expect((await get("job/j")).spec.template.spec).toMatchObject({
        restartPolicy: "Never",
        containers: [{ command: ["echo", "hi"] }],
      });

      expect(
        await run([
          "create",
          "cronjob",
          "cj",
          "--image=localhost/busybox:latest",
          "--schedule=*/5 * * * *",
          "--",
          "echo",
          "hi",
        ]),
      ).toContain("cronjob.batch/cj created");
      expect(
        await run([
          "create",
          "ingress",
          "ing",
          "--class=nginx",
          "--rule=web.test/app=web:8080,tls=cert",
          "--default-backend=fallback:http",
        ]),
      ).toContain("ingress.networking.k8s.io/ing created");
      expect(
        await run(["create", "poddisruptionbudget", "pdb", "--selector=app=web", "--min-available=50%"]),
      ).toContain("poddisruptionbudget.policy/pdb created");
      expect(await run(["create", "quota", "q", "--hard=pods=10,requests.cpu=2"])).toContain("resourcequota/q created");
      expect(
        await kubectl(v, ["create", "priorityclass", `pc-${gns}`, "--value=100", "--description=gen"]).then(
          (r) => r.out,
        ),
      ).toContain(`priorityclass.scheduling.k8s.io/pc-${gns} created`);
      const cj = await get("cronjob/cj");
      expect(cj.spec.schedule).toBe("*/5 * * * *");
      expect(cj.spec.jobTemplate.spec.template.spec.containers[0]).toMatchObject({
        image: "localhost/busybox:latest",
        command: ["echo", "hi"],
      });
      expect((await get("ingress/ing")).spec).toEqual({
        ingressClassName: "nginx",
        defaultBackend: { service: { name: "fallback", port: { name: "http" } } },
        rules: [
          {
            host: "web.test",
            http: {
              paths: [
                { path: "/app", pathType: "Exact", backend: { service: { name: "web", port: { number: 8080 } } } },
              ],
            },
          },
        ],
        tls: [{ hosts: ["web.test"], secretName: "cert" }],
      });
      expect((await get("pdb/pdb")).spec).toMatchObject({
        minAvailable: "50%",
        selector: { matchLabels: { app: "web" } },
      });
      expect((await get("quota/q")).spec.hard).toEqual({ pods: "10", "requests.cpu": "2" });
      expect(JSON.parse((await kubectl(v, ["get", `priorityclass/pc-${gns}`, "-o", "json"])).out)).toMatchObject({
        value: 100,
        description: "gen",
      });
      // autoscale sends autoscaling/v2 from 1.33 on; older kubectl use autoscaling/v1, which is not served.
      if (v === "1.33") {
        expect(await run(["autoscale", "deployment", "d", "--min=1", "--max=4", "--cpu-percent=60"])).toContain(
          "horizontalpodautoscaler.autoscaling/d autoscaled",
        );
        expect((await get("hpa/d")).spec).toEqual({
          scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "d" },
          minReplicas: 1,
          maxReplicas: 4,
          metrics: [
            { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 60 } } },
          ],
        });
      }
      const token = (await run(["create", "token", "app", "--duration=1h"])).trim();
      expect(JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()).sub).toBe(
        `system:serviceaccount:${gns}:app`,
      );
    });

    test("api-resources lists kinds with short names", async () => {
      const r = await kubectl(v, ["api-resources"]);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^pods\s+po\s+v1\s+true\s+Pod/m);
      expect(r.out).toMatch(/^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment/m);
    });

    test("delete removes objects and get all no longer shows them", async () => {
      const r = await kubectl(v, ["delete", "deployment", "web", "-n", ns]);
      expect(r.out).toContain('deployment.apps "web" deleted');
      const all = await kubectl(v, ["get", "all", "-n", ns]);
      expect(all.code).toBe(0);
      expect(all.out).not.toContain("deployment.apps/web");
      expect(all.out).toContain("service/web");
    });
  });
}

test("kubectl get -w streams changes as they happen", async () => {
  await api.json("POST", "/api/v1/namespaces/default/configmaps", {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "watched" },
  });
  const proc = Bun.spawn(
    [
      `${KUBECTL_DIR}/kubectl.1.30`,
      "--kubeconfig",
      join(work, "kubeconfig"),
      "--cache-dir",
      join(work, "cache-w"),
      "get",
      "cm",
      "-w",
      "-o",
      "name",
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  const reader = proc.stdout.getReader();
  let out = "";
  const deadline = Date.now() + 10_000;
  let created = false;
  try {
    while (!out.includes("configmap/later") && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      out += new TextDecoder().decode(value);
      if (!created && out.includes("configmap/watched")) {
        created = true;
        await api.json("POST", "/api/v1/namespaces/default/configmaps", {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: "later" },
        });
      }
    }
  } finally {
    proc.kill();
  }
  expect(out).toContain("configmap/watched");
  expect(out).toContain("configmap/later");
});

describe("an application's companion kinds", () => {
  const app = `
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: { name: nginx }
spec: { controller: k8s.io/ingress-nginx }
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: web, namespace: default }
spec:
  ingressClassName: nginx
  rules:
  - host: web.example.test
    http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }] }
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: web, namespace: default }
spec: { podSelector: { matchLabels: { app: web } }, policyTypes: [Ingress] }
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: web, namespace: default }
spec: { minAvailable: 1, selector: { matchLabels: { app: web } } }
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: { name: web, namespace: default }
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: web }
  maxReplicas: 5
  metrics: [{ type: Resource, resource: { name: cpu, target: { type: Utilization, averageUtilization: 60 } } }]
---
apiVersion: v1
kind: ResourceQuota
metadata: { name: compute, namespace: default }
spec: { hard: { requests.cpu: "4", limits.memory: 8Gi } }
---
apiVersion: v1
kind: LimitRange
metadata: { name: defaults, namespace: default }
spec: { limits: [{ type: Container, default: { cpu: 500m } }] }
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: { name: high }
value: 1000
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: { name: local }
provisioner: kube.io/local-path
`;

  for (const v of ["1.27", "1.33"])
    test(`kubectl ${v} applies them, lists them in kubectl's columns, and deletes them`, async () => {
      const file = join(work, `app-${v}.yaml`);
      writeFileSync(file, app);
      const applied = await kubectl(v, ["apply", "-f", file]);
      expect(applied.err).toBe("");
      expect(applied.out.trim().split("\n")).toHaveLength(9);
      const again = await kubectl(v, ["apply", "-f", file]);
      expect(again.out).toContain("ingress.networking.k8s.io/web unchanged");
      expect((await kubectl(v, ["get", "ing"])).out).toMatch(
        /^NAME\s+CLASS\s+HOSTS\s+ADDRESS\s+PORTS\s+AGE\nweb\s+nginx\s+web\.example\.test\s+80\s+/,
      );
      expect((await kubectl(v, ["get", "hpa"])).out).toMatch(/web\s+Deployment\/web\s+<unknown>\/60%\s+1\s+5\s+0/);
      expect((await kubectl(v, ["get", "pdb"])).out).toMatch(/web\s+1\s+N\/A\s+0/);
      expect((await kubectl(v, ["get", "pc", "high", "-o", "jsonpath={.value} {.preemptionPolicy}"])).out).toBe(
        "1000 PreemptLowerPriority",
      );
      expect((await kubectl(v, ["get", "sc"])).out).toMatch(
        /local\s+kube\.io\/local-path\s+Delete\s+Immediate\s+false/,
      );
      const bad = await kubectl(
        v,
        ["apply", "-f", "-"],
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: { name: broken }\nspec: { " +
          "scaleTargetRef: { kind: Deployment, name: web }, minReplicas: 3, maxReplicas: 2 }\n",
      );
      expect(bad.code).not.toBe(0);
      expect(bad.err).toContain("must be greater than or equal to `minReplicas`");
      const deleted = await kubectl(v, ["delete", "-f", file]);
      expect(deleted.code).toBe(0);
      expect((await kubectl(v, ["get", "ing,hpa,pdb,netpol,quota,limits", "-o", "name"])).out).toBe("");
    });
});

describe("CronJobs through kubectl", () => {
  for (const v of ["1.27", "1.33"])
    test(`kubectl ${v}: apply, get in kubectl's columns, and create job --from=cronjob`, async () => {
      const cj = `apiVersion: batch/v1
kind: CronJob
metadata: { name: nightly-${v.replace(".", "")} }
spec:
  schedule: "0 3 * * *"
  timeZone: Europe/Paris
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{ name: backup, image: localhost/busybox:latest, command: [echo, done] }]
`;
      const name = `nightly-${v.replace(".", "")}`;
      expect((await kubectl(v, ["apply", "-f", "-"], cj)).out).toBe(`cronjob.batch/${name} created\n`);
      expect((await kubectl(v, ["get", "cronjob", name])).out).toMatch(
        new RegExp(
          `^NAME\\s+SCHEDULE\\s+TIMEZONE\\s+SUSPEND\\s+ACTIVE\\s+LAST SCHEDULE\\s+AGE\\n${name}\\s+0 3 \\* \\* \\*\\s+Europe/Paris\\s+False\\s+0\\s+<none>`,
        ),
      );
      const manual = await kubectl(v, ["create", "job", `${name}-manual`, `--from=cronjob/${name}`]);
      expect(manual.err).toBe("");
      const job = JSON.parse((await kubectl(v, ["get", "job", `${name}-manual`, "-o", "json"])).out);
      expect(job.metadata.ownerReferences[0]).toMatchObject({ kind: "CronJob", name });
      expect(job.spec.template.spec.containers[0].command).toEqual(["echo", "done"]);
      const bad = await kubectl(v, ["apply", "-f", "-"], cj.replace("Europe/Paris", "Mars/Olympus"));
      expect(bad.code).not.toBe(0);
      expect(bad.err).toContain("spec.timeZone");
    });
});
