{{/* Names and labels. */}}
{{- define "llmgw.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "llmgw.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "llmgw.selectorLabels" -}}
app.kubernetes.io/name: {{ include "llmgw.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "llmgw.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "llmgw.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "llmgw.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "llmgw.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "llmgw.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The Secret the pods read their environment from. */}}
{{- define "llmgw.secretName" -}}
{{- default (include "llmgw.fullname" .) .Values.secrets.existingSecret -}}
{{- end -}}

{{/* "true" when /metrics asks for a bearer token. */}}
{{- define "llmgw.metricsToken" -}}
{{- if or .Values.metrics.token .Values.secrets.metricsToken -}}true{{- end -}}
{{- end -}}

{{/* "true" when the storage is SQLite on a PVC: one writer, Recreate. */}}
{{- define "llmgw.singleWriter" -}}
{{- if and (eq .Values.storage.driver "sqlite") .Values.persistence.enabled -}}true{{- end -}}
{{- end -}}

{{/* "true" when more than one pod may run: a PodDisruptionBudget applies. */}}
{{- define "llmgw.manyReplicas" -}}
{{- if or .Values.autoscaling.enabled (gt (int .Values.replicaCount) 1) -}}true{{- end -}}
{{- end -}}

{{/*
The gateway's configuration: .Values.config without the chart's own key
(hotReload), under the settings the chart derives from the values. A key
the configuration sets itself wins.
*/}}
{{- define "llmgw.config" -}}
{{- $cfg := omit (deepCopy .Values.config) "hotReload" -}}
{{- $server := dict "data_dir" "/var/lib/llmgw" -}}
{{- if or .Values.secrets.adminToken .Values.secrets.existingSecret -}}
{{- $_ := set $server "admin_token" "${LLMGW_ADMIN_TOKEN}" -}}
{{- end -}}
{{- if include "llmgw.metricsToken" . -}}
{{- $_ := set $server "metrics_token" "${LLMGW_METRICS_TOKEN}" -}}
{{- end -}}
{{- if .Values.metrics.separatePort -}}
{{- $_ := set $server "metrics_listen" (printf "0.0.0.0:%d" (int .Values.metrics.port)) -}}
{{- end -}}
{{- $chart := dict "server" $server "storage" (dict "driver" .Values.storage.driver) -}}
{{- if eq .Values.storage.driver "postgres" -}}
{{- $_ := set $chart.storage "dsn" "${LLMGW_STORAGE_DSN}" -}}
{{- end -}}
{{- if .Values.redis.enabled -}}
{{- $_ := set $chart "redis" (dict "url" "${LLMGW_REDIS_URL}") -}}
{{- end -}}
{{- toYaml (mergeOverwrite $chart $cfg) -}}
{{- end -}}

{{/* Seconds of a duration of the forms 90s, 2m, 1m30s, 1h; 30s when empty. */}}
{{- define "llmgw.seconds" -}}
{{- $d := default "30s" . | toString -}}
{{- if not (regexMatch "^([0-9]+h)?([0-9]+m)?([0-9]+s)?$" $d) -}}
{{- fail (printf "cannot read the duration %q: set terminationGracePeriodSeconds" $d) -}}
{{- end -}}
{{- $h := regexFind "[0-9]+h" $d | trimSuffix "h" | default "0" | int -}}
{{- $m := regexFind "[0-9]+m" $d | trimSuffix "m" | default "0" | int -}}
{{- $s := regexFind "[0-9]+s" $d | trimSuffix "s" | default "0" | int -}}
{{- add (mul $h 3600) (mul $m 60) $s -}}
{{- end -}}

{{/* terminationGracePeriodSeconds: the value, or shutdown_timeout + 15s. */}}
{{- define "llmgw.gracePeriod" -}}
{{- if .Values.terminationGracePeriodSeconds -}}
{{- .Values.terminationGracePeriodSeconds -}}
{{- else -}}
{{- $server := (fromYaml (include "llmgw.config" .)).server | default dict -}}
{{- add (include "llmgw.seconds" $server.shutdown_timeout | int) 15 -}}
{{- end -}}
{{- end -}}

