#!/usr/bin/env bash
# npm test: every compiled test file, one file at a time (integration tests each start a Crossbar).
# TEST_REPORTER picks node:test's reporter (spec locally, tap in CI).
set -euo pipefail
exec node --test --test-concurrency=1 --test-reporter="${TEST_REPORTER:-spec}" 'dist/test/**/*.test.js'
