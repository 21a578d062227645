{{/*
Helpers of the monitoring templates (ServiceMonitors, PrometheusRule, dashboards, the
bundled Prometheus and Grafana).
*/}}

{{/* Labels of the dashboards ConfigMap: Grafana's sidecar picks up grafana_dashboard: "1". */}}
{{- define "incident-platform.dashboardLabels" -}}
grafana_dashboard: "1"
{{- with .Values.monitoring.dashboards.labels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Is the dashboards ConfigMap rendered (for the sidecar, or for the bundled Grafana)? */}}
{{- define "incident-platform.dashboardsConfigMap" -}}
{{- if or .Values.monitoring.dashboards.enabled .Values.grafana.enabled }}true{{ end }}
{{- end }}

{{/* The headless Service of a component's pods that the bundled Prometheus resolves. */}}
{{- define "incident-platform.metricsService" -}}
{{- include "incident-platform.suffixed" (list (index . 0) (printf "%s-metrics" (index . 1))) }}
{{- end }}

{{/* The bundled Prometheus's in-cluster URL. */}}
{{- define "incident-platform.prometheusUrl" -}}
{{- printf "http://%s.%s.svc:9090" (include "incident-platform.suffixed" (list . "prometheus")) .Release.Namespace }}
{{- end }}

{{/* The Secret with Grafana's admin-user and admin-password. */}}
{{- define "incident-platform.grafanaSecretName" -}}
{{- .Values.grafana.existingSecret | default (include "incident-platform.suffixed" (list . "grafana")) }}
{{- end }}

{{/*
Grafana's admin password, base64-encoded: grafana.adminPassword if set; else the one in the
live Secret (lookup; kept across upgrades); else a new random one (as incident-platform.secretValue).
*/}}
{{- define "incident-platform.grafanaPassword" -}}
{{- $live := lookup "v1" "Secret" .Release.Namespace (include "incident-platform.suffixed" (list . "grafana")) }}
{{- $stored := "" }}
{{- if and $live $live.data }}
{{- $stored = index $live.data "admin-password" | default "" }}
{{- end }}
{{- if .Values.grafana.adminPassword }}
{{- .Values.grafana.adminPassword | b64enc }}
{{- else if $stored }}
{{- $stored }}
{{- else }}
{{- randAlphaNum 24 | b64enc }}
{{- end }}
{{- end }}

{{/* Container securityContext of the bundled monitoring containers (restricted standard). */}}
{{- define "incident-platform.monitoringSecurityContext" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: [ALL]
{{- end }}
