//! `wordwarden scan --wordlists DIR [--input-format text|json|wecom] [FILE|-]`

use std::collections::BTreeMap;
use std::io::{BufRead, BufWriter, Write};
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{mpsc, Arc, Mutex};

use serde_json::{Map, Value};
use wordwarden::alert::seal::EvidenceSealer;
use wordwarden::alert::AlertBuilder;
use wordwarden::judge::{Judge, StreamMemory};
use wordwarden::split::SplitOptions;

use super::{load_ruleset, FormatArgs};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The word-list directory.
    #[arg(long)]
    wordlists: PathBuf,
    #[command(flatten)]
    format: FormatArgs,
    /// Characters of context around each hit in the snippet.
    #[arg(long, default_value_t = 10)]
    context: usize,
    /// Quote personal data (phone, ID card and bank card numbers, e-mail
    /// addresses) as written instead of masked (`138****5678`); the secrets
    /// of credentials stay masked.
    #[arg(long)]
    no_mask: bool,
    /// Messages larger than this many bytes are rejected.
    #[arg(long, default_value_t = 1 << 20)]
    max_message_bytes: usize,
    /// Only alerts with a hit written to get past a filter (its `evasions`):
    /// the messages of an archive where someone worked around the lists.
    #[arg(long)]
    evasive: bool,
    /// Only alerts on messages holding a list's values in bulk (a list's
    /// `#! bulk:` threshold reached: the rosters of an archive).
    #[arg(long)]
    bulk: bool,
    /// Only alerts at least this sure: `high` leaves out the alerts whose
    /// every hit is a number with no word naming it near (a card's, a
    /// mobile's, a landline's, a Taiwan or Hong Kong identity card's
    /// number alone; the hits' `confidence`), unless a bulk threshold was
    /// reached.
    #[arg(long, default_value = "medium")]
    min_confidence: wordwarden::detect::Confidence,
    /// No looking for terms a sender split across short messages (`内`,
    /// `幕`, `消息`), which the lines are otherwise read for in order, as
    /// the engine does (lists with `#! bulk: … within` still count a
    /// sender's values over time).
    #[arg(long)]
    no_split: bool,
    /// Threads judging lines at once (0: one per core); the output keeps
    /// the input's order.
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Seal each alert's quotes of its message (`matched`, `snippet`) to
    /// this age public key (`age1…`; repeatable), as the engine does with
    /// `evidence_recipients`: `tail --evidence-identity` opens them.
    #[arg(long = "evidence-recipient", value_name = "AGE_PUBLIC_KEY")]
    evidence_recipients: Vec<String>,
    /// Input file, one message per line; `-` or nothing for stdin.
    input: Option<PathBuf>,
}

/// Lines one thread judges at a time: at most this many, and no more once
/// they hold [`BATCH_BYTES`].
const BATCH_LINES: usize = 512;
const BATCH_BYTES: usize = 2 << 20;
/// Batches read and not yet written, per thread: the writer waits for the
/// oldest, so memory follows this bound and not the file (or one slow
/// batch).
const BATCHES_PER_THREAD: usize = 4;

/// Numbered lines, read together.
type Batch = Vec<(usize, Vec<u8>)>;

/// What became of one line, as the output writes it.
#[derive(Default)]
struct Outcome {
    /// Lines for stderr: why it was rejected, or which parts could not be read.
    errors: Vec<String>,
    rejected: bool,
    textless: Option<String>,
    /// The alert as one JSON line.
    alert: Option<Vec<u8>>,
    /// A message judged again in order with what the stream remembers of
    /// its sender (a short message, for terms split across messages; one
    /// holding values of a list with a timed `#! bulk:` threshold; a
    /// record withdrawing a message): its line number and bytes.
    again: Option<(usize, Vec<u8>)>,
    /// Its alert, for the stream's memory to remember in order (should a
    /// later record withdraw the message).
    alerted: Option<wordwarden::withdrawn::Alerted>,
}

