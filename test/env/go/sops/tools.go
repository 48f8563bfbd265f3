//go:build tools

// Package tools pins the SOPS CLI and age-keygen the e2e tests use to prove that kubetrail's sops-mode Secrets
// decrypt with the real tools (secrets.mode: sops).
package tools

import (
	_ "filippo.io/age/cmd/age-keygen"
	_ "github.com/getsops/sops/v3/cmd/sops"
)
