//! Command-line commands, one module each.

mod access;
mod alert_feed;
mod audit;
mod bench;
mod check;
mod demo;
mod diff;
mod explain;
mod export;
mod import;
mod keygen;
mod lint;
mod publish;
mod redrive;
mod report;
mod review;
mod run;
mod scan;
mod tail;
mod test;
mod topic_reader;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// `--version`: this version, and the librdkafka it is built with and what
/// that can do (codecs, SASL mechanisms, OAuth).
fn long_version() -> &'static str {
    static LONG: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "{}\n{}",
            env!("CARGO_PKG_VERSION"),
            wordwarden::engine::librdkafka_build()
        )
    });
    LONG.as_str()
}

/// Streaming sensitive-word detection for archived enterprise chat.
#[derive(Debug, Parser)]
#[command(name = "wordwarden", version, long_version = long_version(), about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Scan messages from a file or stdin (one per line) and print alerts as JSON lines.
    Scan(scan::Args),
    /// Check a word-list directory: errors and warnings with file:line.
    Lint(lint::Args),
    /// Show how a text is folded and why each candidate hit was kept or dropped.
    Explain(explain::Args),
    /// Run the `.cases` list tests next to the lists.
    Test(test::Args),
    /// Compare two list directories, and their impact on a sample corpus.
    Diff(diff::Args),
    /// Import a plain term list or a term,category,severity CSV into list files.
    Import(import::Args),
    /// Print the compiled list set as JSON.
    Export(export::Args),
    /// Run the streaming engine: Kafka in, alerts out.
    Run(run::Args),
    /// Check a deployment before it runs: lists, client settings, topics, the group's position.
    Check(check::Args),
    /// Run the whole pipeline on an in-process Kafka mock cluster with a bundled sample.
    Demo(demo::Args),
    /// Lint a word-list directory and publish it to the word-list topic instances follow.
    PublishWordlists(publish::Args),
    /// Print the SHA-256 of an admin token read from stdin, for `admin_tokens`.
    HashToken,
    /// Make an age identity (written to a file) for opening alerts' sealed evidence; prints its public key.
    Keygen(keygen::Args),
    /// Follow the alert feed: readable and colored, filtered, or `--json`.
    Tail(tail::Args),
    /// Sum up the alert feed over a period: by severity, audience, category and evasion, top terms, senders, conversations.
    Report(report::Args),
    /// Record a verdict on alerts (confirmed, false_positive, dismissed) for `report` and `tail --unreviewed`.
    Review(review::Args),
    /// Send dead letters back to be judged again, once what put them there is fixed.
    Redrive(redrive::Args),
    /// Read the audit trail: who read alerts and messages, and who changed the lists, when.
    Audit(audit::Args),
    /// Measure scan speed of a list set on a corpus (one message per line): one JSON line.
    Bench(bench::Args),
}

