#!/usr/bin/env bash
# Side-by-side harness: installs the peers, builds wordwarden and the Rust
# peers, and runs benches/compare/run.py (table + PNG chart into
# benches/compare/results/). `bash benches/compare.sh --quick` for a 5 MB
# corpus without the 1M-term lists.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet matcher_py hyperscan pyahocorasick ahocorasick-rs matplotlib
cargo build --release --bin wordwarden --example compare
python3 benches/compare/run.py "$@"
