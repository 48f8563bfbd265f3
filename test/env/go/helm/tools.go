//go:build tools

// Package tools pins the Helm CLI the e2e tests use to lint and render the chart in config/helm/kubetrail.
package tools

import _ "helm.sh/helm/v4/cmd/helm"
