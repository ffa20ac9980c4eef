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
  "listen" ":8080"
  "metricsListen" ":9090"
  "kubernetes" $kube
  "metrics" (dict "auth" $auth)
  "shutdown" (dict "gracePeriod" (printf "%ds" (int .Values.shutdown.gracePeriodSeconds)))
-}}
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

{{/* Where the key pair Secret of listener proxy or metrics is mounted. */}}
{{- define "infergate.tlsDir" -}}
{{- printf "/etc/infergate/tls/%s" . -}}
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
{{- if and .Values.example.enabled (not .Values.poolSelector) (not (has .Values.example.poolName .Values.pools)) -}}
{{- fail (printf "example.poolName %q is not in pools: the gateway would not serve the example's pool" .Values.example.poolName) -}}
{{- end -}}
{{- end -}}
