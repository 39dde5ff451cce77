{{/* Names and labels. */}}
{{- define "doppel.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "doppel.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "doppel.gatewayName" -}}
{{- printf "%s-gateway" (include "doppel.fullname" .) }}
{{- end }}

{{- define "doppel.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "doppel.commonLabels" -}}
helm.sh/chart: {{ include "doppel.chart" . }}
app.kubernetes.io/name: {{ include "doppel.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: doppel
{{- end }}

{{- define "doppel.labels" -}}
{{ include "doppel.commonLabels" . }}
app.kubernetes.io/component: extproc
{{- end }}

{{- define "doppel.selectorLabels" -}}
app.kubernetes.io/name: {{ include "doppel.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: extproc
{{- end }}

{{- define "doppel.gatewayLabels" -}}
{{ include "doppel.commonLabels" . }}
app.kubernetes.io/component: gateway
{{- end }}

{{- define "doppel.gatewaySelectorLabels" -}}
app.kubernetes.io/name: {{ include "doppel.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: gateway
{{- end }}

{{- define "doppel.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "doppel.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "doppel.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* Doppel's Service as clients name it (and its certificate carries). */}}
{{- define "doppel.serviceHost" -}}
{{- printf "%s.%s.svc.%s" (include "doppel.fullname" .) .Release.Namespace .Values.clusterDomain }}
{{- end }}

{{/* The headless Service: one address per ready Doppel pod, so Envoy balances every exchange. */}}
{{- define "doppel.extprocHost" -}}
{{- printf "%s-headless.%s.svc.%s" (include "doppel.fullname" .) .Release.Namespace .Values.clusterDomain }}
{{- end }}

{{/* The cluster Istio generates for Doppel's Service (HTTP/2: the port is named grpc). */}}
{{- define "doppel.istioCluster" -}}
{{- printf "outbound|%v||%s" .Values.service.port (include "doppel.serviceHost" .) }}
{{- end }}

{{- define "doppel.keySecretName" -}}
{{- default (printf "%s-key" (include "doppel.fullname" .)) .Values.key.existingSecret }}
{{- end }}

{{- define "doppel.serverTLSSecret" -}}
{{- if .Values.mtls.certManager.enabled }}
{{- printf "%s-tls" (include "doppel.fullname" .) }}
{{- else }}
{{- required "mtls.serverSecret is required when mtls.enabled and not mtls.certManager.enabled" .Values.mtls.serverSecret }}
{{- end }}
{{- end }}

{{- define "doppel.clientTLSSecret" -}}
{{- if .Values.mtls.certManager.enabled }}
{{- printf "%s-client-tls" (include "doppel.gatewayName" .) }}
{{- else }}
{{- required "mtls.clientSecret is required when mtls.enabled and not mtls.certManager.enabled" .Values.mtls.clientSecret }}
{{- end }}
{{- end }}

{{/* gateway.extraUpstreams parsed like extproc.envoy_config.Upstream: a YAML list of
     {name, url, tls, host, port, basePath, hostHeader}. */}}
{{- define "doppel.extraUpstreams" -}}
{{- $out := list }}
{{- range $u := .Values.gateway.extraUpstreams }}
{{- $p := urlParse $u.url }}
{{- $tls := eq $p.scheme "https" }}
{{- $default := ternary "443" "80" $tls }}
{{- $hp := splitList ":" $p.host }}
{{- $host := first $hp }}
{{- $port := ternary (last $hp) $default (eq (len $hp) 2) }}
{{- $hostHeader := ternary $host (printf "%s:%s" $host $port) (eq $port $default) }}
{{- $out = append $out (dict "name" $u.name "url" $u.url "tls" $tls "host" $host "port" (int $port) "basePath" (trimSuffix "/" $p.path) "hostHeader" $hostHeader) }}
{{- end }}
{{- toYaml $out }}
{{- end }}

{{/* Every provider reached over TLS: the built-in four and the https extra upstreams. */}}
{{- define "doppel.tlsProviders" -}}
{{- $out := include "doppel.builtinProviders" . | fromYamlArray }}
{{- range $u := include "doppel.extraUpstreams" . | fromYamlArray }}
{{- if $u.tls }}
{{- $out = append $out (dict "name" $u.name "host" $u.host "port" $u.port "basePath" $u.basePath) }}
{{- end }}
{{- end }}
{{- toYaml $out }}
{{- end }}

{{- define "doppel.topologySpread" -}}
{{- $ := index . 0 }}
{{- $spread := index . 1 }}
{{- $selector := index . 2 }}
{{- if $spread }}
{{- toYaml $spread }}
{{- else -}}
- maxSkew: 1
  topologyKey: topology.kubernetes.io/zone
  whenUnsatisfiable: ScheduleAnyway
  labelSelector:
    matchLabels:
      {{- $selector | nindent 6 }}
- maxSkew: 1
  topologyKey: kubernetes.io/hostname
  whenUnsatisfiable: ScheduleAnyway
  labelSelector:
    matchLabels:
      {{- $selector | nindent 6 }}
{{- end }}
{{- end }}

{{/* Doppel's config.yaml: the chart's settings, then .Values.config over them. */}}
{{- define "doppel.config" -}}
{{- $cfg := dict
  "server" (dict "host" "0.0.0.0" "port" (int .Values.service.port))
  "limits" (dict "max_body_bytes" (int64 .Values.limits.maxBodyBytes))
  "key_file" (printf "/etc/doppel/key/%s" .Values.key.secretKey)
}}
{{- if .Values.metrics.enabled }}
{{- $_ := set $cfg "metrics" (dict "host" "0.0.0.0" "port" (int .Values.metrics.port)) }}
{{- end }}
{{- if .Values.mtls.enabled }}
{{- $_ := set $cfg "tls" (dict "cert_file" "/etc/doppel/tls/tls.crt" "key_file" "/etc/doppel/tls/tls.key" "client_ca_file" "/etc/doppel/tls/ca.crt") }}
{{- end }}
{{- toYaml (mergeOverwrite $cfg (deepCopy .Values.config)) }}
{{- end }}
