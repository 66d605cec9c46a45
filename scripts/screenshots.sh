#!/usr/bin/env bash
# Refreshes docs/screenshots/ (the README shows them) from the browser tests: the same pages with the
# same data as test/e2e/web-app.test.ts, at 1920×1080 and 1366×768. Needs PostgreSQL and Redis like
# `npm test`, and the system Chromium (`npm run setup`).
set -euo pipefail
cd "$(dirname "$0")/.."
out=docs/screenshots
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ess-screenshots.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
ESS_SCREENSHOTS_DIR="$tmp" npx vitest run test/e2e/web-app.test.ts
mkdir -p "$out"
rm -f "$out"/*.png
cp "$tmp"/*.png "$out"/
ls "$out"
