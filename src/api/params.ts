// The shapes a cluster id, type name and namespace must have before they come near a tree lookup (API and UI alike).
export const TYPE = /^[A-Za-z0-9][A-Za-z0-9.-]*\.v[0-9]+[a-z0-9]*\.[A-Za-z][A-Za-z0-9]*$/;
export const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const CLUSTER = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
