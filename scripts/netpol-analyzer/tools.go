//go:build tools

// Package tools pins NP-Guard's netpol-analyzer (the `k8snetpolicy` CLI) for the network flow check; go.mod and
// go.sum fix its version and every dependency's checksum. Built by scripts/install-netpol-analyzer.sh.
package tools

import _ "github.com/np-guard/netpol-analyzer/cmd/netpolicy"
