//! `wordwarden explain --wordlists DIR "text"`: the folding steps, the offset
//! map, every candidate hit and why it was kept or dropped. `--record FILE`
//! explains one message of the input format instead (every text field, the
//! audience its ids give), and `--at TOPIC/PARTITION/OFFSET` the message at
//! that place on the brokers: what `tail` shows under an alert, or a message
//! that was expected to alert and did not. A `--record` file of several
//! records (one a line) explains the last as sent after the others: what
//! crosses into it from its sender's short messages before it (an alert's
//! `split_from`), and what its sender's earlier values add to a list's bulk
//! threshold over time (an alert's `earlier_messages`); `--at` reads the
//! partition's messages before it back for that, as the engine's recall
//! does.

use std::borrow::Cow;
use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::Map;
use wordwarden::audience::Audience;
use wordwarden::detect::{
    assess, near_misses, rejected_runs, Assessment, Confidence, NAMING_WORD_CHARS,
};
use wordwarden::encoding::Charset;
use wordwarden::envelope::{decode, to_utf8, Participation};
use wordwarden::fold::{
    digits_between_as_spaces, fold, light_fold, percent_decoded, symbols_as_letters,
};
use wordwarden::judge::{Judge, SPLIT_FIELD};
use wordwarden::lists::Bulk;
use wordwarden::people::Conversation;
use wordwarden::ruleset::{Candidate, Ruleset, Verdict};
use wordwarden::split::SplitOptions;

use super::{load_ruleset, FormatArgs};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The word-list directory.
    #[arg(long)]
    wordlists: PathBuf,
    /// The conversation the text was written in, for lists with `#!
    /// audience: external`: internal (colleagues only), external (someone
    /// outside the company) or unknown (every list watches it). Default:
    /// what a record's ids say, unknown for a text.
    #[arg(long)]
    audience: Option<Audience>,
    /// The id of the text's sender, for lists with `#! people:` (a record's
    /// own ids are read from it).
    #[arg(long, conflicts_with_all = ["record", "at"])]
    sender: Option<String>,
    /// The id of a recipient of the text (repeatable), for lists with `#!
    /// people:`.
    #[arg(long = "recipient", conflicts_with_all = ["record", "at"])]
    recipients: Vec<String>,
    /// When the text was written, for lists with `#! from:` or `#! until:`
    /// (`2026-12-01T08:00:00Z`, `2026-12-01T16:00:00+08:00`, `2026-12-01`);
    /// a record's own time is read from it.
    #[arg(long, conflicts_with_all = ["record", "at"], value_parser = wordwarden::lists::parse_time)]
    written: Option<jiff::Timestamp>,
    #[command(flatten)]
    format: FormatArgs,
    /// Explain one message of --input-format read from this file (`-`:
    /// stdin), byte for byte, instead of a text. Several `json` or `wecom`
    /// records, one a line: the last, sent after the others (terms split
    /// across messages).
    #[arg(long, conflicts_with_all = ["text", "at"])]
    record: Option<PathBuf>,
    /// Explain the message at this place on the brokers,
    /// `TOPIC/PARTITION/OFFSET` (as `tail` shows it), read as --input-format.
    #[arg(long, requires = "brokers", conflicts_with = "text")]
    at: Option<String>,
    /// With --at, of input naming its senders: the partition's messages
    /// before it read back, at most this many, as far back as runs of
    /// split messages and lists counting over time (`#! bulk: … within`)
    /// reach, as the engine's recall reads them for a consumer given the
    /// partition; 0: the message alone.
    #[arg(long, default_value_t = 10_000, requires = "at")]
    earlier: i64,
    /// Kafka bootstrap servers, for --at.
    #[arg(long)]
    brokers: Option<String>,
    /// librdkafka property for TLS/SASL (repeatable): `-X security.protocol=ssl`.
    #[arg(short = 'X', value_parser = super::parse_prop)]
    props: Vec<(String, String)>,
    #[command(flatten)]
    access: super::access::AccessArgs,
    /// The text to explain.
    #[arg(required_unless_present_any = ["record", "at"])]
    text: Option<String>,
}

