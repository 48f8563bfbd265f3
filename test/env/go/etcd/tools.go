//go:build tools

// Pins the etcd server command so `go build go.etcd.io/etcd/server/v3` resolves in this module.
package tools

import _ "go.etcd.io/etcd/server/v3"
