//! `wordwarden check [run's flags]`: what a deployment needs, checked
//! before it runs, one line a check; exit status 1 when one fails.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use wordwarden::engine::preflight::{self, Check, Outcome, Report};

#[derive(Debug, clap::Args)]
// (run's arguments are a group called `Args` as well)
#[group(id = "check")]
pub struct Args {
    /// The configuration, exactly as `run` takes it.
    #[command(flatten)]
    run: super::run::Args,
    /// Do not ask the brokers (lists, settings and addresses only: for a
    /// build pipeline without access to the cluster).
    #[arg(long)]
    offline: bool,
    /// Longest wait for each request to the brokers.
    #[arg(long, default_value_t = 10)]
    timeout_secs: u64,
    /// One JSON object: `{"passed", "checks": [{"name", "outcome", "detail"}]}`.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let report = match args.run.resolve() {
        Ok(config) => {
            let brokers_within = (!args.offline).then(|| Duration::from_secs(args.timeout_secs));
            preflight::check(&config, brokers_within)
        }
        // nothing else can be checked without a configuration
        Err(e) => Report {
            checks: vec![Check {
                name: "config",
                outcome: Outcome::Fail,
                detail: format!("{e:#}"),
            }],
        },
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        let json = serde_json::json!({"passed": report.passed(), "checks": report.checks});
        writeln!(out, "{json}")?;
    } else {
        let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        write!(out, "{}", render(&report, color))?;
    }
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn render(report: &Report, color: bool) -> String {
    let width = report
        .checks
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0);
    let mut s = String::new();
    for c in &report.checks {
        let (label, code) = match c.outcome {
            Outcome::Ok => ("ok  ", "32"),
            Outcome::Warn => ("WARN", "33"),
            Outcome::Fail => ("FAIL", "1;31"),
        };
        let label = if color {
            format!("\x1b[{code}m{label}\x1b[0m")
        } else {
            label.to_string()
        };
        s.push_str(&format!("{label}  {:width$}  {}\n", c.name, c.detail));
    }
    let (failed, warned) = (report.count(Outcome::Fail), report.count(Outcome::Warn));
    s.push_str(&match (failed, warned) {
        (0, 0) => format!("{} checks passed\n", report.checks.len()),
        (0, w) => format!("passed, with {w} warning(s)\n"),
        (f, w) => format!("{f} check(s) failed, {w} warning(s)\n"),
    });
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_a_check_and_a_verdict() {
        let check = |name, outcome, detail: &str| Check {
            name,
            outcome,
            detail: detail.into(),
        };
        let report = Report {
            checks: vec![
                check("config", Outcome::Ok, "brokers b"),
                check("audience", Outcome::Warn, "w"),
                check("dead letters", Outcome::Fail, "dlq: no such topic"),
            ],
        };
        assert_eq!(
            render(&report, false),
            "ok    config        brokers b\n\
             WARN  audience      w\n\
             FAIL  dead letters  dlq: no such topic\n\
             1 check(s) failed, 1 warning(s)\n"
        );
        let passed = Report {
            checks: vec![check("config", Outcome::Ok, "brokers b")],
        };
        assert_eq!(
            render(&passed, false),
            "ok    config  brokers b\n1 checks passed\n"
        );
    }
}
