//! Every crate in the build is under a permissive licence (no GPL): the
//! licence expressions of `cargo metadata`, evaluated against an allow list.

use std::process::Command;

const ALLOWED: &[&str] = &[
    "MIT",
    "MIT-0",
    "Apache-2.0",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "ISC",
    "Zlib",
    "0BSD",
    "Unicode-DFS-2016",
    "Unicode-3.0",
    "CC0-1.0",
    "Unlicense",
    "BSL-1.0",
];

/// Evaluates an SPDX expression: OR needs one allowed side, AND both.
fn allowed(expr: &str) -> bool {
    let spaced = expr
        .replace('(', " ( ")
        .replace(')', " ) ")
        .replace('/', " OR ");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    let mut pos = 0;
    let ok = parse_or(&tokens, &mut pos);
    ok && pos == tokens.len()
}

fn parse_or(t: &[&str], pos: &mut usize) -> bool {
    let mut ok = parse_and(t, pos);
    while t.get(*pos) == Some(&"OR") {
        *pos += 1;
        ok |= parse_and(t, pos);
    }
    ok
}

fn parse_and(t: &[&str], pos: &mut usize) -> bool {
    let mut ok = parse_atom(t, pos);
    while t.get(*pos) == Some(&"AND") {
        *pos += 1;
        ok &= parse_atom(t, pos);
    }
    ok
}

fn parse_atom(t: &[&str], pos: &mut usize) -> bool {
    match t.get(*pos) {
        Some(&"(") => {
            *pos += 1;
            let ok = parse_or(t, pos);
            if t.get(*pos) == Some(&")") {
                *pos += 1;
            }
            ok
        }
        Some(id) => {
            *pos += 1;
            if t.get(*pos) == Some(&"WITH") {
                *pos += 2; // an exception only widens a licence
            }
            ALLOWED.contains(id)
        }
        None => false,
    }
}

#[test]
fn spdx_evaluation() {
    assert!(allowed("MIT OR Apache-2.0"));
    assert!(allowed("MIT/Apache-2.0"));
    assert!(allowed("(MIT OR Apache-2.0) AND Unicode-3.0"));
    assert!(allowed("Apache-2.0 WITH LLVM-exception"));
    assert!(allowed("GPL-2.0 OR MIT"));
    assert!(!allowed("GPL-2.0-or-later"));
    assert!(!allowed("MIT AND GPL-3.0"));
}

#[test]
fn every_dependency_is_permissively_licensed() {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut bad = Vec::new();
    for p in meta["packages"].as_array().unwrap() {
        let name = p["name"].as_str().unwrap_or("?");
        match p["license"].as_str() {
            Some(l) if allowed(l) => {}
            Some(l) => bad.push(format!("{name}: {l}")),
            None => bad.push(format!("{name}: no SPDX licence")),
        }
    }
    assert!(bad.is_empty(), "not permissively licensed: {bad:#?}");
}