/// Reading, judging and writing overlap: one thread reads batches of lines,
/// `threads` threads judge them, each with its own scanner, and this thread
/// writes the outcomes in input order as they come back.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let ruleset = load_ruleset(&args.wordlists)?;
    let judge = Judge::new(args.format.format()?)
        .alerts(
            AlertBuilder::new()
                .context_chars(args.context)
                .mask_personal_data(!args.no_mask),
        )
        .max_message_bytes(args.max_message_bytes)
        .input_encoding(args.format.charset()?)
        .split_messages((!args.no_split).then(SplitOptions::default))
        .seal_evidence(match args.evidence_recipients.is_empty() {
            true => None,
            false => Some(Arc::new(EvidenceSealer::new(
                args.evidence_recipients.iter().map(String::as_str),
            )?)),
        });
    let reader = super::open_input(args.input.as_deref())?;
    let threads = match args.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let text_input = matches!(judge.format(), wordwarden::envelope::InputFormat::Text);
    let (batches_tx, batches_rx) = mpsc::sync_channel::<(u64, Batch)>(threads);
    let batches_rx = Mutex::new(batches_rx);
    let (judged_tx, judged_rx) = mpsc::channel::<(u64, Option<Vec<Outcome>>)>();
    // a batch may be read once an earlier one is written
    let in_flight = threads * BATCHES_PER_THREAD;
    let (written_tx, written_rx) = mpsc::sync_channel::<()>(in_flight);
    for _ in 0..in_flight {
        let _ = written_tx.send(());
    }
    let keep = Keep {
        evasive: args.evasive,
        bulk: args.bulk,
        min_confidence: args.min_confidence,
    };
    let (ruleset, judge, keep) = (&ruleset, &judge, &keep);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let (batches_rx, judged_tx) = (&batches_rx, judged_tx.clone());
            scope.spawn(move || {
                let mut scanner = ruleset.scanner();
                loop {
                    let next = batches_rx.lock().map(|rx| rx.recv());
                    let Ok(Ok((seq, batch))) = next else {
                        return;
                    };
                    // a panic judging is reported by the writer, which then
                    // stops the others, instead of leaving a gap it would wait on
                    let outcomes = std::panic::catch_unwind(AssertUnwindSafe(|| {
                        judge_lines(ruleset, judge, &mut scanner, &batch, keep)
                    }));
                    if judged_tx.send((seq, outcomes.ok())).is_err() {
                        return;
                    }
                }
            });
        }
        drop(judged_tx);
        let reading =
            scope.spawn(move || read_batches(reader, text_input, &batches_tx, &written_rx));
        // runs of short messages, timed bulk tallies and alerting messages
        // (for withdrawals) are followed here, in input order; the few messages
        // they concern are judged again with them (cheap: short, or rare)
        let mut in_order = InOrder {
            ruleset,
            judge,
            keep,
            scanner: ruleset.scanner(),
            memory: judge.format().names_people().then(|| judge.memory()),
        };
        let written = write_in_order(&judged_rx, written_tx, &mut in_order);
        // the reader stops once the writer has gone (no more room)
        let read = reading
            .join()
            .map_err(|_| anyhow::anyhow!("the reading thread failed"))?;
        let (rejected, textless) = written?;
        read?;
        if !textless.is_empty() {
            let parts: Vec<String> = textless.iter().map(|(k, v)| format!("{k}={v}")).collect();
            eprintln!("records without text: {}", parts.join(" "));
        }
        Ok(if rejected > 0 {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        })
    })
}

/// Reads numbered lines in batches and sends each once there is room. A
/// batch goes as soon as the input holds no more lines already there, so a
/// stream (`tail -f chat.jsonl | wordwarden scan`) is judged as it comes.
fn read_batches(
    mut reader: super::Input,
    text_input: bool,
    batches: &mpsc::SyncSender<(u64, Batch)>,
    room: &mpsc::Receiver<()>,
) -> std::io::Result<()> {
    let mut number = 0usize;
    for seq in 0u64.. {
        let mut batch = Vec::with_capacity(BATCH_LINES);
        let mut held = 0usize;
        while batch.len() < BATCH_LINES && held < BATCH_BYTES {
            if !batch.is_empty() && reader.buffer().is_empty() {
                break;
            }
            let mut line = Vec::new();
            if reader.read_until(b'\n', &mut line)? == 0 {
                break;
            }
            number += 1;
            if line.ends_with(b"\n") {
                line.pop();
                if line.ends_with(b"\r") {
                    line.pop();
                }
            }
            if line.is_empty() && !text_input {
                continue;
            }
            held += line.len();
            batch.push((number, line));
        }
        if batch.is_empty() || room.recv().is_err() || batches.send((seq, batch)).is_err() {
            break;
        }
    }
    Ok(())
}

