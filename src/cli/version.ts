// The kube release and the Kubernetes API version it speaks.
export const VERSION = "0.1.0";
