#!/usr/bin/env bash
# Lints the Swift sources against .swift-format (modelled on swift-nio's): `swift format lint --strict` on Sources/,
# Tests/ and Plugins/; exits non-zero on any finding. `swift format --in-place --recursive Sources Tests Plugins`
# fixes what it can.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="/opt/swift/usr/bin:$PATH"
swift format lint --strict --parallel --recursive Sources Tests Plugins
echo "format-lint: Sources, Tests and Plugins match .swift-format"
