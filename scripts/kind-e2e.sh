#!/usr/bin/env bash
# End-to-end run on a throw-away kind cluster:
#   1. create the cluster from kind-config.yaml (deleted again on exit, whatever happens);
#   2. install the CRDs (crds/) and the platform's namespace (operator/deploy/namespace.yaml);
#   3. build the platform's one image (Dockerfile) and load it into the cluster;
#   4. install the platform with its Helm chart (charts/incident-platform, values
#      ci/kind-values.yaml: operator enabled, NodePort services on kind-config.yaml's ports),
#      wait for every rollout and the operator, then run `helm test` (each service's /readyz
#      and the operator's token); without the chart, deploy the bare operator from
#      operator/deploy/ instead;
#   5. apply examples/alert.yaml and wait until the Alert's status.phase is Correlated and the
#      Incident object named by status.incidentRef exists.
# Exits non-zero on any failure, and straight away when no Docker engine is running: this
# script never reports a pass it did not observe.
#
# Environment (all optional):
#   KIND_CLUSTER_NAME    cluster name                       (incident-platform-e2e)
#   IMAGE                the platform image tag             (incident-platform:dev)
#   DOCKERFILE           Dockerfile that builds that image  (Dockerfile)
#                        (OPERATOR_IMAGE / OPERATOR_DOCKERFILE are still read, as fallbacks)
#   CHART_DIR            the platform's Helm chart          (charts/incident-platform)
#   HELM                 helm binary; default: scripts/fetch-helm.sh's .tools/bin/helm
#   E2E_NAMESPACE        namespace the example Alert goes to (default)
#   E2E_TIMEOUT          timeout of each wait, in seconds    (180s)
#   KEEP_CLUSTER=1       do not delete the cluster at the end (for debugging)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo_root}"

cluster="${KIND_CLUSTER_NAME:-incident-platform-e2e}"
image="${IMAGE:-${OPERATOR_IMAGE:-incident-platform:dev}}"
dockerfile="${DOCKERFILE:-${OPERATOR_DOCKERFILE:-Dockerfile}}"
chart_dir="${CHART_DIR:-charts/incident-platform}"
alert_ns="${E2E_NAMESPACE:-default}"
timeout="${E2E_TIMEOUT:-180s}"
operator_ns="incident-platform"
release="incident-platform"
# The operator's Deployment: the chart's (<release>-operator), or operator/deploy/'s.
operator_deployment="incident-operator"
alert_name="checkout-high-error-rate" # metadata.name in examples/alert.yaml

log() { printf '[kind-e2e] %s\n' "$*"; }
fail() {
    printf '[kind-e2e] FAILED: %s\n' "$*" >&2
    exit 1
}

if ! docker info >/dev/null 2>&1; then
    echo "kind-e2e needs a Docker engine; none is running here" >&2
    exit 1
fi
for tool in kind kubectl; do
    command -v "${tool}" >/dev/null 2>&1 || fail "${tool} is not installed"
done
[[ "${timeout}" =~ ^[0-9]+s$ ]] || fail "E2E_TIMEOUT must be whole seconds like 180s, not ${timeout}"
[[ "${image}" =~ ^(.+):([A-Za-z0-9_][A-Za-z0-9_.-]*)$ ]] || fail "IMAGE must be repository:tag, not ${image}"
image_repository="${BASH_REMATCH[1]}"
image_tag="${BASH_REMATCH[2]}"
# (grep without -q reads all its input, so pipefail never sees a SIGPIPE'd writer)
if kind get clusters 2>/dev/null | grep -x -- "${cluster}" >/dev/null; then
    fail "a kind cluster named ${cluster} exists already; delete it or set KIND_CLUSTER_NAME"
fi

# Every kubectl call goes to this run's cluster, whatever the current context is.
kubectl() { command kubectl --context "kind-${cluster}" "$@"; }

