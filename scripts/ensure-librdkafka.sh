#!/usr/bin/env bash
# Makes sure librdkafka (Debian package librdkafka1) is present: the embedded Kafka broker is
# librdkafka's mock cluster, loaded through koffi. Installs it when missing and running as root;
# otherwise says exactly what to install.
set -euo pipefail
have_lib() {
  ldconfig -p 2>/dev/null | grep -q 'librdkafka\.so\.1 ' && return 0
  for d in /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib /usr/local/lib; do
    [ -e "$d/librdkafka.so.1" ] && return 0
  done
  [ -n "${TGSTREAM_LIBRDKAFKA:-}" ] && [ -e "$TGSTREAM_LIBRDKAFKA" ] && return 0
  return 1
}
have_lib && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "tgstream: librdkafka1 is missing; installing it with apt-get (needed for the embedded Kafka broker)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq librdkafka1 >/dev/null
  have_lib && exit 0
fi
cat >&2 <<'MSG'
tgstream: the embedded Kafka broker needs librdkafka (librdkafka.so.1), which is not installed.
  Debian/Ubuntu:  sudo apt-get install librdkafka1
  Fedora/RHEL:    sudo dnf install librdkafka
  macOS:          brew install librdkafka   (then set TGSTREAM_LIBRDKAFKA to the .dylib path)
Or point the connector at a real Kafka cluster and TigerGraph instead of --embedded.
MSG
exit 1
