#!/usr/bin/env bash
# Regenerates Sources/SessionServer/OpenAPIDocument.swift from docs/openapi.json (the source of truth).
set -euo pipefail
cd "$(dirname "$0")/.."
{
  echo '// Generated from docs/openapi.json by scripts/gen-openapi.sh; a test checks they match.'
  echo 'enum OpenAPIDocument {'
  echo '    static let json = #"""'
  cat docs/openapi.json
  echo '"""#'
  echo '}'
} > Sources/SessionServer/OpenAPIDocument.swift
