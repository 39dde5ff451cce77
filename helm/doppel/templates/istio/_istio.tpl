{{/* ServiceEntry + DestinationRule for one provider: plain HTTP on 80 goes to the provider's
     TLS port; TLS is originated (SNI, system CAs, the provider's name checked) on
     .originationPort, where the traffic is still plain HTTP: 80 at a sidecar, the TLS port at
     the egress gateway. */}}
{{- define "doppel.istio.provider" }}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: doppel-{{ .p.name }}
  namespace: {{ .namespace }}
  labels:
    {{- include "doppel.labels" .root | nindent 4 }}
spec:
  hosts:
    - {{ .p.host }}
  location: MESH_EXTERNAL
  resolution: DNS
  ports:
    - number: 80
      name: http
      protocol: HTTP
      targetPort: {{ .p.port }}
    - number: {{ .p.port }}
      name: https
      protocol: HTTPS
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: doppel-{{ .p.name }}
  namespace: {{ .namespace }}
  labels:
    {{- include "doppel.labels" .root | nindent 4 }}
spec:
  host: {{ .p.host }}
  # TLS origination only here: apps elsewhere that call https:// directly keep working.
  exportTo:
    - "."
  trafficPolicy:
    portLevelSettings:
      - port:
          number: {{ .originationPort }}
        tls:
          mode: SIMPLE
          sni: {{ .p.host }}
          subjectAltNames:
            - {{ .p.host }}
{{- end }}

{{/* The EnvoyFilter patches: ext_proc (off) before the router on the HTTP listener, turned on
     for the providers' virtual hosts only. */}}
{{- define "doppel.istio.patches" -}}
- applyTo: HTTP_FILTER
  match:
    context: {{ .context }}
    listener:
      portNumber: {{ .port }}
      filterChain:
        filter:
          name: envoy.filters.network.http_connection_manager
          subFilter:
            name: envoy.filters.http.router
  patch:
    operation: INSERT_BEFORE
    value:
      {{- include "doppel.envoy.istioExtProcFilter" .root | nindent 6 }}
{{- range $p := .providers }}
- applyTo: VIRTUAL_HOST
  match:
    context: {{ $.context }}
    routeConfiguration:
      vhost:
        name: {{ $p.host }}:80
  patch:
    operation: MERGE
    value:
      typed_per_filter_config:
        envoy.filters.http.ext_proc:
          '@type': type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute
          overrides: {}
{{- end }}
{{- end }}