/// `TOPIC/PARTITION/OFFSET`, as `tail` shows a message's place.
fn place(at: &str) -> anyhow::Result<(&str, i32, i64)> {
    let bad = || anyhow::anyhow!("--at {at:?}: expected TOPIC/PARTITION/OFFSET");
    let (rest, offset) = at.rsplit_once('/').ok_or_else(bad)?;
    let (topic, partition) = rest.rsplit_once('/').ok_or_else(bad)?;
    if topic.is_empty() {
        return Err(bad());
    }
    Ok((
        topic,
        partition.parse().map_err(|_| bad())?,
        offset.parse().map_err(|_| bad())?,
    ))
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let rs = load_ruleset(&args.wordlists)?;
    // a record read from the brokers has the time it was produced at, as
    // the engine reads it: the message's time where its record has none
    let mut earlier = Vec::new();
    let (bytes, produced_ms) = match (&args.record, &args.at, &args.brokers) {
        (Some(p), _, _) => {
            let mut b = Vec::new();
            super::open_input(Some(p))?.read_to_end(&mut b)?;
            (b, None)
        }
        (None, Some(at), Some(brokers)) => {
            let (topic, partition, offset) = place(at)?;
            args.access.record(brokers, &args.props, "explain", at)?;
            let (payload, at_ms) = super::topic_reader::read_one(
                brokers,
                &args.props,
                topic,
                partition,
                offset,
                Duration::from_secs(10),
            )?;
            let format = args.format.format()?;
            let judge = Judge::new(format.clone())
                .input_encoding(args.format.charset()?)
                .split_messages(Some(SplitOptions::default()));
            let reach = judge.memory().reach_ms(&rs);
            if format.names_people() && reach > 0 && args.earlier > 0 {
                let written = judge.written_ms(payload.as_deref().unwrap_or_default(), at_ms);
                let since =
                    at_ms.map(|at| wordwarden::engine::recall::since_ms(at, written, reach));
                let (read, end) = super::topic_reader::read_before(
                    brokers,
                    &args.props,
                    topic,
                    partition,
                    offset,
                    since,
                    args.earlier,
                    Duration::from_secs(30),
                )?;
                println!(
                    "earlier messages   {} of {topic}/{partition} before it read back ({}{})",
                    read.len(),
                    match since {
                        Some(ms) => format!(
                            "published since {}, as far as the lists reach",
                            super::alert_feed::at_offset(
                                std::time::UNIX_EPOCH
                                    + Duration::from_millis(u64::try_from(ms).unwrap_or(0)),
                                0
                            )
                        ),
                        None => "it has no timestamp: the last ones".into(),
                    },
                    match (end.complete, end.capped) {
                        (false, _) => "; only part: out of time",
                        (true, true) => "; only part: --earlier held it back",
                        (true, false) => "",
                    }
                );
                earlier = read
                    .into_iter()
                    .map(|(bytes, produced_ms, offset)| Before {
                        bytes,
                        produced_ms,
                        identity: format!("{topic}/{partition}/{offset}"),
                    })
                    .collect();
            }
            (payload.unwrap_or_default(), at_ms)
        }
        _ => {
            let text = args.text.as_deref().unwrap_or_default();
            let people = Participation {
                audience: args.audience.unwrap_or_else(|| {
                    Audience::of_ids(
                        args.sender
                            .iter()
                            .chain(&args.recipients)
                            .map(String::as_str),
                    )
                }),
                from: args.sender,
                tolist: args.recipients,
                room: None,
                written_ms: None,
            };
            if !people.audience.is_unknown() {
                println!("message            audience {}", people.audience.name());
            }
            let written_ms = args.written.map(|t| t.as_millisecond());
            let conversation = people.conversation(&rs).written_at(written_ms);
            print_people(&rs, &conversation);
            explain(&rs, &[("", text)], conversation);
            return Ok(ExitCode::SUCCESS);
        }
    };
    let format = args.format.format()?;
    let charset = args.format.charset()?;
    let bytes = lines_to_utf8(bytes, charset);
    // a record read whole: a line's end is not part of it; records of a
    // line each (not text, where lines are one message) are messages in
    // order, the last explained
    let mut records: Vec<&[u8]> = bytes
        .split(|&b| b == b'\n')
        .filter(|r| !r.iter().all(u8::is_ascii_whitespace))
        .collect();
    let one_a_line = args.record.is_some()
        && !matches!(format, wordwarden::envelope::InputFormat::Text)
        && records
            .iter()
            .all(|r| serde_json::from_slice::<serde::de::IgnoredAny>(format.document(r)).is_ok());
    if !one_a_line {
        // one record, as it came (a record printed over lines too)
        records = vec![&bytes[..]];
    }
    let record = match records.pop() {
        Some(r) => r.strip_suffix(b"\n").unwrap_or(r),
        None => &bytes[..],
    };
    let identity = match &args.at {
        Some(at) => at.clone(),
        None => format!("record:{}", records.len() + 1),
    };
    earlier.extend(records.iter().enumerate().map(|(i, r)| Before {
        bytes: r.strip_suffix(b"\r").unwrap_or(r).to_vec(),
        produced_ms: None,
        identity: format!("record:{}", i + 1),
    }));
    let record = record.strip_suffix(b"\r").unwrap_or(record);
    let msg = match decode(record, &format) {
        Ok(msg) => msg,
        Err(e) => {
            println!(
                "not judged: the engine dead-letters it with reason {} ({e})",
                e.reason()
            );
            return Ok(ExitCode::FAILURE);
        }
    };
    let mut people = format.participation(record, &msg.source);
    let told = match args.audience {
        Some(a) => {
            people.audience = a;
            "as asked"
        }
        None => match format.participants() {
            Some(_) => "from its sender and recipients",
            None => "from its ids",
        },
    };
    let audience = people.audience;
    let written_ms = (msg.source.msgtime()).or(people.written_ms).or(produced_ms);
    let conversation = people.conversation(&rs).written_at(written_ms);
    println!(
        "message            {} text field(s), audience {} ({told})",
        msg.fields.len(),
        audience.name()
    );
    print_people(&rs, &conversation);
    for problem in &msg.problems {
        println!(
            "unreadable         {}: {} (dead-lettered as unreadable_field, the rest scanned)",
            problem.pointer, problem.reason
        );
    }
    if msg.fields.is_empty() {
        println!(
            "nothing to scan: a message of type {}",
            msg.msgtype.as_deref().unwrap_or("?")
        );
        match (&msg.withdraws, earlier.is_empty()) {
            (Some(id), true) => println!(
                "withdrawal: its sender withdraws message {id}; the record alerts where that \
                 message alerted (explain it after the records before it: a --record file of \
                 several, or --at)"
            ),
            (Some(_), false) => explain_after(
                &rs,
                &format,
                charset,
                &earlier,
                (record, produced_ms, identity),
            ),
            (None, _) => {}
        }
        return Ok(ExitCode::SUCCESS);
    }
    let fields: Vec<(&str, &str)> = msg
        .fields
        .iter()
        .map(|f| (f.pointer.as_deref().unwrap_or(""), f.text.as_ref()))
        .collect();
    explain(&rs, &fields, conversation);
    if !earlier.is_empty() {
        explain_after(
            &rs,
            &format,
            charset,
            &earlier,
            (record, produced_ms, identity),
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `bytes` with each line that is not UTF-8 read in `charset`, as the
/// engine reads each message (one a line, or one over several lines); a
/// line that reads in neither stays as it is, for `decode` to say why.
fn lines_to_utf8(bytes: Vec<u8>, charset: Option<Charset>) -> Vec<u8> {
    if charset.is_none() || std::str::from_utf8(&bytes).is_ok() {
        return bytes;
    }
    let mut read = Vec::with_capacity(bytes.len() * 3 / 2);
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            read.push(b'\n');
        }
        read.extend_from_slice(&to_utf8(line, charset).unwrap_or(Cow::Borrowed(line)));
    }
    read
}

/// A message before the one explained.
struct Before {
    bytes: Vec<u8>,
    /// When the brokers have it published.
    produced_ms: Option<i64>,
    /// What names it where it has no id (`record:N`, `TOPIC/PARTITION/OFFSET`).
    identity: String,
}

/// The last record judged after `earlier`, in order, as the engine does:
/// the terms that cross into it from its sender's short messages before it,
/// and the bulk thresholds its sender's earlier values reach with its own.
fn explain_after(
    rs: &Ruleset,
    format: &wordwarden::envelope::InputFormat,
    charset: Option<Charset>,
    earlier: &[Before],
    (last, last_produced_ms, last_identity): (&[u8], Option<i64>, String),
) {
    let options = SplitOptions::default();
    let judge = Judge::new(format.clone())
        .input_encoding(charset)
        .split_messages(Some(options));
    if !format.names_people() {
        println!("earlier records: this input names no sender, so none is remembered");
        return;
    }
    let mut memory = judge.memory();
    let mut scanner = rs.scanner();
    let n = earlier.len();
    for b in earlier {
        let (bytes, at) = (&b.bytes, &b.identity);
        judge.judge_next(
            rs,
            &mut scanner,
            &mut memory,
            bytes,
            Map::new(),
            at,
            b.produced_ms,
        );
    }
    let j = judge.judge_next(
        rs,
        &mut scanner,
        &mut memory,
        last,
        Map::new(),
        last_identity,
        last_produced_ms,
    );
    if j.withdrawal {
        match j
            .alert
            .as_ref()
            .and_then(|a| a.withdrawn.as_ref().map(|w| (a, w)))
        {
            Some((a, w)) => println!(
                "withdrawal: {} withdraws message {}, which alerted ({}, alert {}): \
                 this record alerts at {} with its hits",
                a.withdrawn_by().unwrap_or_default(),
                w.msgid,
                a.hits
                    .iter()
                    .map(|h| h.term.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                w.alert_id,
                a.severity
            ),
            None => println!(
                "withdrawal: its sender withdraws a message that did not alert among the \
                 {n} earlier record(s): no alert"
            ),
        }
        return;
    }
    for (category, tallied) in j.tallies.iter().filter(|(_, t)| !t.earlier.is_empty()) {
        let Some(bulk) = rs.stats().bulk.get(category).copied() else {
            continue;
        };
        let how = match tallied.values >= bulk.at_least {
            true => format!("{} or more: its hits are {}", bulk.at_least, bulk.severity),
            false => format!(
                "fewer than {}: its hits keep their list's severity",
                bulk.at_least
            ),
        };
        let r#where = match bulk.across_conversations {
            true => "in any conversation",
            false => "in this conversation",
        };
        println!(
            "bulk over time: {} distinct values of {category} with the sender's earlier messages \
             {where} ({}), {how}",
            tallied.values,
            tallied.earlier.join(", ")
        );
    }
    let split: Vec<_> = j
        .alert
        .iter()
        .flat_map(|a| a.hits.iter().map(move |h| (a, h)))
        .filter(|(_, h)| h.field.as_deref() == Some(SPLIT_FIELD))
        .collect();
    if split.is_empty() {
        let why = match j.fragment {
            true => "none crosses into it",
            false => "it is no short message",
        };
        println!(
            "split across messages: after {n} earlier message(s), {why} (a run: one sender's messages \
             in one conversation of at most {} letters or characters, each within {} s of the \
             one before)",
            options.fragment_chars,
            options.gap_ms / 1000
        );
        return;
    }
    for (alert, h) in split {
        println!(
            "split across messages: {} «{}» crosses into this message from {}: reported on it, \
             evasions: {}",
            h.term,
            h.matched,
            alert.split_from.join(", "),
            wordwarden::evasion::names(&h.evasions)
        );
    }
}

/// When the message was written, where that is known; where the lists have
/// people groups, the groups of the message's people.
fn print_people(rs: &Ruleset, conversation: &Conversation) {
    let written = conversation
        .written_ms
        .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok());
    if let Some(t) = written {
        println!("written            {t}");
    }
    if rs.has_people_groups() && !conversation.audience.is_unknown() {
        let (sender, recipients) = rs.groups_of(conversation);
        let names = |names: Vec<&str>| match names.is_empty() {
            true => "no group".to_string(),
            false => names.join(", "),
        };
        println!(
            "people             sender in {}; recipients in {}",
            names(sender),
            names(recipients)
        );
    }
}

