#!/usr/bin/env bash
# Makes sure kcat (Debian package kcat), a Kafka client that others wrote, is present: the tests
# use it to produce to `tgstream dev` the way a user would. Installs it when missing and running
# as root; otherwise says what to install (the tests that need it are then skipped, saying so).
set -euo pipefail
command -v kcat >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "tgstream: kcat is missing; installing it with apt-get (the tests produce with it)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq kcat >/dev/null
  command -v kcat >/dev/null 2>&1 && exit 0
fi
echo "tgstream: kcat is not installed (Debian/Ubuntu: sudo apt-get install kcat); the tests that produce with it will be skipped" >&2
exit 0
