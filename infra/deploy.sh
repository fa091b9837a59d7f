#!/bin/bash
# `make deploy`: deploy infra/imdb-pipeline.yaml as STACK in REGION and upload the `make bundle`
# artifacts. Usage: infra/deploy.sh STACK REGION [Parameter=Value ...]
# AWS_CLI names the aws command (default `aws`); AWS_ENDPOINT_URL points it at an emulator.
#
# MWAA refuses to start without its requirements, plugins and startup script in the artifacts
# bucket, which the stack itself creates: a new stack is first deployed without the Airflow
# environment, then the artifacts are uploaded, then the stack is deployed with it, pinned to the
# uploaded object versions (so a changed requirements.txt or startup.sh updates the environment).
# A Deployment=local stack (the emulator) has no Airflow environment: one deploy, then the upload.
set -euo pipefail

if [ "$#" -lt 2 ]; then
    echo "usage: $0 STACK REGION [Parameter=Value ...]" >&2
    exit 2
fi
stack=$1
region=$2
shift 2
read -r -a aws <<< "${AWS_CLI:-aws}"
here=$(cd "$(dirname "$0")" && pwd)
template="${here}/imdb-pipeline.yaml"
bundle="${BUNDLE_DIR:-${here}/../build/mwaa}"

deploy() {
    local log
    if ! log=$("${aws[@]}" cloudformation deploy --region "${region}" --stack-name "${stack}" \
            --template-file "${template}" --capabilities CAPABILITY_NAMED_IAM \
            --no-fail-on-empty-changeset --parameter-overrides "$@" 2>&1); then
        # The emulator refuses an empty change set with the message AWS gives an empty update.
        if [[ "${log}" != *"No updates are to be performed"* ]]; then
            echo "${log}" >&2
            return 1
        fi
    fi
    echo "${log}"
}

stack_parameter() {
    "${aws[@]}" cloudformation describe-stacks --region "${region}" --stack-name "${stack}" \
        --query "Stacks[0].Parameters[?ParameterKey=='$1'].ParameterValue" --output text 2>/dev/null || true
}

physical_id() {
    "${aws[@]}" cloudformation list-stack-resources --region "${region}" --stack-name "${stack}" \
        --query "StackResourceSummaries[?LogicalResourceId=='$1'].PhysicalResourceId" --output text
}

object_version() {
    local version
    version=$("${aws[@]}" s3api head-object --region "${region}" --bucket "${artifacts}" --key "$1" \
        --query VersionId --output text)
    if [ "${version}" = "None" ]; then version=""; fi
    echo "${version}"
}

if [ ! -f "${bundle}/requirements.txt" ]; then
    echo "no bundle in ${bundle}: run \`make bundle\` first" >&2
    exit 1
fi
deployment=$(stack_parameter Deployment)
if [ -z "${deployment}" ] || [ "${deployment}" = local ]; then
    echo "deploying ${stack} without an Airflow environment (new or local stack)"
    deploy "$@" AirflowEnvironment=false
fi

artifacts=$(physical_id ArtifactsBucket)
echo "uploading the bundle to s3://${artifacts}/"
"${aws[@]}" s3 sync --region "${region}" --delete --only-show-errors "${bundle}/dags" "s3://${artifacts}/dags"
"${aws[@]}" s3 sync --region "${region}" --delete --only-show-errors "${bundle}/glue" "s3://${artifacts}/glue"
for artifact in plugins.zip requirements.txt startup.sh; do
    "${aws[@]}" s3 cp --region "${region}" --only-show-errors "${bundle}/${artifact}" "s3://${artifacts}/${artifact}"
done

if [ "$(stack_parameter Deployment)" = aws ]; then
    deploy AirflowEnvironment=true \
        "RequirementsVersion=$(object_version requirements.txt)" \
        "PluginsVersion=$(object_version plugins.zip)" \
        "StartupScriptVersion=$(object_version startup.sh)" "$@"
fi
echo "stack ${stack} deployed in ${region}"