fn verdict(c: &Candidate) -> String {
    match &c.verdict {
        Verdict::Kept => "KEPT   ".to_string(),
        Verdict::Repeat => "repeat  (counted in the kept hit)".to_string(),
        Verdict::NoWordBoundary => {
            "dropped: an end touches a letter or digit (word boundary)".to_string()
        }
        Verdict::RunTooShort => {
            "dropped: the term repeats a character more often than the text".to_string()
        }
        Verdict::DigitsAsLetters => {
            "dropped: digits read as letters need at least two letters, and as many as digits"
                .to_string()
        }
        Verdict::AllowPhrase(a) => format!("dropped: inside allow phrase {a}"),
        Verdict::CombinationPart => "part    (of a combination rule)".to_string(),
        Verdict::CombinationUnsatisfied => {
            "dropped: combination not satisfied (a `&` part missing or a `~` part present)"
                .to_string()
        }
        Verdict::PartsTooFarApart(n) => {
            format!("dropped: every `&` part is there, but never all within {n} characters")
        }
        Verdict::AllowOccurrence => "allow   (occurrence of an allow phrase)".to_string(),
        Verdict::Truncated => "dropped: over the per-message hit limit".to_string(),
        Verdict::OtherAudience(a) => format!(
            "dropped: the list watches conversations with someone outside the company, this one is {}",
            a.name()
        ),
        Verdict::OtherPeople(scope) => format!(
            "dropped: the list watches the messages of `#! people: {scope}`, not these people's"
        ),
        Verdict::OtherTime(window) => format!(
            "dropped: the list watches messages written {window}, not when this one was"
        ),
    }
}

