{{/* Names, labels and the pieces every kgrca pod shares. */}}

{{- define "kgrca.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kgrca.fullname" -}}
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

{{/* "<fullname>-<component>", kept within the 63 characters of a DNS label. */}}
{{- define "kgrca.componentName" -}}
{{- $full := include "kgrca.fullname" .root | trunc (int (sub 62 (len .component))) | trimSuffix "-" -}}
{{- printf "%s-%s" $full .component -}}
{{- end -}}

{{- define "kgrca.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "kgrca.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kgrca
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component: {"root": $, "component": "server"}. */}}
{{- define "kgrca.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kgrca.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "kgrca.componentLabels" -}}
{{ include "kgrca.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "kgrca.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "kgrca.tracerImage" -}}
{{- printf "%s:%s" .Values.tracer.image.repository (default .Chart.AppVersion .Values.tracer.image.tag) -}}
{{- end -}}

{{- define "kgrca.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "kgrca.componentName" (dict "root" . "component" "watcher")) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "kgrca.configMapName" -}}
{{- include "kgrca.componentName" (dict "root" . "component" "config") -}}
{{- end -}}

{{- define "kgrca.secretName" -}}
{{- if .Values.secrets.existingSecret -}}
{{- .Values.secrets.existingSecret -}}
{{- else -}}
{{- include "kgrca.componentName" (dict "root" . "component" "secrets") -}}
{{- end -}}
{{- end -}}

{{/* The sink of the watcher and the tracer: Kafka when it sits between them and the graph, else Neo4j. */}}
{{- define "kgrca.sink" -}}
{{- if .Values.kafka.enabled -}}kafka{{- else -}}neo4j{{- end -}}
{{- end -}}

{{/*
The secret settings, each from its own key of the Secret. `optional: true`: a key absent from an
existingSecret leaves the setting unset (kgrca's default), it does not keep the pod from starting.
Pass {"root": $, "names": [...]} with the secrets.keys names a component needs.
*/}}
{{- define "kgrca.secretEnv" -}}
{{- $root := .root -}}
{{- $variables := dict "neo4jPassword" "KGRCA_NEO4J_PASSWORD" "githubWebhookSecret" "KGRCA_GITHUB_WEBHOOK_SECRET" "argocdWebhookToken" "KGRCA_ARGOCD_WEBHOOK_TOKEN" "jiraWebhookSecret" "KGRCA_JIRA_WEBHOOK_SECRET" -}}
{{- range .names }}
- name: {{ get $variables . }}
  valueFrom:
    secretKeyRef:
      name: {{ include "kgrca.secretName" $root }}
      key: {{ get $root.Values.secrets.keys . }}
      optional: true
{{- end }}
{{- end -}}

{{/* Pod annotations that roll the pods when the configuration or the chart's Secret changes. */}}
{{- define "kgrca.checksums" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- if not .Values.secrets.existingSecret }}
checksum/secrets: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}
{{- end -}}

{{/* Security context of the non-root components (watcher, builder, server). */}}
{{- define "kgrca.restrictedPodSecurity" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "kgrca.restrictedContainerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end -}}

{{/* Settings that must not reach the ConfigMap: they belong in the Secret. */}}
{{- define "kgrca.secretSettings" -}}
neo4j_password github_webhook_secret argocd_webhook_token jira_webhook_secret
{{- end -}}

{{/* Checks of combinations of values that cannot work, each failing with what to change. */}}
{{- define "kgrca.validate" -}}
{{- if and .Values.namespaced (empty .Values.watchNamespaces) -}}
{{- fail "namespaced: true needs watchNamespaces: the namespaces to grant read access in (e.g. --set watchNamespaces={prod,staging})" -}}
{{- end -}}
{{- range $key, $_ := .Values.config -}}
{{- if has $key (splitList " " (include "kgrca.secretSettings" $)) -}}
{{- fail (printf "config.%s is a secret: set it in secrets (or in the Secret named by secrets.existingSecret), not in config" $key) -}}
{{- end -}}
{{- if has $key (list "neo4j_uri" "neo4j_user" "neo4j_database" "kafka_bootstrap" "kafka_topic_prefix" "kafka_group" "namespaces" "report_schedule" "http_port") -}}
{{- fail (printf "config.%s has its own value in this chart (neo4j.*, kafka.*, watchNamespaces, reportSchedule, server.port): set it there" $key) -}}
{{- end -}}
{{- if has $key (list "http_host" "report_dir" "cache_dir" "data_dir" "kubeconfig") -}}
{{- fail (printf "config.%s is set by the chart to fit the pods (listen address, mounted folders, in-cluster API access): leave it out" $key) -}}
{{- end -}}
{{- end -}}
{{- if and .Values.server.enabled .Values.reportSchedule (gt (int .Values.server.replicas) 1) -}}
{{- fail "reportSchedule with server.replicas > 1 would write every report once per replica: keep server.replicas at 1" -}}
{{- end -}}
{{- end -}}

{{/* RBAC rules: the watched kinds (ingest/k8s_watch.py KINDS), read-only. */}}
{{- define "kgrca.rules.clusterScoped" -}}
- apiGroups: [""]
  resources: [namespaces, nodes]
  verbs: [get, list, watch]
- apiGroups: [apiextensions.k8s.io]
  resources: [customresourcedefinitions]
  verbs: [get, list, watch]
- apiGroups: [admissionregistration.k8s.io]
  resources: [validatingwebhookconfigurations, mutatingwebhookconfigurations]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [persistentvolumes]
  verbs: [get, list, watch]
- apiGroups: [networking.k8s.io]
  resources: [ingressclasses]
  verbs: [get, list, watch]
- apiGroups: [storage.k8s.io]
  resources: [storageclasses]
  verbs: [get, list, watch]
- apiGroups: [certificates.k8s.io]
  resources: [certificatesigningrequests]
  verbs: [get, list, watch]
{{- end -}}

{{- define "kgrca.rules.namespaced" -}}
- apiGroups: [""]
  resources: [configmaps, services, persistentvolumeclaims, pods, events]
  verbs: [get, list, watch]
{{- if .Values.rbac.helmReleaseSecrets }}
# Helm's release history (Secrets labelled owner=helm): the one sensitive grant.
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list, watch]
{{- end }}
{{- if .Values.rbac.podLogs }}
# The last lines of a failing container's log (kgrca watch's container_logs setting): get, nothing else.
- apiGroups: [""]
  resources: [pods/log]
  verbs: [get]
{{- end }}
- apiGroups: [apps]
  resources: [deployments, replicasets, statefulsets, daemonsets]
  verbs: [get, list, watch]
- apiGroups: [batch]
  resources: [jobs, cronjobs]
  verbs: [get, list, watch]
- apiGroups: [autoscaling]
  resources: [horizontalpodautoscalers]
  verbs: [get, list, watch]
- apiGroups: [policy]
  resources: [poddisruptionbudgets]
  verbs: [get, list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [get, list, watch]
- apiGroups: [networking.k8s.io]
  resources: [ingresses, networkpolicies]
  verbs: [get, list, watch]
{{- end -}}

{{/* host:port the watcher and tracer deliver to: the first Kafka broker, or Neo4j's Bolt address. */}}
{{- define "kgrca.sinkAddress" -}}
{{- if .Values.kafka.enabled -}}
{{- tpl .Values.kafka.bootstrap . | splitList "," | first | trim -}}
{{- else -}}
{{- $host := (urlParse (tpl .Values.neo4j.uri .)).host -}}
{{- if regexMatch ":[0-9]+$" $host -}}{{ $host }}{{- else -}}{{ printf "%s:7687" $host }}{{- end -}}
{{- end -}}
{{- end -}}

{{/* The volumes every non-root kgrca container writes to on its read-only root filesystem. */}}
{{- define "kgrca.scratchVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 256Mi
{{- end -}}
