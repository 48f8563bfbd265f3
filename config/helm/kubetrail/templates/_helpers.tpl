{{/* Names: one release is one cluster's CronJob; cluster-scoped objects carry the release name to stay apart. */}}
{{- define "kubetrail.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}{{ .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 52 | trimSuffix "-" }}{{ end }}
{{- end }}

{{- define "kubetrail.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{/* The cluster id names a directory and a branch (kubetrail/<id>): a DNS label, checked before anything is installed. */}}
{{- define "kubetrail.clusterId" -}}
{{- $id := required "clusterId is required: the cluster's directory in the repository (a DNS label)" .Values.clusterId -}}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$" $id) }}
{{- fail (printf "clusterId %q must be a DNS label: lower-case letters, digits and '-', at most 63" $id) }}
{{- end }}
{{- $id }}
{{- end }}

{{/* kubetrail.yaml, built as data and written with toYaml so that no value can break the YAML. */}}
{{- define "kubetrail.config" -}}
{{- $id := include "kubetrail.clusterId" . }}
{{- $remote := dict
  "url" (required "remote.url is required: the https URL of the git repository" .Values.remote.url)
  "branch" .Values.remote.branch
  "tokenEnv" "KUBETRAIL_GIT_TOKEN" }}
{{- with .Values.remote.pullRequest }}{{ if .enabled }}
{{- $pr := dict "base" .base "mode" .mode }}
{{- if .forge }}{{ $_ := set $pr "forge" .forge }}{{ end }}
{{- $_ := set $remote "pullRequest" $pr }}
{{- end }}{{ end }}
{{- $cluster := merge (dict "id" $id "inCluster" true "includeSecrets" .Values.includeSecrets) (deepCopy .Values.cluster) }}
{{- $config := dict
  "repo" "/data/repo"
  "bare" true
  "remote" $remote
  "secrets" (dict "hmacKeyEnv" "KUBETRAIL_HMAC_KEY")
  "clusters" (list $cluster) }}
{{- with .Values.startJitterSeconds }}{{ $_ := set $config "startJitterSeconds" . }}{{ end }}
{{- toYaml $config }}
{{- end }}
