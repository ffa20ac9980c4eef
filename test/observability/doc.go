// Package observability tests the gateway as its monitoring sees it: real
// simulator and gateway processes scraped over loopback by a real Prometheus
// (Debian's package, on a port of its own) configured like Managed
// Prometheus (bearer token from a file, GMP's target labels), the queries of
// Google's guide, every panel of the dashboards and the alert rules in
// deploy/ run against it, promtool's checks of the exposition, rules and
// generated scrape configurations, and the `infergate monitoring` commands.
//
// Tests that need prometheus or promtool fail under CI=true when they are
// missing (`make test` installs them) and are skipped otherwise.
package observability