pub fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    init_logging();
    match cli.command {
        Command::Run(a) => run::run(a),
        Command::Check(a) => check::run(a),
        Command::Demo(a) => demo::run(a),
        Command::PublishWordlists(a) => publish::run(a),
        Command::Tail(a) => tail::run(a),
        Command::Redrive(a) => redrive::run(a),
        Command::Report(a) => report::run(a),
        Command::Review(a) => review::run(a),
        Command::Audit(a) => audit::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Keygen(a) => keygen::run(a),
        Command::HashToken => {
            let mut token = String::new();
            std::io::stdin().read_line(&mut token)?;
            println!(
                "{}",
                wordwarden::engine::http::hash_token(token.trim_end_matches(['\r', '\n']))
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Scan(a) => scan::run(a),
        Command::Lint(a) => lint::run(a),
        Command::Explain(a) => explain::run(a),
        Command::Test(a) => test::run(a),
        Command::Diff(a) => diff::run(a),
        Command::Import(a) => import::run(a),
        Command::Export(a) => export::run(a),
    }
}

/// Options every command that reads messages shares.
#[derive(Debug, Clone, clap::Args)]
pub struct FormatArgs {
    /// How each message is read: text, json or wecom.
    #[arg(long, default_value = "text", value_parser = ["text", "json", "wecom"])]
    pub input_format: String,
    /// JSON pointer of the text for --input-format json; an object or array
    /// there (`""`: the whole message) has every string in it scanned.
    #[arg(long, default_value = "/text")]
    pub json_pointer: String,
    /// JSON pointer of the sender's id for --input-format json: with
    /// --json-to-pointer and --internal-domain, alerts say whether the
    /// message went outside the company.
    #[arg(long, default_value = "")]
    pub json_from_pointer: String,
    /// JSON pointer of the recipients' ids (an array, or one string) for
    /// --input-format json.
    #[arg(long, default_value = "")]
    pub json_to_pointer: String,
    /// JSON pointer of when a message was written, for --input-format json
    /// (milliseconds or seconds since the epoch, or an RFC 3339 string), for
    /// lists with dates.
    #[arg(long, default_value = "")]
    pub json_time_pointer: String,
    /// A domain of the company's (repeatable): addresses there are
    /// colleagues', at any other domain outsiders'.
    #[arg(long = "internal-domain")]
    pub internal_domains: Vec<String>,
    /// JSON pointer of the WeCom record inside a wrapper object (empty: whole message).
    #[arg(long, default_value = "")]
    pub record_pointer: String,
    /// The encoding of messages (lines) that are not UTF-8: gb18030 (GBK
    /// too), big5, …; UTF-8 ones are read as such.
    #[arg(long, default_value = "")]
    pub input_encoding: String,
}

impl FormatArgs {
    /// The format, with the same checks as the engine's configuration.
    pub fn format(&self) -> anyhow::Result<wordwarden::envelope::InputFormat> {
        let config = wordwarden::engine::Config {
            input_format: self.input_format.clone(),
            json_pointer: self.json_pointer.clone(),
            json_from_pointer: self.json_from_pointer.clone(),
            json_to_pointer: self.json_to_pointer.clone(),
            json_time_pointer: self.json_time_pointer.clone(),
            internal_domains: self.internal_domains.clone(),
            record_pointer: self.record_pointer.clone(),
            ..Default::default()
        };
        let format = config.format()?;
        self.charset()?;
        if format
            .participants()
            .is_some_and(|p| p.names_people() && p.internal_domains.is_empty())
        {
            eprintln!(
                "warning: no --internal-domain: every address with a domain counts as \
                 someone outside the company"
            );
        }
        Ok(format)
    }

    /// The encoding `--input-encoding` names, if any.
    pub fn charset(&self) -> anyhow::Result<Option<wordwarden::encoding::Charset>> {
        wordwarden::encoding::Charset::for_label(&self.input_encoding)
            .map_err(|e| anyhow::anyhow!("--input-encoding: {e}"))
    }
}

/// Loads and compiles a list directory, printing every error with file:line.
pub fn load_ruleset(dir: &std::path::Path) -> anyhow::Result<wordwarden::ruleset::Ruleset> {
    match wordwarden::ruleset::Ruleset::from_dir(dir) {
        Ok(rs) => Ok(rs),
        Err(e) => {
            for d in e.diagnostics() {
                eprintln!("{d}");
            }
            Err(anyhow::anyhow!(
                "cannot load word lists from {}: {e}",
                dir.display()
            ))
        }
    }
}

/// Logs go to stderr; `WORDWARDEN_LOG` (RUST_LOG syntax, default `info`) filters
/// them and `WORDWARDEN_LOG_FORMAT=json` switches to JSON lines. Message text
/// never appears in logs at any level.
fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("WORDWARDEN_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,librdkafka=warn,rdkafka=warn"));
    // audit records are kept whatever the level (PIPL: who changed what)
    let filter = match "wordwarden::audit=info".parse() {
        Ok(d) => filter.add_directive(d),
        Err(_) => filter,
    };
    // colours only for a person at a terminal: log collectors would keep
    // the escape codes as text
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let json = std::env::var("WORDWARDEN_LOG_FORMAT").is_ok_and(|v| v == "json");
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// What [`open_input`] opens: a file or standard input, buffered (1 MiB), so
/// a reader can tell input already there ([`std::io::BufReader::buffer`])
/// from input it would wait for.
pub type Input = std::io::BufReader<Box<dyn std::io::Read + Send>>;

/// A file to read, or standard input for `-` or none.
pub fn open_input(path: Option<&std::path::Path>) -> anyhow::Result<Input> {
    use anyhow::Context;
    let source: Box<dyn std::io::Read + Send> = match path {
        Some(p) if p.as_os_str() != "-" => Box::new(
            std::fs::File::open(p).with_context(|| format!("cannot open {}", p.display()))?,
        ),
        // not `stdin().lock()`: a lock stays on the thread that took it,
        // and `scan` reads on a thread of its own
        _ => Box::new(std::io::stdin()),
    };
    Ok(std::io::BufReader::with_capacity(1 << 20, source))
}