{{/* GOMEMLIMIT: the value, "off", or 85 % of a memory limit in Mi or Gi. */}}
{{- define "llmgw.goMemLimit" -}}
{{- $v := .Values.goMemLimit | toString -}}
{{- if and $v (ne $v "off") -}}
{{- $v -}}
{{- else if not $v -}}
{{- $limit := (.Values.resources.limits | default dict).memory | default "" | toString -}}
{{- if regexMatch "^[0-9]+Mi$" $limit -}}
{{- printf "%dMiB" (div (mul (trimSuffix "Mi" $limit | int) 85) 100) -}}
{{- else if regexMatch "^[0-9]+Gi$" $limit -}}
{{- printf "%dMiB" (div (mul (trimSuffix "Gi" $limit | int) 1024 85) 100) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Checks of values that together make no working gateway. */}}
{{- define "llmgw.validate" -}}
{{- if and (eq .Values.storage.driver "sqlite") (include "llmgw.manyReplicas" .) -}}
{{- fail "storage.driver sqlite is one replica's store: use postgres with replicaCount > 1 or autoscaling" -}}
{{- end -}}
{{- if not .Values.secrets.existingSecret -}}
{{- if and (eq .Values.storage.driver "postgres") (not .Values.storage.dsn) -}}
{{- fail "storage.driver postgres needs storage.dsn (or secrets.existingSecret with LLMGW_STORAGE_DSN)" -}}
{{- end -}}
{{- if and (eq .Values.storage.driver "postgres") (not .Values.secrets.serverSecret) -}}
{{- fail "storage.driver postgres needs secrets.serverSecret, shared by every replica (or secrets.existingSecret with LLMGW_SECRET)" -}}
{{- end -}}
{{- if and .Values.redis.enabled (not .Values.redis.url) -}}
{{- fail "redis.enabled needs redis.url (or secrets.existingSecret with LLMGW_REDIS_URL)" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The http and metrics port names the Service and probes use. */}}
{{- define "llmgw.metricsPortName" -}}
{{- if .Values.metrics.separatePort -}}metrics{{- else -}}http{{- end -}}
{{- end -}}

{{/* HTTPS when the configuration serves the main listener over TLS. */}}
{{- define "llmgw.scheme" -}}
{{- if ((.Values.config.server | default dict).tls) -}}HTTPS{{- else -}}HTTP{{- end -}}
{{- end -}}

{{/* The chart's Secret's data: environment variables, base64. */}}
{{- define "llmgw.secretData" -}}
{{- $env := dict -}}
{{- range $k, $v := .Values.secrets.env -}}
{{- $_ := set $env $k ($v | toString) -}}
{{- end -}}
{{- with .Values.secrets.adminToken }}{{ $_ := set $env "LLMGW_ADMIN_TOKEN" . }}{{ end -}}
{{- with .Values.secrets.serverSecret }}{{ $_ := set $env "LLMGW_SECRET" . }}{{ end -}}
{{- with .Values.secrets.metricsToken }}{{ $_ := set $env "LLMGW_METRICS_TOKEN" . }}{{ end -}}
{{- if eq .Values.storage.driver "postgres" }}{{ $_ := set $env "LLMGW_STORAGE_DSN" .Values.storage.dsn }}{{ end -}}
{{- if .Values.redis.enabled }}{{ $_ := set $env "LLMGW_REDIS_URL" .Values.redis.url }}{{ end -}}
{{- range $k := keys $env | sortAlpha }}
{{ $k }}: {{ get $env $k | b64enc | quote }}
{{- end -}}
{{- end -}}

{{/* Where pods go: spread over zones and nodes, apart from each other. */}}
{{- define "llmgw.scheduling" -}}
{{- $root := . -}}
{{- if .Values.topologySpread.enabled }}
topologySpreadConstraints:
  {{- range .Values.topologySpread.topologyKeys }}
  - maxSkew: {{ $root.Values.topologySpread.maxSkew }}
    topologyKey: {{ . }}
    whenUnsatisfiable: {{ $root.Values.topologySpread.whenUnsatisfiable }}
    labelSelector:
      matchLabels:
        {{- include "llmgw.selectorLabels" $root | nindent 8 }}
  {{- end }}
{{- end }}
{{- if .Values.affinity }}
affinity:
  {{- toYaml .Values.affinity | nindent 2 }}
{{- else if .Values.podAntiAffinity.enabled }}
affinity:
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: {{ .Values.podAntiAffinity.weight }}
        podAffinityTerm:
          topologyKey: {{ .Values.podAntiAffinity.topologyKey }}
          labelSelector:
            matchLabels:
              {{- include "llmgw.selectorLabels" . | nindent 14 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
