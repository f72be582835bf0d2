#!/usr/bin/python3
"""Writes src/api/zero-fields.json: for every kind kube serves, the fields its objects must
always carry (required in the official client's OpenAPI models, i.e. declared without
omitempty in k8s.io/api), reachable from the kind's model. Run with Debian's
python3-kubernetes installed: /usr/bin/python3 scripts/gen-zero-fields.py

Format: {"models": {Model: {jsonKey: spec}}, "kinds": {"apiVersion/Kind": Model}} where spec
is "int" | "str" | "bool" | "list" (a required zero-able field), ["obj", Model, required]
or ["list", Model] / ["map", Model] (children to walk)."""
import json, re, sys
from kubernetes import client
from kubernetes.client import models
from kubernetes.client.configuration import Configuration

KINDS = {
    "v1": ["Pod", "Service", "ReplicationController", "Node", "Endpoints", "Binding", "Namespace", "ConfigMap", "Secret",
           "ServiceAccount", "PersistentVolumeClaim", "PersistentVolume", "ResourceQuota", "LimitRange", "PodTemplate",
           "ComponentStatus"],
    "apps/v1": ["Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "ControllerRevision"],
    "batch/v1": ["Job", "CronJob"],
    "coordination.k8s.io/v1": ["Lease"],
    "rbac.authorization.k8s.io/v1": ["Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"],
    "networking.k8s.io/v1": ["Ingress", "IngressClass", "NetworkPolicy"],
    "policy/v1": ["PodDisruptionBudget"],
    "autoscaling/v1": ["HorizontalPodAutoscaler"],
    "scheduling.k8s.io/v1": ["PriorityClass"],
    "storage.k8s.io/v1": ["StorageClass", "CSIDriver", "CSINode", "VolumeAttachment"],
    "discovery.k8s.io/v1": ["EndpointSlice"],
    "apiregistration.k8s.io/v1": ["APIService"],
    "apiextensions.k8s.io/v1": ["CustomResourceDefinition"],
    "admissionregistration.k8s.io/v1": ["ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"],
    "node.k8s.io/v1": ["RuntimeClass"],
    "certificates.k8s.io/v1": ["CertificateSigningRequest"],
}
# Model names the client gives kinds whose name is used by two groups.
SPECIAL = {("v1", "Event"): "CoreV1Event", ("events.k8s.io/v1", "Event"): "EventsV1Event",
           ("autoscaling/v2", "HorizontalPodAutoscaler"): "V2beta2HorizontalPodAutoscaler"}
SCALARS = {"int": "int", "str": "str", "bool": "bool", "float": "int"}

def model_name(api_version, kind):
    if (api_version, kind) in SPECIAL:
        return SPECIAL[(api_version, kind)]
    return api_version.split("/")[-1].capitalize() + kind

cfg = Configuration()
cfg.client_side_validation = True

def required(cls, attr):
    obj = cls.__new__(cls)
    obj.local_vars_configuration = cfg
    try:
        setattr(obj, attr, None)
        return False
    except ValueError:
        return True

out = {}
def walk(name):
    if name in out:
        return
    cls = getattr(models, name, None)
    if cls is None:
        return
    out[name] = {}
    for attr, typ in cls.openapi_types.items():
        key = cls.attribute_map[attr]
        req = required(cls, attr)
        m = re.fullmatch(r"list\[(\w+)\]", typ)
        d = re.fullmatch(r"dict\(str, (\w+)\)", typ)
        if typ in SCALARS:
            if req:
                out[name][key] = SCALARS[typ]
        elif m and hasattr(models, m.group(1)):
            walk(m.group(1))
            out[name][key] = ["list", m.group(1), req]
        elif m or typ.startswith("dict("):
            if d and hasattr(models, d.group(1)):
                walk(d.group(1))
                out[name][key] = ["map", d.group(1)]
            elif req and m:
                out[name][key] = "list"
        elif hasattr(models, typ):
            walk(typ)
            out[name][key] = ["obj", typ, req]
    if not out[name]:
        pass

kinds = {}
for api_version, names in KINDS.items():
    for kind in names:
        kinds[f"{api_version}/{kind}"] = model_name(api_version, kind)
for (api_version, kind), name in SPECIAL.items():
    kinds[f"{api_version}/{kind}"] = name
for name in list(kinds.values()):
    walk(name)
missing = [k for k, n in kinds.items() if n not in out]
for k in missing:
    del kinds[k]

# Drop models with nothing to fill anywhere below them.
def useful(name, seen=()):
    if name in seen:
        return False
    for spec in out[name].values():
        if isinstance(spec, str):
            return True
        if spec[0] == "obj" and spec[2]:
            return True
        if useful(spec[1], seen + (name,)):
            return True
    return False
keep = {n for n in out if useful(n)}
pruned = {}
for n in keep:
    fields = {}
    for key, spec in out[n].items():
        if isinstance(spec, str) or spec[1] in keep or (spec[0] == "obj" and spec[2]):
            fields[key] = spec
    pruned[n] = fields
json.dump({"source": f"python3-kubernetes {client.__version__ if hasattr(client, '__version__') else ''}".strip(), "models": dict(sorted(pruned.items())),
           "kinds": {k: v for k, v in sorted(kinds.items()) if v in keep}}, sys.stdout, indent=None, separators=(",", ":"))
sys.stdout.write("\n")
if missing:
    print("no model for: " + ", ".join(missing), file=sys.stderr)
