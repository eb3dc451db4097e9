//! `wordwarden audit --brokers .. --audit-topic ..`: the trail itself, for
//! a data-protection review. Who read alerts and archived messages (the
//! access records `tail`, `report`, `explain --at`, `redrive`, `review`
//! and `audit` write) and who changed the word lists (the engine's reload records),
//! over a period, one line each, then the accesses counted by who made them
//! (reads, verdicts and redrives: every access record) and the
//! reloads by outcome. `--mentions ID` answers "who looked into this
//! person?": the reads whose arguments or place name that id.
//!
//! Reading the trail is a read like the others: it is recorded first, in
//! the same topic, and nothing is read when that fails.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use rdkafka::message::Message;
use serde_json::Value;

use super::alert_feed::at_offset;
use super::topic_reader::{millis, ReaderGroup, Start, TopicReader};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Kafka bootstrap servers.
    #[arg(long)]
    brokers: String,
    /// The records written from this time on: a while ago (`24h`, `30d`) or
    /// a time (`2026-12-01T08:00:00Z`; UTC without an offset). Default:
    /// the last 7 days.
    #[arg(long, conflicts_with = "from_beginning", value_parser = super::parse_since)]
    since: Option<SystemTime>,
    /// Every record the topic holds.
    #[arg(long)]
    from_beginning: bool,
    /// And before this time (default: up to now).
    #[arg(long, value_parser = super::parse_since)]
    until: Option<SystemTime>,
    /// Only records by this actor (repeatable): who read, or who reloaded.
    /// (`--actor` names who reads the trail now.)
    #[arg(long = "by")]
    by: Vec<String>,
    /// Only records of this command (repeatable): `tail`, `report`,
    /// `explain`, `redrive`, `review`, `audit`, or `reload` for the lists'
    /// reloads.
    #[arg(long)]
    command: Vec<String>,
    /// Only reads whose arguments or place name this id, exactly (a
    /// person's `userid`, a `roomid`, a people group, a message's place):
    /// who looked into whom.
    #[arg(long)]
    mentions: Vec<String>,
    /// Hours east of UTC that times are shown in (`8`: China Standard Time).
    #[arg(long, default_value_t = 0, allow_hyphen_values = true,
          value_parser = clap::value_parser!(i32).range(-12..=14))]
    utc_offset: i32,
    /// Print the matching records as they are, one JSON line each.
    #[arg(long)]
    json: bool,
    /// Give up when the topic yields nothing for this many seconds before
    /// its end is reached.
    #[arg(long, default_value_t = 30)]
    timeout_secs: u64,
    /// librdkafka property for TLS/SASL (repeatable): `-X security.protocol=ssl`.
    #[arg(short = 'X', value_parser = super::parse_prop)]
    props: Vec<(String, String)>,
    /// The audit topic (where the reads are recorded and the engine writes
    /// its reload records) and who is reading it.
    #[command(flatten)]
    access: super::access::AccessArgs,
}

/// One record of the trail, as far as the review needs it.
#[derive(Debug, Clone, PartialEq)]
enum Entry {
    /// Someone read alerts or messages.
    Read {
        time: f64,
        actor: String,
        principal: Option<String>,
        command: String,
        read: String,
        args: Vec<String>,
        /// The reader opened the alerts' sealed evidence.
        opened_evidence: bool,
    },
    /// The engine loaded, kept or refused a list set.
    Reload {
        time: f64,
        actor: String,
        trigger: String,
        result: String,
        previous_version: String,
        new_version: String,
        /// Terms added and removed, over every category.
        terms: (u64, u64),
        /// Ids added to and removed from people groups.
        people: (u64, u64),
        errors: Vec<String>,
    },
}

impl Entry {
    /// A record as the access records and the engine's reload records are
    /// written; `None` for anything else.
    fn parse(v: &Value) -> Option<Entry> {
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let time = v.get("time").and_then(Value::as_f64)?;
        if v.get("kind").and_then(Value::as_str) == Some("access") {
            return Some(Entry::Read {
                time,
                actor: text("actor")?,
                principal: text("principal"),
                command: text("command")?,
                read: text("read")?,
                args: strings(v.get("args")),
                opened_evidence: v.get("evidence").and_then(Value::as_str) == Some("opened"),
            });
        }
        let sum = |k: &str| {
            v.get(k).and_then(Value::as_object).map_or(0, |m| {
                (m.values().filter_map(Value::as_u64)).fold(0u64, u64::saturating_add)
            })
        };
        Some(Entry::Reload {
            time,
            actor: text("actor")?,
            trigger: text("trigger")?,
            result: text("result")?,
            previous_version: text("previous_version").unwrap_or_default(),
            new_version: text("new_version").unwrap_or_default(),
            terms: (sum("added"), sum("removed")),
            people: (sum("people_added"), sum("people_removed")),
            errors: strings(v.get("errors")),
        })
    }

