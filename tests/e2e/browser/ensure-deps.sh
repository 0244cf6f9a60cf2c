#!/usr/bin/env bash
# Installs playwright-core from package-lock.json (npm ci) unless node_modules already matches it. Idempotent;
# never downloads a browser (the tests drive Debian's /usr/bin/chromium).
set -euo pipefail
cd "$(dirname "$0")"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ -f node_modules/.package-lock.json ] && [ -d node_modules/playwright-core ] &&
   node -e 'const a=require("./package-lock.json").packages["node_modules/playwright-core"].version,
            b=require("./node_modules/playwright-core/package.json").version; process.exit(a===b?0:1)'; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