/// The folding of each field (`(pointer, text)`), then the candidates of all
/// of them scanned as one message, then its hits.
fn explain(rs: &Ruleset, fields: &[(&str, &str)], conversation: Conversation) {
    for (pointer, text) in fields {
        if fields.len() > 1 || !pointer.is_empty() {
            println!("\nfield {pointer}");
        }
        explain_folding(text);
    }
    let texts: Vec<&str> = fields.iter().map(|(_, t)| *t).collect();
    let (findings, candidates) = rs.scanner().explain_for(&texts, conversation);
    let at = |field: usize| match fields.get(field) {
        Some((p, _)) if fields.len() > 1 => format!("{p} "),
        _ => String::new(),
    };
    println!("\ncandidates:");
    if candidates.is_empty() {
        println!("  none: no term, regex or detector matched anywhere");
    }
    for c in &candidates {
        let text = texts.get(c.field).copied().unwrap_or_default();
        println!(
            "  {}{:>3}..{:<3} {:?}  {}\n            {}",
            at(c.field),
            c.start,
            c.end,
            text.get(c.start..c.end).unwrap_or_default(),
            c.what,
            verdict(c)
        );
    }
    for (field, text) in texts.iter().enumerate() {
        for (start, end, why) in rejected_runs(text) {
            println!(
                "  {}{start:>3}..{end:<3} {:?}  digit run\n            dropped: {why}",
                at(field),
                &text[start..end]
            );
        }
        for (start, end, detector, why) in near_misses(text) {
            println!(
                "  {}{start:>3}..{end:<3} {:?}  @{detector}\n            dropped: {why}",
                at(field),
                &text[start..end]
            );
        }
    }
    println!("\n{} hit(s), ruleset {}", findings.hits.len(), rs.version());
    for h in &findings.hits {
        let text = texts.get(h.field).copied().unwrap_or_default();
        let evasions = h.evasions(text);
        let how = match evasions.is_empty() {
            true => "written as the rule is".to_string(),
            false => format!("evasions: {}", wordwarden::evasion::names(&evasions)),
        };
        println!(
            "  {}{} {:?}  {how}",
            at(h.field),
            h.term(),
            text.get(h.start..h.end).unwrap_or_default()
        );
        if let (Some(a), Some(detector)) = (h.assess(&texts), h.rule().detector()) {
            // (the highest of the rule's places: say where it is not the first)
            let first = assess(detector, text, h.start..h.end);
            let place = match first == a {
                true => "",
                false => " of another of its places",
            };
            println!("      confidence: {}", confidence_why(a, place));
        }
    }
    for b in &findings.bulk {
        let Bulk {
            at_least, severity, ..
        } = b.bulk;
        let (values, category, directive) = (b.values, b.category, b.bulk);
        if b.reached() {
            println!(
                "bulk: {values} distinct values of {category}, {at_least} or more \
                 (`#! bulk: {directive}`): its hits are {severity}"
            );
        } else {
            println!(
                "bulk: {values} distinct value(s) of {category}, fewer than {at_least} \
                 (`#! bulk: {directive}`): its hits keep their list's severity"
            );
        }
        if b.bulk.within_secs.is_some() {
            let r#where = match b.bulk.across_conversations {
                true => "in every conversation",
                false => "in the same conversation",
            };
            println!(
                "      the sender's earlier values {where} count too: give --record their \
                 messages, one a line, this one last (or --at its place)"
            );
        }
    }
}

