{{/*
Names, labels, the image, and the facts every template shares.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "incident-platform.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name: fullnameOverride, else <release>-<name> (just <release> when it already
contains the name). Truncated to 63 characters: some name fields are DNS labels.
*/}}
{{- define "incident-platform.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
<fullname>-<suffix>, within 63 characters (the full name is shortened, never the suffix).
Usage: include "incident-platform.suffixed" (list . "operator")
*/}}
{{- define "incident-platform.suffixed" -}}
{{- $ctx := index . 0 }}
{{- $suffix := index . 1 }}
{{- $prefix := include "incident-platform.fullname" $ctx | trunc (int (sub 62 (len $suffix))) | trimSuffix "-" }}
{{- printf "%s-%s" $prefix $suffix }}
{{- end }}

{{/* chart label value: <name>-<version>. */}}
{{- define "incident-platform.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "incident-platform.labels" -}}
helm.sh/chart: {{ include "incident-platform.chart" . }}
{{ include "incident-platform.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: incident-platform
{{- end }}

{{/* Selector labels: stable for the life of a release (never include the version). */}}
{{- define "incident-platform.selectorLabels" -}}
app.kubernetes.io/name: {{ include "incident-platform.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Labels and selector labels of one component (alert-ingestion, operator, postgresql ...).
Usage: include "incident-platform.componentLabels" (list . "oncall")
*/}}
{{- define "incident-platform.componentLabels" -}}
{{ include "incident-platform.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "incident-platform.componentSelectorLabels" -}}
{{ include "incident-platform.selectorLabels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/*
An image reference: repository@digest when a digest is given, else repository:tag (the tag
defaults to the chart's appVersion). Usage: include "incident-platform.image" (list . .Values.image)
*/}}
{{- define "incident-platform.image" -}}
{{- $ctx := index . 0 }}
{{- $image := index . 1 }}
{{- if $image.digest }}
{{- printf "%s@%s" $image.repository $image.digest }}
{{- else }}
{{- printf "%s:%s" $image.repository (toString ($image.tag | default $ctx.Chart.AppVersion)) }}
{{- end }}
{{- end }}

{{/*
The three platform services: values key -> name, Python module and port. The ports are the
platform's own (the same as when run directly and in docker-compose.yml).
*/}}
{{- define "incident-platform.components" -}}
alertIngestion:
  name: alert-ingestion
  module: incident_platform.entrypoints.alert_ingestion
  port: 8001
incidentManagement:
  name: incident-management
  module: incident_platform.entrypoints.incident_management
  port: 8002
oncall:
  name: oncall
  module: incident_platform.entrypoints.oncall
  port: 8003
{{- end }}

{{/*
In-cluster URL of a platform service. Usage: include "incident-platform.serviceUrl" (list . "oncall")
*/}}
{{- define "incident-platform.serviceUrl" -}}
{{- $ctx := index . 0 }}
{{- $component := get (fromYaml (include "incident-platform.components" $ctx)) (index . 1) }}
{{- printf "http://%s.%s.svc:%d" (include "incident-platform.suffixed" (list $ctx $component.name)) $ctx.Release.Namespace (int $component.port) }}
{{- end }}

{{/* The ServiceAccount of the platform's pods. */}}
{{- define "incident-platform.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "incident-platform.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret with admin-token and ack-signing-key. */}}
{{- define "incident-platform.authSecretName" -}}
{{- .Values.auth.existingSecret | default (include "incident-platform.fullname" .) }}
{{- end }}

{{/* Does the chart render its own Secret (templates/secret.yaml)? "true" or "". */}}
{{- define "incident-platform.ownSecret" -}}
{{- if or (not .Values.auth.existingSecret) (include "incident-platform.database" .) .Values.config.smtp.password }}true{{ end }}
{{- end }}

{{/* Secret name and key holding DATABASE_URL. */}}
{{- define "incident-platform.databaseSecretName" -}}
{{- if include "incident-platform.database" . }}
{{- include "incident-platform.fullname" . }}
{{- else }}
{{- required "postgresql.enabled=false needs externalDatabase.existingSecret: a Secret whose key externalDatabase.existingSecretKey holds DATABASE_URL" .Values.externalDatabase.existingSecret }}
{{- end }}
{{- end }}

{{- define "incident-platform.databaseSecretKey" -}}
{{- if include "incident-platform.database" . }}database-url{{ else }}{{ .Values.externalDatabase.existingSecretKey }}{{ end }}
{{- end }}

{{/* Host of the chart's PostgreSQL: the bundled one, or the CNPG Cluster's primary. */}}
{{- define "incident-platform.postgresqlHost" -}}
{{- if eq (include "incident-platform.database" .) "cloudnativepg" }}
{{- printf "%s-rw.%s.svc" (include "incident-platform.cnpgCluster" .) .Release.Namespace }}
{{- else }}
{{- printf "%s.%s.svc" (include "incident-platform.suffixed" (list . "postgresql")) .Release.Namespace }}
{{- end }}
{{- end }}

{{/*
A value of the chart's own Secret, base64-encoded: the given value if set; else the value
already stored in the live Secret (lookup; kept across upgrades); else a new random string.
`helm template` and client-side dry runs cannot look up, so there the random string is new
on every render: set the value (or use an existing Secret) when rendering for GitOps.
Usage: include "incident-platform.secretValue" (list . "admin-token" .Values.auth.adminToken 48)
*/}}
{{- define "incident-platform.secretValue" -}}
{{- $ctx := index . 0 }}
{{- $key := index . 1 }}
{{- $given := index . 2 }}
{{- $length := index . 3 }}
{{- $live := lookup "v1" "Secret" $ctx.Release.Namespace (include "incident-platform.fullname" $ctx) }}
{{- $stored := "" }}
{{- if and $live $live.data }}
{{- $stored = index $live.data $key | default "" }}
{{- end }}
{{- if $given }}
{{- $given | b64enc }}
{{- else if $stored }}
{{- $stored }}
{{- else }}
{{- randAlphaNum (int $length) | b64enc }}
{{- end }}
{{- end }}

{{/* Pod-level securityContext of the platform's pods (restricted Pod Security Standard). */}}
{{- define "incident-platform.podSecurityContext" -}}
{{- toYaml .Values.podSecurityContext }}
{{- end }}

{{/* Container-level securityContext of the platform's containers. */}}
{{- define "incident-platform.securityContext" -}}
{{- toYaml .Values.securityContext }}
{{- end }}

{{/* The writable /tmp of every platform container (the root filesystem is read-only). */}}
{{- define "incident-platform.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- end }}

{{/* Annotations that roll the platform's pods when the Secret's inputs change. */}}
{{- define "incident-platform.secretChecksum" -}}
{{- $inputs := dict "auth" .Values.auth "postgresql" .Values.postgresql.auth "smtp" .Values.config.smtp.password "database" .Values.externalDatabase "provided" (include "incident-platform.database" .) }}
checksum/secret-inputs: {{ toJson $inputs | sha256sum }}
{{- end }}

{{/*
The migration as a Python program for `python -c`: waits (MIGRATE_WAIT_SECONDS) while the
database is unreachable, then upgrades the schema to head under Alembic's advisory lock.
Source: files/migrate.py (tests/charts runs it against a real PostgreSQL).
*/}}
{{- define "incident-platform.migrateCommand" -}}
- python
- -c
- {{ .Files.Get "files/migrate.py" | toString | quote }}
{{- end }}

{{/*
topologySpreadConstraints of one component's pods: one constraint per topologySpread key, over
the component's own pods of the same rollout (matchLabelKeys: pod-template-hash), so that
old and new ReplicaSets during an update do not skew each other.
Usage: include "incident-platform.topologySpread" (list . "oncall")
*/}}
{{- define "incident-platform.topologySpread" -}}
{{- $ctx := index . 0 }}
{{- $component := index . 1 }}
{{- $spread := $ctx.Values.topologySpread }}
{{- if and $spread.enabled $spread.topologyKeys }}
topologySpreadConstraints:
{{- range $spread.topologyKeys }}
  - maxSkew: {{ $spread.maxSkew }}
    topologyKey: {{ . | quote }}
    whenUnsatisfiable: {{ $spread.whenUnsatisfiable }}
    labelSelector:
      matchLabels:
        {{- include "incident-platform.componentSelectorLabels" (list $ctx $component) | nindent 8 }}
    matchLabelKeys:
      - pod-template-hash
{{- end }}
{{- end }}
{{- end }}

{{/*
The database the chart provides: "cloudnativepg" (a CNPG Cluster), "bundled" (the single-pod
StatefulSet) or "" (externalDatabase). CloudNativePG wins over the bundled one.
*/}}
{{- define "incident-platform.database" -}}
{{- if .Values.postgresql.cloudnativepg.enabled }}cloudnativepg{{ else if .Values.postgresql.enabled }}bundled{{ end }}
{{- end }}

{{/* Name of the CloudNativePG Cluster; its read-write Service is <name>-rw. */}}
{{- define "incident-platform.cnpgCluster" -}}
{{- include "incident-platform.suffixed" (list . "pg") }}
{{- end }}
