#!/usr/bin/env bash
# Invokes a stage's migrations function to apply what is pending, prints its answer, and fails when
# the function did (CI runs it: .github/workflows/deploy-stage.yml, docs/migrations.md).
#   scripts/apply-migrations.sh <function name or ARN>
set -euo pipefail

function_name="${1:?usage: scripts/apply-migrations.sh <migrations function name>}"
aws lambda invoke --function-name "$function_name" \
    --cli-binary-format raw-in-base64-out --payload '{"action": "apply"}' \
    --cli-read-timeout 310 migrate-response.json >migrate-invoke.json
cat migrate-response.json
if grep -q FunctionError migrate-invoke.json; then
    echo "::error::the migrations function failed; see its log group"
    exit 1
fi
