//go:build tools

// Pins the kube-apiserver command so `go build k8s.io/kubernetes/cmd/kube-apiserver` resolves in this module.
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