/// A detector's hit's confidence and what it rests on.
fn confidence_why(a: Assessment, place: &str) -> String {
    match (a.confidence, a.word) {
        (c, Some(word)) => {
            format!("{c} ({word:?} within {NAMING_WORD_CHARS} characters{place})")
        }
        (Confidence::Medium, None) => format!(
            "medium (no word naming it within {NAMING_WORD_CHARS} characters: \
             it may be another number that passes the check)"
        ),
        (Confidence::High, None) => "high (what the detector requires)".to_string(),
    }
}

/// What folding makes of one text, and where each folded character came from.
fn explain_folding(text: &str) {
    let folded = fold(text);
    println!("original           {text:?} ({} bytes)", text.len());
    println!(
        "width/case folded  {:?}   (what regexes and detectors see)",
        light_fold(text).text()
    );
    println!(
        "fully folded       {:?}   (what terms match; noise removed)",
        folded.as_string()
    );
    if let Some(read) = symbols_as_letters(text) {
        println!("symbols as letters {read:?}   (terms also match this reading)");
    }
    if let Some(read) = percent_decoded(text) {
        println!("link decoded       {read:?}   (every list also matches this reading)");
    }
    if let Some(read) = digits_between_as_spaces(text) {
        println!(
            "digits as filler   {read:?}   (terms also match this reading across the digits, \
             3+ Chinese characters)"
        );
    }
    println!("\noffset map (folded character <- original bytes):");
    for c in folded.chars() {
        let orig = &text[c.range()];
        let noise = if c.after_noise { "  (after noise)" } else { "" };
        println!(
            "  {:<3} <- {:>3}..{:<3} {orig:?}{noise}",
            c.ch, c.start, c.end
        );
    }
}