    fn actor(&self) -> &str {
        match self {
            Entry::Read { actor, .. } | Entry::Reload { actor, .. } => actor,
        }
    }

    fn command(&self) -> &str {
        match self {
            Entry::Read { command, .. } => command,
            Entry::Reload { .. } => "reload",
        }
    }

    fn time(&self) -> f64 {
        match self {
            Entry::Read { time, .. } | Entry::Reload { time, .. } => *time,
        }
    }

    /// Whether a read names `id` as a whole argument (`--sender li`,
    /// `--participant=li`) or as its place (`chat/3/1042`). Reloads name
    /// no one.
    fn mentions(&self, id: &str) -> bool {
        let Entry::Read { read, args, .. } = self else {
            return false;
        };
        read == id
            || args
                .iter()
                .any(|a| a == id || a.split_once('=').is_some_and(|(_, v)| v == id))
    }

    /// One line of the trail.
    fn line(&self, utc_offset: i32) -> String {
        // a record's time is whatever its writer put there: never a panic
        let since_epoch = Duration::try_from_secs_f64(self.time()).unwrap_or_default();
        let when = at_offset(
            UNIX_EPOCH.checked_add(since_epoch).unwrap_or(UNIX_EPOCH),
            utc_offset,
        );
        match self {
            Entry::Read {
                actor,
                principal,
                command,
                read,
                args,
                opened_evidence,
                ..
            } => {
                let who = match principal {
                    Some(p) if p != actor => format!("{actor} (as {p})"),
                    _ => actor.clone(),
                };
                let opened = match opened_evidence {
                    true => "  (opened sealed evidence)",
                    false => "",
                };
                format!(
                    "{when}  {who}  {command} {read}  [{}]{opened}",
                    args.join(" ")
                )
            }
            Entry::Reload {
                actor,
                trigger,
                result,
                previous_version,
                new_version,
                terms,
                people,
                errors,
                ..
            } => {
                let mut line = format!(
                    "{when}  {actor}  reload ({trigger}) {result} {previous_version} -> {new_version}"
                );
                if terms != &(0, 0) {
                    line.push_str(&format!(": terms +{} -{}", terms.0, terms.1));
                }
                if people != &(0, 0) {
                    line.push_str(&format!(", people +{} -{}", people.0, people.1));
                }
                if let Some(first) = errors.first() {
                    line.push_str(&format!(": {} errors, first: {first}", errors.len()));
                }
                line
            }
        }
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// What the filters keep.
fn kept(entry: &Entry, args: &Args) -> bool {
    (args.by.is_empty() || args.by.iter().any(|a| a == entry.actor()))
        && (args.command.is_empty() || args.command.iter().any(|c| c == entry.command()))
        && (args.mentions.is_empty() || args.mentions.iter().any(|id| entry.mentions(id)))
}

/// The closing lines: accesses by who made them (and with which commands:
/// reads, verdicts and redrives alike), reloads
/// by outcome, records that are not the trail's.
#[derive(Debug, Default)]
struct Summary {
    accesses: BTreeMap<String, BTreeMap<String, usize>>,
    reloads: BTreeMap<String, usize>,
    unreadable: usize,
}

impl Summary {
    fn add(&mut self, entry: &Entry) {
        match entry {
            Entry::Read { actor, command, .. } => {
                *self
                    .accesses
                    .entry(actor.clone())
                    .or_default()
                    .entry(command.clone())
                    .or_default() += 1
            }
            Entry::Reload { result, .. } => *self.reloads.entry(result.clone()).or_default() += 1,
        }
    }

    fn render(&self) -> String {
        let count = |m: &BTreeMap<String, usize>| m.values().sum::<usize>();
        let accesses: usize = self.accesses.values().map(count).sum();
        let mut out = format!("accesses           {accesses}\n");
        for (actor, commands) in &self.accesses {
            let each: Vec<String> = commands.iter().map(|(c, n)| format!("{c} {n}")).collect();
            out.push_str(&format!(
                "  {actor:<16} {} ({})\n",
                count(commands),
                each.join(", ")
            ));
        }
        let each: Vec<String> = self
            .reloads
            .iter()
            .map(|(r, n)| format!("{r} {n}"))
            .collect();
        out.push_str(&format!("reloads            {}", count(&self.reloads)));
        if !each.is_empty() {
            out.push_str(&format!(" ({})", each.join(", ")));
        }
        out.push('\n');
        if self.unreadable > 0 {
            out.push_str(&format!(
                "not the trail's    {} records (not an access or reload record)\n",
                self.unreadable
            ));
        }
        out
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let topic = args
        .access
        .topic()
        .context("--audit-topic (or WORDWARDEN_AUDIT_TOPIC): the topic to read")?
        .to_string();
    let timeout = Duration::from_secs(args.timeout_secs);
    let start = Start::from_flags(
        args.since,
        args.from_beginning,
        Start::ago(Duration::from_secs(7 * 24 * 3600)),
    );
    (args.access).record(&args.brokers, &args.props, "audit", &topic)?;
    let reader = TopicReader::open(
        &args.brokers,
        &topic,
        start,
        true,
        &args.props,
        ReaderGroup::Throwaway("audit"),
        timeout,
    )?;
    let until_ms = args.until.map(millis);
    let mut entries = Vec::new();
    let mut summary = Summary::default();
    let mut out = std::io::stdout().lock();
    while let Some(m) = reader.next_to_end(timeout)? {
        if reader.outside(&m, until_ms) {
            continue;
        }
        let parsed = m
            .payload()
            .and_then(|p| serde_json::from_slice::<Value>(p).ok())
            .and_then(|v| Entry::parse(&v).map(|e| (v, e)));
        let Some((value, entry)) = parsed else {
            summary.unreadable += 1;
            continue;
        };
        if !kept(&entry, &args) {
            continue;
        }
        if args.json {
            serde_json::to_writer(&mut out, &value)?;
            writeln!(out)?;
        } else {
            entries.push(entry);
        }
    }
    if !args.json {
        // partitions are read side by side: the trail in time order
        entries.sort_by(|a, b| a.time().total_cmp(&b.time()));
        for e in &entries {
            writeln!(out, "{}", e.line(args.utc_offset))?;
            summary.add(e);
        }
        if !entries.is_empty() {
            writeln!(out)?;
        }
        write!(out, "{}", summary.render())?;
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> Args {
        let mut argv = vec!["audit", "--brokers", "b:9092", "--audit-topic", "t"];
        argv.extend(extra);
        super::super::parse_args(&argv).unwrap_or_else(|e| panic!("{e}"))
    }

    fn read(actor: &str, command: &str, read: &str, args: &[&str]) -> Value {
        serde_json::json!({"time": 1_764_576_000.5, "kind": "access", "actor": actor,
            "principal": "svc-analysts", "command": command, "read": read, "args": args})
    }

    #[test]
    fn access_and_reload_records_read_as_one_line_each() {
        let tail = Entry::parse(&read(
            "analyst-7",
            "tail",
            "wordwarden.alerts",
            &[
                "tail",
                "--sender",
                "li",
                "-X",
                "sasl.password=(not recorded)",
            ],
        ))
        .expect("an access record");
        assert_eq!(
            tail.line(8),
            "2025-12-01T16:00:00+08:00  analyst-7 (as svc-analysts)  tail wordwarden.alerts  \
             [tail --sender li -X sasl.password=(not recorded)]"
        );
        // a read that opened sealed evidence says so
        let mut opening = read("analyst-7", "tail", "wordwarden.alerts", &["tail"]);
        opening["evidence"] = "opened".into();
        assert_eq!(
            Entry::parse(&opening).expect("an access record").line(8),
            "2025-12-01T16:00:00+08:00  analyst-7 (as svc-analysts)  tail wordwarden.alerts  \
             [tail]  (opened sealed evidence)"
        );
        let reload = serde_json::json!({"time": 1_764_576_000.0, "trigger": "http",
            "actor": "ops", "previous_version": "aaaa", "new_version": "bbbb",
            "added": {"finance/insider": 12, "deals": 1}, "removed": {"deals": 3},
            "people_added": {"people/ibd": 2}, "result": "loaded"});
        let reload = Entry::parse(&reload).expect("a reload record");
        assert_eq!(
            reload.line(0),
            "2025-12-01T08:00:00Z  ops  reload (http) loaded aaaa -> bbbb: terms +13 -3, people +2 -0"
        );
        let rejected = serde_json::json!({"time": 1_764_576_000.0, "trigger": "file",
            "actor": "filesystem", "previous_version": "aaaa", "new_version": "cccc",
            "added": {}, "removed": {}, "result": "rejected",
            "errors": ["a.txt:3: bad regex", "b.txt:1: unknown detector"]});
        assert!(Entry::parse(&rejected)
            .expect("a reload record")
            .line(0)
            .ends_with("rejected aaaa -> cccc: 2 errors, first: a.txt:3: bad regex"));
        // counts no list holds add up without overflowing
        let huge = serde_json::json!({"time": 1.0, "trigger": "file", "actor": "x",
            "result": "loaded", "added": {"a": u64::MAX, "b": u64::MAX}});
        let line = Entry::parse(&huge).expect("a reload record").line(0);
        assert!(line.ends_with(&format!("terms +{} -0", u64::MAX)), "{line}");
        // a time no clock shows reads as the epoch, without a panic
        for time in [1e300, -5.0] {
            let odd = serde_json::json!({"time": time, "trigger": "file", "actor": "x",
                "result": "loaded"});
            let line = Entry::parse(&odd).expect("a reload record").line(0);
            assert!(
                line.starts_with("1970-01-01T00:00:00Z  x  reload"),
                "{line}"
            );
        }
        // an alert, or anything else, is not the trail's
        assert_eq!(Entry::parse(&serde_json::json!({"alert_id": "x"})), None);
        assert_eq!(
            Entry::parse(&serde_json::json!({"time": 1.0, "kind": "access"})),
            None
        );
    }

    #[test]
    fn filters_keep_an_actor_s_a_command_s_and_the_reads_naming_an_id() {
        let entry = |v: Value| Entry::parse(&v).expect("parses");
        let by_li = entry(read("a7", "tail", "alerts", &["tail", "--sender", "li"]));
        let by_eq = entry(read(
            "a8",
            "report",
            "alerts",
            &["report", "--participant=li"],
        ));
        let at = entry(read(
            "a7",
            "explain",
            "chat/3/1042",
            &["explain", "--at", "chat/3/1042"],
        ));
        let other = entry(read("a9", "tail", "alerts", &["tail", "--sender", "lily"]));
        let mentions = args(&["--mentions", "li"]);
        let kept_by = |a: &Args| {
            [&by_li, &by_eq, &at, &other]
                .iter()
                .map(|e| kept(e, a))
                .collect::<Vec<_>>()
        };
        assert_eq!(kept_by(&mentions), [true, true, false, false]);
        assert_eq!(
            kept_by(&args(&["--mentions", "chat/3/1042"])),
            [false, false, true, false]
        );
        assert_eq!(kept_by(&args(&["--by", "a7"])), [true, false, true, false]);
        assert_eq!(
            kept_by(&args(&["--command", "tail", "--command", "explain"])),
            [true, false, true, true]
        );
        assert_eq!(kept_by(&args(&[])), [true, true, true, true]);
    }

    #[test]
    fn the_summary_counts_accesses_by_who_made_them_and_reloads_by_outcome() {
        let mut summary = Summary::default();
        for v in [
            read("a7", "tail", "alerts", &[]),
            read("a7", "tail", "alerts", &[]),
            read("a7", "explain", "chat/0/1", &[]),
            read("a8", "report", "alerts", &[]),
            read("a8", "review", "wordwarden.reviews", &[]),
        ] {
            summary.add(&Entry::parse(&v).expect("parses"));
        }
        summary.unreadable = 1;
        let reload = serde_json::json!({"time": 1.0, "trigger": "http", "actor": "ops",
            "result": "loaded"});
        summary.add(&Entry::parse(&reload).expect("parses"));
        assert_eq!(
            summary.render(),
            "accesses           5\n  a7               3 (explain 1, tail 2)\n  \
             a8               2 (report 1, review 1)\nreloads            1 (loaded 1)\n\
             not the trail's    1 records (not an access or reload record)\n"
        );
    }
}