/// Writes the judged batches in input order; counts the rejected lines and
/// the records without text by type.
fn write_in_order(
    judged: &mpsc::Receiver<(u64, Option<Vec<Outcome>>)>,
    room: mpsc::SyncSender<()>,
    in_order: &mut InOrder<'_>,
) -> anyhow::Result<(usize, BTreeMap<String, usize>)> {
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut rejected = 0usize;
    let mut textless: BTreeMap<String, usize> = BTreeMap::new();
    let mut waiting: BTreeMap<u64, Vec<Outcome>> = BTreeMap::new();
    let mut next = 0u64;
    loop {
        // written out whenever nothing more is judged yet: a stream's alerts
        // are seen as they come, not once a buffer fills
        let (seq, outcomes) = match judged.try_recv() {
            Ok(judged) => judged,
            Err(mpsc::TryRecvError::Empty) => {
                out.flush()?;
                match judged.recv() {
                    Ok(judged) => judged,
                    Err(_) => break,
                }
            }
            Err(mpsc::TryRecvError::Disconnected) => break,
        };
        let outcomes = outcomes.ok_or_else(|| anyhow::anyhow!("a scanning thread failed"))?;
        waiting.insert(seq, outcomes);
        while let Some(outcomes) = waiting.remove(&next) {
            for mut o in outcomes {
                in_order.follow(&mut o);
                for e in &o.errors {
                    eprintln!("{e}");
                }
                rejected += usize::from(o.rejected);
                if let Some(t) = o.textless {
                    *textless.entry(t).or_default() += 1;
                }
                if let Some(alert) = o.alert {
                    out.write_all(&alert)?;
                    out.write_all(b"\n")?;
                }
            }
            next += 1;
            let _ = room.send(());
        }
    }
    out.flush()?;
    Ok((rejected, textless))
}

/// What the writer judges in input order: short messages again, with the
/// runs they make ([`wordwarden::split`]), messages holding values of
/// timed bulk lists, with their senders' tallies ([`wordwarden::tally`]),
/// and alerting messages and records withdrawing messages, with the alerts
/// remembered ([`wordwarden::withdrawn`]).
struct InOrder<'a> {
    ruleset: &'a wordwarden::ruleset::Ruleset,
    judge: &'a Judge,
    keep: &'a Keep,
    scanner: wordwarden::ruleset::Scanner<'a>,
    memory: Option<StreamMemory>,
}

impl InOrder<'_> {
    /// Remembers a message's alert, or judges the message again with what
    /// is remembered of its sender: its alert then holds any term split
    /// across messages, any bulk threshold reached over time and the alert
    /// of a message it withdraws, as the engine's would.
    fn follow(&mut self, o: &mut Outcome) {
        let Some(memory) = self.memory.as_mut() else {
            return;
        };
        if let Some(alerted) = o.alerted.take() {
            memory.remember(alerted);
        }
        let Some((number, bytes)) = o.again.take() else {
            return;
        };
        let j = self.judge.judge_next(
            self.ruleset,
            &mut self.scanner,
            memory,
            &bytes,
            line_source(number),
            format_args!("line:{number}"),
            None,
        );
        o.alert = alert_line(j.alert, self.keep);
    }
}

fn line_source(number: usize) -> Map<String, Value> {
    let mut source = Map::new();
    source.insert("line".into(), Value::from(number));
    source
}

fn alert_line(alert: Option<wordwarden::alert::Alert>, keep: &Keep) -> Option<Vec<u8>> {
    alert
        .filter(|a| keep.admits(a))
        .and_then(|a| serde_json::to_vec(&a).ok())
}

/// Which alerts are written (`--evasive`, `--bulk`, `--min-confidence`).
struct Keep {
    evasive: bool,
    bulk: bool,
    min_confidence: wordwarden::detect::Confidence,
}

impl Keep {
    fn admits(&self, a: &wordwarden::alert::Alert) -> bool {
        (!self.evasive || a.is_evasive())
            && (!self.bulk || a.is_bulk())
            && a.confidence() >= self.min_confidence
    }
}

/// Judges numbered lines with one scanner.
fn judge_lines(
    ruleset: &wordwarden::ruleset::Ruleset,
    judge: &Judge,
    scanner: &mut wordwarden::ruleset::Scanner<'_>,
    lines: &[(usize, Vec<u8>)],
    keep: &Keep,
) -> Vec<Outcome> {
    lines
        .iter()
        .map(|(number, bytes)| {
            let j = judge.judge(
                ruleset,
                scanner,
                bytes,
                line_source(*number),
                format_args!("line:{number}"),
            );
            let mut o = Outcome::default();
            if let Some(e) = &j.rejected {
                o.rejected = true;
                o.errors
                    .push(format!("line {number}: rejected ({}): {e}", e.reason()));
                return o;
            }
            for p in &j.problems {
                o.rejected = true;
                o.errors.push(format!(
                    "line {number}: unreadable field {}: {}",
                    p.pointer, p.reason
                ));
            }
            if j.textless {
                o.textless = Some(j.msgtype.as_deref().unwrap_or_default().to_string());
            }
            if j.fragment || j.tallied || j.withdrawal {
                o.again = Some((*number, bytes.clone()));
            } else {
                // remembered in order, should a later record withdraw it
                o.alerted = j.alerted;
            }
            if let Some(why) = &j.evidence_withheld {
                o.errors
                    .push(format!("line {number}: alert without its quotes: {why}"));
            }
            o.alert = alert_line(j.alert, keep);
            o
        })
        .collect()
}
