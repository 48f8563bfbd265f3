//go:build tools

// Package tools pins the Gitea server the e2e tests use as a real forge (git smart HTTP + REST API with pull requests).
package tools

import _ "code.gitea.io/gitea"
