// Package envoy holds standalone Envoy bootstraps that put infergate behind
// Envoy as its ext_proc endpoint picker (envoy-sidecar.yaml,
// envoy-picker-tls.yaml). It has no code: its tests decode each bootstrap
// into go-control-plane's Bootstrap, run Envoy's proto validation and check
// the settings the picker depends on.
package envoy
