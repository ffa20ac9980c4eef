{{/* The release's object name: the release name when it already contains
the chart name, else <release>-infergate; at most 63 characters. */}}
{{- define "infergate.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Name of the cluster-wide RBAC objects of this release: cluster-scoped
names must not collide between releases in different namespaces. */}}
{{- define "infergate.clusterName" -}}
{{- printf "%s-%s-auth-delegator" (include "infergate.fullname" .) .Release.Namespace -}}
{{- end -}}

{{- define "infergate.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/* Labels of every object of the chart except Google's, which stay as
published. */}}
{{- define "infergate.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* The gateway pods' selector. app=inference-gateway-ext-proc is the label
Google's ClusterPodMonitoring selects; do not change it. */}}
{{- define "infergate.selectorLabels" -}}
app: inference-gateway-ext-proc
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The collector's namespace for a GKE provider, or "". */}}
{{- define "infergate.gmpNamespace" -}}
{{- if eq .Values.monitoring.provider "gke" -}}
gmp-system
{{- else if eq .Values.monitoring.provider "gke-autopilot" -}}
gke-gmp-system
{{- end -}}
{{- end -}}

{{/* The config file the gateway reads. */}}
{{- define "infergate.config" -}}
{{- $kube := dict "enabled" true "leaderElection" (dict "enabled" .Values.leaderElection.enabled) -}}
{{- if .Values.pools -}}
{{- $_ := set $kube "pools" .Values.pools -}}
{{- end -}}
{{- if .Values.poolSelector -}}
{{- $_ := set $kube "poolSelector" .Values.poolSelector -}}
{{- end -}}
{{- $auth := dict "enabled" .Values.auth.enabled "mode" .Values.auth.mode -}}
{{- if eq .Values.auth.mode "static" -}}
{{- $_ := set $auth "tokenFile" (printf "/etc/infergate/auth/%s" .Values.auth.static.key) -}}
{{- end -}}
{{- $cfg := dict
  "apiVersion" "infergate.dev/v1alpha1"
  "kind" "GatewayConfig"
  "listen" (ternary ":8080" "127.0.0.1:8080" .Values.proxy.enabled)
  "metricsListen" ":9090"
  "kubernetes" $kube
  "metrics" (dict "auth" $auth)
  "shutdown" (dict "gracePeriod" (printf "%ds" (int .Values.shutdown.gracePeriodSeconds)))
-}}
{{- if kindIs "bool" .Values.trustControlHeaders -}}
{{- $_ := set $cfg "trustControlHeaders" .Values.trustControlHeaders -}}
{{- else if ne .Values.gateway.provider "none" -}}
{{- $_ := set $cfg "trustControlHeaders" false -}}
{{- end -}}
{{- if .Values.extProc.enabled -}}
{{- $ep := dict "listen" ":9002" "healthListen" ":9003" -}}
{{- if .Values.extProc.plaintext -}}
{{- $_ := set $ep "plaintext" true -}}
{{- end -}}
{{- with include "infergate.pickerPool" . -}}
{{- $_ := set $ep "pool" . -}}
{{- end -}}
{{- if and (not .Values.extProc.plaintext) .Values.tls.extProc.secretName -}}
{{- $dir := include "infergate.tlsDir" "extProc" -}}
{{- $_ := set $ep "tls" (dict "certFile" (printf "%s/tls.crt" $dir) "keyFile" (printf "%s/tls.key" $dir)) -}}
{{- end -}}
{{- $_ := set $cfg "extProc" $ep -}}
{{- end -}}
{{- $tls := dict -}}
{{- range $listener := list "proxy" "metrics" -}}
{{- if (get $.Values.tls $listener).secretName -}}
{{- $dir := include "infergate.tlsDir" $listener -}}
{{- $_ := set $tls $listener (dict "certFile" (printf "%s/tls.crt" $dir) "keyFile" (printf "%s/tls.key" $dir)) -}}
{{- end -}}
{{- end -}}
{{- if $tls -}}
{{- $_ := set $cfg "tls" $tls -}}
{{- end -}}
{{- with .Values.upstream.tls -}}
{{- if .enabled -}}
{{- $up := dict "enabled" true -}}
{{- if .caSecretName -}}
{{- $_ := set $up "caFile" "/etc/infergate/upstream/ca/ca.crt" -}}
{{- end -}}
{{- if .clientSecretName -}}
{{- $_ := set $up "certFile" "/etc/infergate/upstream/client/tls.crt" -}}
{{- $_ := set $up "keyFile" "/etc/infergate/upstream/client/tls.key" -}}
{{- end -}}
{{- if .serverName -}}
{{- $_ := set $up "serverName" .serverName -}}
{{- end -}}
{{- $_ := set $cfg "upstream" (dict "tls" $up) -}}
{{- end -}}
{{- end -}}
{{- toYaml (mustMergeOverwrite $cfg (deepCopy .Values.extraConfig)) -}}
{{- end -}}

{{/* Where the key pair Secret of listener proxy, metrics or extProc is
mounted. */}}
{{- define "infergate.tlsDir" -}}
{{- printf "/etc/infergate/tls/%s" (lower .) -}}
{{- end -}}

{{/* The listeners whose tls.<name>.secretName applies, as a JSON list:
proxy when it is on, metrics, extProc when it is on and not plaintext. */}}
{{- define "infergate.tlsListeners" -}}
{{- $l := list "metrics" -}}
{{- if .Values.proxy.enabled -}}
{{- $l = prepend $l "proxy" -}}
{{- end -}}
{{- if and .Values.extProc.enabled (not .Values.extProc.plaintext) -}}
{{- $l = append $l "extProc" -}}
{{- end -}}
{{- toJson $l -}}
{{- end -}}

{{/* The InferencePool the ext_proc picker serves: extProc.pool, else the
only entry of pools, else "". */}}
{{- define "infergate.pickerPool" -}}
{{- if .Values.extProc.pool -}}
{{- .Values.extProc.pool -}}
{{- else if and (eq (len .Values.pools) 1) (not .Values.poolSelector) -}}
{{- first .Values.pools -}}
{{- end -}}
{{- end -}}

{{/* The InferencePool the HTTPRoute sends to. */}}
{{- define "infergate.routePool" -}}
{{- .Values.gateway.pool | default (include "infergate.pickerPool" .) -}}
{{- end -}}

{{/* The Gateway's class. */}}
{{- define "infergate.gatewayClass" -}}
{{- if .Values.gateway.className -}}
{{- .Values.gateway.className -}}
{{- else if eq .Values.gateway.provider "gke" -}}
gke-l7-regional-external-managed
{{- else -}}
{{- .Values.gateway.provider -}}
{{- end -}}
{{- end -}}

{{/* The appProtocol of the Service's ext_proc port. */}}
{{- define "infergate.extProcAppProtocol" -}}
{{- if .Values.extProc.appProtocol -}}
{{- .Values.extProc.appProtocol -}}
{{- else if .Values.extProc.plaintext -}}
kubernetes.io/h2c
{{- else -}}
grpc
{{- end -}}
{{- end -}}

{{/* The probes' scheme: HTTPS when the metrics listener serves TLS. */}}
{{- define "infergate.metricsProbeScheme" -}}
{{- if .Values.tls.metrics.secretName }}HTTPS{{ else }}HTTP{{ end -}}
{{- end -}}

{{/* Fails rendering on values that would make a broken release. */}}
{{- define "infergate.validate" -}}
{{- if and (not .Values.pools) (not .Values.poolSelector) -}}
{{- fail "set pools or poolSelector: the gateway needs at least one InferencePool" -}}
{{- end -}}
{{- if and .Values.auth.enabled (eq .Values.auth.mode "static") (not .Values.auth.static.secretName) -}}
{{- fail "auth.mode static needs auth.static.secretName (a Secret with the accepted tokens)" -}}
{{- end -}}
{{- $up := .Values.upstream.tls -}}
{{- if and (not $up.enabled) (or $up.caSecretName $up.clientSecretName $up.serverName) -}}
{{- fail "upstream.tls.caSecretName, clientSecretName and serverName need upstream.tls.enabled=true (traffic to the model servers would stay plain HTTP)" -}}
{{- end -}}
{{- if and $up.enabled .Values.example.enabled -}}
{{- fail "upstream.tls.enabled does not work with example.enabled: the example's simulators serve plain HTTP" -}}
{{- end -}}
{{- if and .Values.tls.metrics.secretName (eq .Values.monitoring.provider "gke" "gke-autopilot") -}}
{{- fail "tls.metrics.secretName is not supported with monitoring.provider gke or gke-autopilot: Google's ClusterPodMonitoring scrapes plain HTTP (use prometheus-operator or none)" -}}
{{- end -}}
{{- if and (not .Values.proxy.enabled) (not .Values.extProc.enabled) -}}
{{- fail "proxy.enabled and extProc.enabled are both false: the gateway would serve no requests" -}}
{{- end -}}
{{- if and .Values.extProc.enabled (not (include "infergate.pickerPool" .)) -}}
{{- fail "extProc.enabled needs extProc.pool when pools has more than one entry or poolSelector is set: the picker serves one InferencePool (Envoy names none)" -}}
{{- end -}}
{{- if and .Values.tls.extProc.secretName (or (not .Values.extProc.enabled) .Values.extProc.plaintext) -}}
{{- fail "tls.extProc.secretName needs extProc.enabled=true and extProc.plaintext=false" -}}
{{- end -}}
{{- if and .Values.tls.proxy.secretName (not .Values.proxy.enabled) -}}
{{- fail "tls.proxy.secretName needs proxy.enabled=true" -}}
{{- end -}}
{{- if and .Values.networkPolicy.enabled .Values.extProc.enabled (not .Values.networkPolicy.extProcFrom) -}}
{{- fail "networkPolicy.extProcFrom is empty: a NetworkPolicy rule without peers admits everyone; name the data plane or set networkPolicy.enabled=false" -}}
{{- end -}}
{{- if ne .Values.gateway.provider "none" -}}
{{- if not .Values.extProc.enabled -}}
{{- fail (printf "gateway.provider %s needs extProc.enabled=true: the Gateway's data plane asks infergate's ext_proc picker" .Values.gateway.provider) -}}
{{- end -}}
{{- if not (include "infergate.routePool" .) -}}
{{- fail "gateway.provider needs gateway.pool (or extProc.pool): the InferencePool the HTTPRoute sends to" -}}
{{- end -}}
{{- if ne (include "infergate.routePool" .) (include "infergate.pickerPool" .) -}}
{{- fail (printf "gateway.pool %q is not the pool the picker serves (%q): set extProc.pool to it" (include "infergate.routePool" .) (include "infergate.pickerPool" .)) -}}
{{- end -}}
{{- if and (eq .Values.gateway.provider "gke") .Values.networkPolicy.enabled -}}
{{- $ip := false -}}
{{- range .Values.networkPolicy.extProcFrom -}}
{{- if .ipBlock -}}
{{- $ip = true -}}
{{- end -}}
{{- end -}}
{{- if not $ip -}}
{{- fail "gateway.provider gke: GKE's load balancer reaches the picker from the region's proxy-only subnet, outside the cluster; add it to networkPolicy.extProcFrom (e.g. - ipBlock: {cidr: 10.129.0.0/23}) or set networkPolicy.enabled=false" -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if and .Values.example.enabled (not .Values.poolSelector) (not (has .Values.example.poolName .Values.pools)) -}}
{{- fail (printf "example.poolName %q is not in pools: the gateway would not serve the example's pool" .Values.example.poolName) -}}
{{- end -}}
{{- end -}}

{{/* The request headers the shipped HTTPRoutes remove: every spelling of
every client control header (internal/exchange.ControlHeaders; the test
keeps the two lists equal) and the destination protocol's headers, which
only the picker may set. */}}
{{- define "infergate.strippedHeaders" -}}
- x-llm-d-inference-objective
- x-gateway-inference-objective
- x-llm-d-model-name-rewrite
- x-gateway-model-name-rewrite
- x-llm-d-inference-fairness-id
- x-gateway-inference-fairness-id
- x-llm-d-slo-ttft-ms
- x-slo-ttft-ms
- x-llm-d-slo-tpot-ms
- x-slo-tpot-ms
- test-epp-endpoint-selection
- x-gateway-destination-endpoint
- x-gateway-destination-endpoint-subset
- x-gateway-destination-endpoint-served
- x-gateway-destination-endpoint-scores
{{- end -}}
