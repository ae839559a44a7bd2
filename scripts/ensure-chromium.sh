#!/bin/sh
# Install Debian's Chromium for the console's browser tests, if it is not there yet.
# Idempotent and quiet; needs root (or sudo). Playwright drives it via executable_path,
# so `playwright install` (which downloads browsers) is never needed.
set -eu
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
test -x /usr/bin/chromium
