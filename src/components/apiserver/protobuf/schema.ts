// Field numbers of the Kubernetes messages that kubectl's generators (`kubectl create
// namespace|configmap|secret|service|deployment|job|cronjob|ingress|pdb|quota|priorityclass|
// serviceaccount|role|rolebinding|token|...`, and `kubectl autoscale`) send as protobuf, mapped to their JSON
// names and types. Only what those requests carry; anything else is skipped.
export type FieldType =
  | "string"
  | "int"
  | "bool"
  | "bytes"
  | "quantity"
  | "intOrString"
  | `msg:${string}`
  | "map"
  | "mapBytes"
  | "mapQuantity";
export interface FieldDef {
  name: string;
  type: FieldType;
  repeated?: boolean;
  /** Pointer fields in Go: a zero value was set on purpose and is kept. */
  keepZero?: boolean;
  /** Embedded in JSON (`json:",inline"`): the message's fields go into the parent. */
  inline?: boolean;
}
export type MessageDef = Record<number, FieldDef>;

const f = (name: string, type: FieldType, extra: Partial<FieldDef> = {}): FieldDef => ({ name, type, ...extra });

export const MESSAGES: Record<string, MessageDef> = {
  Unknown: { 1: f("typeMeta", "msg:TypeMeta"), 2: f("raw", "bytes") },
  TypeMeta: { 1: f("apiVersion", "string"), 2: f("kind", "string") },
  ObjectMeta: {
    1: f("name", "string"),
    2: f("generateName", "string"),
    3: f("namespace", "string"),
    11: f("labels", "map"),
    12: f("annotations", "map"),
    13: f("ownerReferences", "msg:OwnerReference", { repeated: true }),
    14: f("finalizers", "string", { repeated: true }),
  },
  OwnerReference: {
    1: f("kind", "string"),
    3: f("name", "string"),
    4: f("uid", "string"),
    5: f("apiVersion", "string"),
    6: f("controller", "bool", { keepZero: true }),
    7: f("blockOwnerDeletion", "bool", { keepZero: true }),
  },
  Namespace: { 1: f("metadata", "msg:ObjectMeta"), 2: f("spec", "msg:NamespaceSpec") },
  NamespaceSpec: { 1: f("finalizers", "string", { repeated: true }) },
  ConfigMap: {
    1: f("metadata", "msg:ObjectMeta"),
    2: f("data", "map"),
    3: f("binaryData", "mapBytes"),
    4: f("immutable", "bool", { keepZero: true }),
  },
  Secret: {
    1: f("metadata", "msg:ObjectMeta"),
    2: f("data", "mapBytes"),
    3: f("type", "string"),
    4: f("stringData", "map"),
    5: f("immutable", "bool", { keepZero: true }),
  },
  Service: { 1: f("metadata", "msg:ObjectMeta"), 2: f("spec", "msg:ServiceSpec") },
  ServiceSpec: {
    1: f("ports", "msg:ServicePort", { repeated: true }),
    2: f("selector", "map"),
    3: f("clusterIP", "string"),
    4: f("type", "string"),
    5: f("externalIPs", "string", { repeated: true }),
    7: f("sessionAffinity", "string"),
    10: f("externalName", "string"),
    18: f("clusterIPs", "string", { repeated: true }),
  },
  ServicePort: {
    1: f("name", "string"),
    2: f("protocol", "string"),
    3: f("port", "int"),
    4: f("targetPort", "intOrString"),
    5: f("nodePort", "int"),
  },
  IntOrString: { 1: f("type", "int"), 2: f("intVal", "int"), 3: f("strVal", "string") },
  Deployment: { 1: f("metadata", "msg:ObjectMeta"), 2: f("spec", "msg:DeploymentSpec") },
  DeploymentSpec: {
    1: f("replicas", "int", { keepZero: true }),
    2: f("selector", "msg:LabelSelector"),
    3: f("template", "msg:PodTemplateSpec"),
    4: f("strategy", "msg:DeploymentStrategy"),
    5: f("minReadySeconds", "int"),
    6: f("revisionHistoryLimit", "int", { keepZero: true }),
    7: f("paused", "bool"),
    9: f("progressDeadlineSeconds", "int", { keepZero: true }),
  },
  DeploymentStrategy: { 1: f("type", "string"), 2: f("rollingUpdate", "msg:RollingUpdateDeployment") },
  RollingUpdateDeployment: { 1: f("maxUnavailable", "intOrString"), 2: f("maxSurge", "intOrString") },
  LabelSelector: {
    1: f("matchLabels", "map"),
    2: f("matchExpressions", "msg:LabelSelectorRequirement", { repeated: true }),
  },
  LabelSelectorRequirement: {
    1: f("key", "string"),
    2: f("operator", "string"),
    3: f("values", "string", { repeated: true }),
  },
  Job: { 1: f("metadata", "msg:ObjectMeta"), 2: f("spec", "msg:JobSpec") },
  JobSpec: {
    1: f("parallelism", "int", { keepZero: true }),
    2: f("completions", "int", { keepZero: true }),
    3: f("activeDeadlineSeconds", "int", { keepZero: true }),
    4: f("selector", "msg:LabelSelector"),
    5: f("manualSelector", "bool", { keepZero: true }),
    6: f("template", "msg:PodTemplateSpec"),
    7: f("backoffLimit", "int", { keepZero: true }),
    8: f("ttlSecondsAfterFinished", "int", { keepZero: true }),
    9: f("completionMode", "string"),
    10: f("suspend", "bool", { keepZero: true }),
  },
  PodTemplateSpec: { 1: f("metadata", "msg:ObjectMeta"), 2: f("spec", "msg:PodSpec") },
  PodSpec: {
    2: f("containers", "msg:Container", { repeated: true }),
    3: f("restartPolicy", "string"),
    4: f("terminationGracePeriodSeconds", "int", { keepZero: true }),
    5: f("activeDeadlineSeconds", "int", { keepZero: true }),
    6: f("dnsPolicy", "string"),
    7: f("nodeSelector", "map"),
    8: f("serviceAccountName", "string"),
    10: f("nodeName", "string"),
    16: f("hostname", "string"),
    17: f("subdomain", "string"),
    19: f("schedulerName", "string"),
    20: f("initContainers", "msg:Container", { repeated: true }),
  },
  Container: {
    1: f("name", "string"),
    2: f("image", "string"),
    3: f("command", "string", { repeated: true }),
    4: f("args", "string", { repeated: true }),
    5: f("workingDir", "string"),
    6: f("ports", "msg:ContainerPort", { repeated: true }),
    7: f("env", "msg:EnvVar", { repeated: true }),
    8: f("resources", "msg:ResourceRequirements"),
    13: f("terminationMessagePath", "string"),
    14: f("imagePullPolicy", "string"),
    16: f("stdin", "bool"),
    18: f("tty", "bool"),
    20: f("terminationMessagePolicy", "string"),
  },
  ContainerPort: {
    1: f("name", "string"),
    2: f("hostPort", "int"),
    3: f("containerPort", "int"),
    4: f("protocol", "string"),
    5: f("hostIP", "string"),
  },
  EnvVar: { 1: f("name", "string"), 2: f("value", "string") },
  ResourceRequirements: { 1: f("limits", "mapQuantity"), 2: f("requests", "mapQuantity") },
  ServiceAccount: {
    1: f("metadata", "msg:ObjectMeta"),
    4: f("automountServiceAccountToken", "bool", { keepZero: true }),
  },
  Role: { 1: f("metadata", "msg:ObjectMeta"), 2: f("rules", "msg:PolicyRule", { repeated: true }) },
  ClusterRole: { 1: f("metadata", "msg:ObjectMeta"), 2: f("rules", "msg:PolicyRule", { repeated: true }) },
  PolicyRule: {
    1: f("verbs", "string", { repeated: true }),
    2: f("apiGroups", "string", { repeated: true }),
    3: f("resources", "string", { repeated: true }),
    4: f("resourceNames", "string", { repeated: true }),
    5: f("nonResourceURLs", "string", { repeated: true }),
  },
  RoleBinding: {
    1: f("metadata", "msg:ObjectMeta"),
    2: f("subjects", "msg:Subject", { repeated: true }),
    3: f("roleRef", "msg:RoleRef"),
  },
  ClusterRoleBinding: {
    1: f("metadata", "msg:ObjectMeta"),
    2: f("subjects", "msg:Subject", { repeated: true }),
    3: f("roleRef", "msg:RoleRef"),
  },
  Subject: { 1: f("kind", "string"), 2: f("apiGroup", "string"), 3: f("name", "string"), 4: f("namespace", "string") },
  RoleRef: { 1: f("apiGroup", "string"), 2: f("kind", "string"), 3: f("name", "string") },
  CronJob: { 1: f("metadata", "msg:ObjectMeta"), 2: f("spec", "msg:CronJobSpec") },
  CronJobSpec: {
    1: f("schedule", "string"),
    2: f("startingDeadlineSeconds", "int", { keepZero: true }),
    3: f("concurrencyPolicy", "string"),
    4: f("suspend", "bool", { keepZero: true }),
    5: f("jobTemplate", "msg:JobTemplateSpec"),
    6: f("successfulJobsHistoryLimit", "int", { keepZero: true }),
    7: f("failedJobsHistoryLimit", "int", { keepZero: true }),
    8: f("timeZone", "string"),
  },
  JobTemplateSpec: { 1: f("metadata", "msg:ObjectMeta"), 2: f("spec", "msg:JobSpec") },
  Ingress: { 1: f("metadata", "msg:ObjectMeta"), 2: f("spec", "msg:IngressSpec") },
  IngressSpec: {
    1: f("defaultBackend", "msg:IngressBackend"),
    2: f("tls", "msg:IngressTLS", { repeated: true }),
    3: f("rules", "msg:IngressRule", { repeated: true }),
    4: f("ingressClassName", "string"),
  },
  IngressTLS: { 1: f("hosts", "string", { repeated: true }), 2: f("secretName", "string") },
  IngressRule: { 1: f("host", "string"), 2: f("ingressRuleValue", "msg:IngressRuleValue", { inline: true }) },
  IngressRuleValue: { 1: f("http", "msg:HTTPIngressRuleValue") },
  HTTPIngressRuleValue: { 1: f("paths", "msg:HTTPIngressPath", { repeated: true }) },
  HTTPIngressPath: { 1: f("path", "string"), 2: f("backend", "msg:IngressBackend"), 3: f("pathType", "string") },
  IngressBackend: { 4: f("service", "msg:IngressServiceBackend") },
  IngressServiceBackend: { 1: f("name", "string"), 2: f("port", "msg:ServiceBackendPort") },
  ServiceBackendPort: { 1: f("name", "string"), 2: f("number", "int") },
  PodDisruptionBudget: { 1: f("metadata", "msg:ObjectMeta"), 2: f("spec", "msg:PodDisruptionBudgetSpec") },
  PodDisruptionBudgetSpec: {
    1: f("minAvailable", "intOrString"),
    2: f("selector", "msg:LabelSelector"),
    3: f("maxUnavailable", "intOrString"),
    4: f("unhealthyPodEvictionPolicy", "string"),
  },
  ResourceQuota: { 1: f("metadata", "msg:ObjectMeta"), 2: f("spec", "msg:ResourceQuotaSpec") },
  ResourceQuotaSpec: { 1: f("hard", "mapQuantity"), 2: f("scopes", "string", { repeated: true }) },
  PriorityClass: {
    1: f("metadata", "msg:ObjectMeta"),
    2: f("value", "int", { keepZero: true }),
    3: f("globalDefault", "bool"),
    4: f("description", "string"),
    5: f("preemptionPolicy", "string"),
  },
  HorizontalPodAutoscaler: { 1: f("metadata", "msg:ObjectMeta"), 2: f("spec", "msg:HorizontalPodAutoscalerSpec") },
  HorizontalPodAutoscalerSpec: {
    1: f("scaleTargetRef", "msg:CrossVersionObjectReference"),
    2: f("minReplicas", "int", { keepZero: true }),
    3: f("maxReplicas", "int"),
    4: f("metrics", "msg:MetricSpec", { repeated: true }),
  },
  CrossVersionObjectReference: { 1: f("kind", "string"), 2: f("name", "string"), 3: f("apiVersion", "string") },
  MetricSpec: { 1: f("type", "string"), 4: f("resource", "msg:ResourceMetricSource") },
  ResourceMetricSource: { 1: f("name", "string"), 2: f("target", "msg:MetricTarget") },
  MetricTarget: {
    1: f("type", "string"),
    2: f("value", "quantity"),
    3: f("averageValue", "quantity"),
    4: f("averageUtilization", "int", { keepZero: true }),
  },
  TokenRequest: { 1: f("metadata", "msg:ObjectMeta"), 2: f("spec", "msg:TokenRequestSpec") },
  TokenRequestSpec: {
    1: f("audiences", "string", { repeated: true }),
    3: f("boundObjectRef", "msg:BoundObjectReference"),
    4: f("expirationSeconds", "int", { keepZero: true }),
  },
  SelfSubjectAccessReview: { 1: f("metadata", "msg:ObjectMeta"), 2: f("spec", "msg:SelfSubjectAccessReviewSpec") },
  SelfSubjectAccessReviewSpec: {
    1: f("resourceAttributes", "msg:ResourceAttributes"),
    2: f("nonResourceAttributes", "msg:NonResourceAttributes"),
  },
  SubjectAccessReview: { 1: f("metadata", "msg:ObjectMeta"), 2: f("spec", "msg:SubjectAccessReviewSpec") },
  LocalSubjectAccessReview: { 1: f("metadata", "msg:ObjectMeta"), 2: f("spec", "msg:SubjectAccessReviewSpec") },
  SubjectAccessReviewSpec: {
    1: f("resourceAttributes", "msg:ResourceAttributes"),
    2: f("nonResourceAttributes", "msg:NonResourceAttributes"),
    3: f("user", "string"),
    4: f("groups", "string", { repeated: true }),
    6: f("uid", "string"),
  },
  ResourceAttributes: {
    1: f("namespace", "string"),
    2: f("verb", "string"),
    3: f("group", "string"),
    4: f("version", "string"),
    5: f("resource", "string"),
    6: f("subresource", "string"),
    7: f("name", "string"),
  },
  NonResourceAttributes: { 1: f("path", "string"), 2: f("verb", "string") },
  SelfSubjectRulesReview: { 1: f("metadata", "msg:ObjectMeta"), 2: f("spec", "msg:SelfSubjectRulesReviewSpec") },
  SelfSubjectRulesReviewSpec: { 1: f("namespace", "string") },
  SelfSubjectReview: { 1: f("metadata", "msg:ObjectMeta") },
  TokenReview: { 1: f("metadata", "msg:ObjectMeta"), 2: f("spec", "msg:TokenReviewSpec") },
  TokenReviewSpec: { 1: f("token", "string"), 2: f("audiences", "string", { repeated: true }) },
  BoundObjectReference: {
    1: f("kind", "string"),
    2: f("apiVersion", "string"),
    3: f("name", "string"),
    4: f("uid", "string"),
  },
};

/** The top-level message of each kind kubectl may send as protobuf. */
export const KIND_MESSAGE: Record<string, string> = Object.fromEntries(
  [
    "Namespace",
    "ConfigMap",
    "Secret",
    "Service",
    "Deployment",
    "Job",
    "CronJob",
    "Ingress",
    "PodDisruptionBudget",
    "ResourceQuota",
    "PriorityClass",
    "HorizontalPodAutoscaler",
    "TokenRequest",
    "SelfSubjectAccessReview",
    "SubjectAccessReview",
    "LocalSubjectAccessReview",
    "SelfSubjectRulesReview",
    "SelfSubjectReview",
    "TokenReview",
    "ServiceAccount",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
  ].map((k) => [k, k]),
);
