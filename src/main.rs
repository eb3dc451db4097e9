//! The `wordwarden` command line: one file per command under `src/cli/`.

mod cli;

use std::process::ExitCode;

use clap::Parser;

/// Messages are allocated on the consume thread and freed on a worker:
/// glibc's allocator spends more time on that than the matcher does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::dispatch(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", error_chain(&e));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes on one line, each cause once: some errors (the
/// Kafka client's among them) repeat their cause in their own message and
/// return it as `source()` too.
fn error_chain(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let said = cause.to_string();
        if line.ends_with(&said) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&said);
    }
    line
}

#[cfg(test)]
mod tests {
    #[derive(Debug, thiserror::Error)]
    #[error("outer: {0}")]
    struct Repeats(#[source] std::io::Error);

    #[test]
    fn a_cause_repeated_in_its_parent_is_printed_once() {
        let io = || std::io::Error::other("disk gone");
        let e = anyhow::Error::new(Repeats(io())).context("reading lists");
        assert_eq!(super::error_chain(&e), "reading lists: outer: disk gone");
        let e = anyhow::Error::new(io()).context("reading lists");
        assert_eq!(super::error_chain(&e), "reading lists: disk gone");
    }
}