cleanup() {
    local rc=$?
    if [[ ${rc} -ne 0 ]]; then
        log "diagnostics (exit code ${rc}):"
        kubectl get alerts,incidents --all-namespaces -o wide || true
        kubectl -n "${operator_ns}" get pods,jobs -o wide || true
        kubectl -n "${operator_ns}" logs -l app.kubernetes.io/component=operator-credentials \
            --tail=100 || true
        kubectl -n "${operator_ns}" logs "deployment/${operator_deployment}" --tail=200 || true
    fi
    if [[ "${KEEP_CLUSTER:-0}" == "1" ]]; then
        log "KEEP_CLUSTER=1: leaving cluster ${cluster} running"
    else
        log "deleting cluster ${cluster}"
        kind delete cluster --name "${cluster}" || true
    fi
    exit "${rc}"
}

trap cleanup EXIT
log "creating cluster ${cluster}"
kind create cluster --name "${cluster}" --config kind-config.yaml --wait 120s

log "installing CRDs"
kubectl apply -f crds/
kubectl wait --for=condition=Established --timeout="${timeout}" \
    crd/alerts.incident-platform.io crd/incidents.incident-platform.io \
    crd/oncallschedules.incident-platform.io crd/escalationpolicies.incident-platform.io \
    crd/silences.incident-platform.io

log "creating the namespace ${operator_ns}"
kubectl apply -f operator/deploy/namespace.yaml

log "building and loading the platform image ${image}"
if [[ -f "${dockerfile}" ]]; then
    docker build --tag "${image}" --file "${dockerfile}" .
elif ! docker image inspect "${image}" >/dev/null 2>&1; then
    fail "no ${dockerfile} to build ${image} from, and no such local image"
fi
kind load docker-image "${image}" --name "${cluster}"

if [[ -d "${chart_dir}" ]]; then
    helm="${HELM:-}"
    if [[ -z "${helm}" ]]; then
        scripts/fetch-helm.sh
        helm="${repo_root}/.tools/bin/helm"
    fi
    operator_deployment="${release}-operator"
    log "installing the platform chart ${chart_dir} with the operator"
    # --wait: every Deployment and the StatefulSet ready, every Job (the operator's
    # credentials) complete. The CRDs are in place already (kubectl apply above).
    "${helm}" upgrade --install "${release}" "${chart_dir}" \
        --namespace "${operator_ns}" --kube-context "kind-${cluster}" \
        --values "${chart_dir}/ci/kind-values.yaml" \
        --set-string "image.repository=${image_repository},image.tag=${image_tag}" \
        --skip-crds --wait --wait-for-jobs --timeout 10m
    kubectl -n "${operator_ns}" rollout status "deployment/${operator_deployment}" \
        --timeout="${timeout}"
    log "helm test: each service's /readyz and the operator's token"
    "${helm}" test "${release}" --namespace "${operator_ns}" --kube-context "kind-${cluster}" \
        --logs --timeout 5m
else
    log "no chart at ${chart_dir}: deploying the bare operator, without the platform services"
    kubectl apply -f operator/deploy/rbac.yaml -f operator/deploy/deployment.yaml
    kubectl -n "${operator_ns}" set image "deployment/${operator_deployment}" "operator=${image}"
    kubectl -n "${operator_ns}" rollout status "deployment/${operator_deployment}" \
        --timeout="${timeout}"
fi

log "applying examples/alert.yaml in namespace ${alert_ns}"
kubectl -n "${alert_ns}" apply -f examples/alert.yaml
kubectl -n "${alert_ns}" wait "alert/${alert_name}" \
    --for=jsonpath='{.status.phase}'=Correlated --timeout="${timeout}"

incident="$(kubectl -n "${alert_ns}" get "alert/${alert_name}" -o jsonpath='{.status.incidentRef}')"
[[ -n "${incident}" ]] || fail "alert ${alert_name} is Correlated but has no status.incidentRef"

log "waiting for Incident ${incident}"
deadline=$((SECONDS + ${timeout%s}))
until kubectl get incidents --all-namespaces \
    -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}' | grep -x -- "${incident}" >/dev/null; do
    ((SECONDS < deadline)) || fail "no Incident object named ${incident} within ${timeout}"
    sleep 2
done

kubectl get alerts,incidents --all-namespaces
log "PASSED: alert ${alert_name} is Correlated with Incident ${incident}"
