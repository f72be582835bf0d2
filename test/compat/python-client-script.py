"""The official Python client (Debian's python3-kubernetes) against kube: every kind listed and
read through the typed APIs, so each object is deserialized into the client's models (which
raise on a missing required field), and a watch with watch=True. Prints one JSON line."""
import json
import sys
import threading

from kubernetes import client, config, watch

config.load_kube_config(config_file=sys.argv[1])
api = client.ApiClient()
core, apps, batch = client.CoreV1Api(api), client.AppsV1Api(api), client.BatchV1Api(api)
rbac, net, coord = client.RbacAuthorizationV1Api(api), client.NetworkingV1Api(api), client.CoordinationV1Api(api)
policy, sched, storage = client.PolicyV1Api(api), client.SchedulingV1Api(api), client.StorageV1Api(api)
autoscaling = client.AutoscalingV1Api(api)

# kind: (list all, read one (name, namespace) -> object, namespaced)
KINDS = {
    "Pod": (core.list_pod_for_all_namespaces, core.read_namespaced_pod, True),
    "Service": (core.list_service_for_all_namespaces, core.read_namespaced_service, True),
    "ReplicationController": (core.list_replication_controller_for_all_namespaces, core.read_namespaced_replication_controller, True),
    "Node": (core.list_node, core.read_node, False),
    "Endpoints": (core.list_endpoints_for_all_namespaces, core.read_namespaced_endpoints, True),
    "Event": (core.list_event_for_all_namespaces, core.read_namespaced_event, True),
    "Namespace": (core.list_namespace, core.read_namespace, False),
    "ConfigMap": (core.list_config_map_for_all_namespaces, core.read_namespaced_config_map, True),
    "Secret": (core.list_secret_for_all_namespaces, core.read_namespaced_secret, True),
    "ServiceAccount": (core.list_service_account_for_all_namespaces, core.read_namespaced_service_account, True),
    "PersistentVolumeClaim": (core.list_persistent_volume_claim_for_all_namespaces, core.read_namespaced_persistent_volume_claim, True),
    "PersistentVolume": (core.list_persistent_volume, core.read_persistent_volume, False),
    "ResourceQuota": (core.list_resource_quota_for_all_namespaces, core.read_namespaced_resource_quota, True),
    "LimitRange": (core.list_limit_range_for_all_namespaces, core.read_namespaced_limit_range, True),
    "Deployment": (apps.list_deployment_for_all_namespaces, apps.read_namespaced_deployment, True),
    "ReplicaSet": (apps.list_replica_set_for_all_namespaces, apps.read_namespaced_replica_set, True),
    "DaemonSet": (apps.list_daemon_set_for_all_namespaces, apps.read_namespaced_daemon_set, True),
    "StatefulSet": (apps.list_stateful_set_for_all_namespaces, apps.read_namespaced_stateful_set, True),
    "Job": (batch.list_job_for_all_namespaces, batch.read_namespaced_job, True),
    "CronJob": (batch.list_cron_job_for_all_namespaces, batch.read_namespaced_cron_job, True),
    "Lease": (coord.list_lease_for_all_namespaces, coord.read_namespaced_lease, True),
    "Role": (rbac.list_role_for_all_namespaces, rbac.read_namespaced_role, True),
    "RoleBinding": (rbac.list_role_binding_for_all_namespaces, rbac.read_namespaced_role_binding, True),
    "ClusterRole": (rbac.list_cluster_role, rbac.read_cluster_role, False),
    "ClusterRoleBinding": (rbac.list_cluster_role_binding, rbac.read_cluster_role_binding, False),
    "Ingress": (net.list_ingress_for_all_namespaces, net.read_namespaced_ingress, True),
    "IngressClass": (net.list_ingress_class, net.read_ingress_class, False),
    "NetworkPolicy": (net.list_network_policy_for_all_namespaces, net.read_namespaced_network_policy, True),
    "PodDisruptionBudget": (policy.list_pod_disruption_budget_for_all_namespaces, policy.read_namespaced_pod_disruption_budget, True),
    "HorizontalPodAutoscaler": (autoscaling.list_horizontal_pod_autoscaler_for_all_namespaces, autoscaling.read_namespaced_horizontal_pod_autoscaler, True),
    "PriorityClass": (sched.list_priority_class, sched.read_priority_class, False),
    "StorageClass": (storage.list_storage_class, storage.read_storage_class, False),
}

result = {"kinds": {}, "errors": {}}
for kind, (list_all, read, namespaced) in KINDS.items():
    try:
        items = list_all().items
        for o in items:
            if namespaced:
                read(o.metadata.name, o.metadata.namespace)
            else:
                read(o.metadata.name)
        result["kinds"][kind] = sorted(f"{o.metadata.namespace or ''}/{o.metadata.name}" for o in items)
    except Exception as e:  # a model refusing the object, or an API error
        result["errors"][kind] = f"{type(e).__name__}: {e}"[:400]

# A watch (the client sends watch=True): the existing ConfigMaps arrive as ADDED, then one
# created meanwhile.
ns = sys.argv[2]
seen = []
w = watch.Watch()
def create_later():
    core.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="py-watched"), data={"k": "v"}))
timer = None
try:
    for ev in w.stream(core.list_namespaced_config_map, ns, timeout_seconds=20):
        obj = ev["object"]
        seen.append(f"{ev['type']} {obj.metadata.name}")
        if obj.metadata.name == "py-watched":
            w.stop()
        elif timer is None and ev["type"] == "ADDED":
            timer = threading.Timer(0.2, create_later)
            timer.start()
except Exception as e:
    result["errors"]["watch"] = f"{type(e).__name__}: {e}"[:400]
result["watch"] = seen

# A typed create: the model is sent with apiVersion/kind left out.
try:
    made = apps.create_namespaced_deployment(ns, client.V1Deployment(
        metadata=client.V1ObjectMeta(name="py-typed"),
        spec=client.V1DeploymentSpec(
            selector=client.V1LabelSelector(match_labels={"app": "py-typed"}),
            template=client.V1PodTemplateSpec(metadata=client.V1ObjectMeta(labels={"app": "py-typed"}),
                                              spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox")])))))
    result["typedCreate"] = [made.api_version, made.kind, made.status.to_dict() if made.status else None]
except Exception as e:
    result["errors"]["typedCreate"] = f"{type(e).__name__}: {e}"[:400]
print(json.dumps(result))