/// `--since`, `--until`: a while ago (`24h`, `30m`, `7d`) or a time, with
/// its offset from UTC (`2026-12-01T08:00:00Z`, `2026-12-01T16:00:00+08:00`)
/// or without one, read as UTC (`2026-12-01 08:00:00`, `2026-12-01`: its
/// midnight).
pub fn parse_since(s: &str) -> Result<std::time::SystemTime, String> {
    if let Ok(ago) = humantime::parse_duration(s) {
        return std::time::SystemTime::now()
            .checked_sub(ago)
            .ok_or_else(|| format!("{s} ago is out of range"));
    }
    let utc = jiff::tz::TimeZone::UTC;
    let time = s
        .parse::<jiff::Timestamp>()
        .or_else(|_| {
            s.parse::<jiff::civil::DateTime>()
                .and_then(|t| t.to_zoned(utc.clone()))
                .map(|t| t.timestamp())
        })
        .or_else(|_| {
            s.parse::<jiff::civil::Date>()
                .and_then(|d| d.to_zoned(utc))
                .map(|t| t.timestamp())
        });
    time.map(std::time::SystemTime::from).map_err(|_| {
        format!(
            "{s:?} is neither a while ago (24h, 30m, 7d) nor a time \
             (2026-12-01T08:00:00Z, 2026-12-01T16:00:00+08:00, 2026-12-01)"
        )
    })
}

/// `-X key=value` librdkafka properties.
pub fn parse_prop(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("expected key=value, got {s:?}"))
}

/// A sample corpus: one message per line, each line that is not UTF-8
/// read in `charset` (`--input-encoding`).
pub fn read_corpus(
    path: Option<&std::path::Path>,
    charset: Option<wordwarden::encoding::Charset>,
) -> anyhow::Result<Option<Vec<String>>> {
    use anyhow::Context;
    let Some(p) = path else { return Ok(None) };
    let bytes = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
    // line by line, as the engine reads each message in its encoding
    let lines = bytes.split(|&b| b == b'\n').enumerate().map(|(i, line)| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        wordwarden::envelope::text_of(line, charset)
            .map(std::borrow::Cow::into_owned)
            .with_context(|| format!("{} line {}", p.display(), i + 1))
    });
    let mut lines = lines.collect::<anyhow::Result<Vec<String>>>()?;
    // as `str::lines`: no line after the last line end
    if lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    Ok(Some(lines))
}

/// One command's arguments parsed from `argv` (its first item the
/// command's name), for the commands' tests.
#[cfg(test)]
fn parse_args<A: clap::Args>(argv: &[&str]) -> Result<A, clap::Error> {
    #[derive(clap::Parser)]
    struct Line<A: clap::Args> {
        #[command(flatten)]
        args: A,
    }
    <Line<A> as clap::Parser>::try_parse_from(argv).map(|l| l.args)
}

#[cfg(test)]
mod tests {
    /// clap's own consistency checks of every command (duplicate names,
    /// groups, conflicts), which it runs only when a command is parsed in a
    /// debug build.
    #[test]
    fn times_are_read_with_their_offset_or_as_utc() {
        let at = |s: &str| {
            super::parse_since(s)
                .map(|t| humantime::format_rfc3339_seconds(t).to_string())
                .map_err(|e| assert!(e.contains("neither a while ago"), "{e}"))
        };
        let eight_utc = Ok("2026-12-01T08:00:00Z".to_string());
        for written in [
            "2026-12-01T08:00:00Z",
            "2026-12-01T16:00:00+08:00",
            "2026-12-01T03:00:00-05:00",
            "2026-12-01T08:00:00",
            "2026-12-01 08:00:00",
        ] {
            assert_eq!(at(written), eight_utc, "{written}");
        }
        assert_eq!(at("2026-12-01"), Ok("2026-12-01T00:00:00Z".to_string()));
        for nonsense in ["yesterday", "2026-13-01", "08:00", ""] {
            assert!(at(nonsense).is_err(), "{nonsense}");
        }
        let ago = super::parse_since("24h").expect("a while ago");
        let elapsed = ago.elapsed().expect("in the past").as_secs();
        assert!((24 * 3600..24 * 3600 + 60).contains(&elapsed), "{elapsed}");
    }

    #[test]
    fn every_command_line_is_well_formed() {
        use clap::CommandFactory as _;
        super::Cli::command().debug_assert();
    }

    /// `--version` names the librdkafka build and its features; `-V` only
    /// the version.
    #[test]
    fn the_long_version_names_the_librdkafka_build() {
        use clap::CommandFactory as _;
        let long = super::Cli::command().render_long_version();
        assert!(
            long.contains("librdkafka 2.") && long.contains("zstd"),
            "{long}"
        );
        let short = super::Cli::command().render_version();
        assert!(!short.contains("librdkafka"), "{short}");
    }
}
