//! List tests: `.cases` files next to the lists they test
//! (`finance/insider.cases` tests `finance/insider.txt`).
//!
//! ```text
//! # a comment
//! + 我有内*幕*消*息              must hit this file's category
//! +[内幕消息] 內幕消息已经传开了    must hit this term (as written) in this category
//! - 特色情景喜剧                 must not hit anything, in any list
//! -[色情] 特色情景里全是脑残剧情   must not hit this term of this list (others may)
//! - (internal) 把客户名单发我     ... in a conversation among colleagues
//! +[客户名单] (external) 把客户名单发我   ... with someone outside the company
//! +[@cn_mobile] {critical} 13812345678 13912345678 …   ... at this severity (`#! bulk:`)
//! + (from:zhang.wei to:li.na,wang.fang) 下周停牌      ... sent by one id to others (`#! people:`)
//! - (at:2027-01-15) 青松计划                  ... written then (`#! from:`, `#! until:`)
//! | 内                                        a message sent before the next case
//! | 幕                                        ... by the same sender, same conversation
//! +[内幕消息] 消息                            ... which completes a term split across them
//! ```
//!
//! A sample is a message of unknown audience (every list watches it) unless
//! it starts with `(internal)` or `(external)`, which test lists with
//! `#! audience: external` ([`crate::audience`]), or names its people,
//! `(from:ID to:ID,ID)`, which tests lists with `#! people:`
//! ([`crate::people`]; the audience is then what the ids make, unless
//! `internal` or `external` is among them), or says when it was written,
//! `(at:TIME)`, which tests lists with `#! from:` or `#! until:`
//! ([`crate::lists::Window`]); the words combine: `(from:ID to:ID at:TIME)`. A `{severity}` before it
//! asks the hit to have that severity, which tests a list's `#! bulk:`
//! threshold ([`crate::lists::Bulk`]).
//!
//! `| text` lines are messages sent before the next case, by the case's
//! sender in its conversation (someone outside the company unless the case
//! says `(internal)` or names its people), at the case's time unless one
//! says its own (`| (at:TIME) text`), to the case's recipients unless one
//! names its own (`| (to:ID,ID) text`: another conversation): the case is
//! then judged after them, in order, as [`Judge::judge_next`] judges a
//! stream (terms split across messages, bulk thresholds `within` a time,
//! `across conversations`). Each case starts afresh.
//!
//! ```
//! use wordwarden::cases::run_cases;
//! use wordwarden::lists::WordListSet;
//! use wordwarden::ruleset::Ruleset;
//!
//! let lists = WordListSet::from_sources(vec![("a.txt".into(), "内幕\n".into())]);
//! let rs = Ruleset::builder().build(&lists).unwrap();
//! let cases = vec![(
//!     "a.cases".to_string(),
//!     "+ 有内幕\n- 内部\n+[内幕] 內幕\n+ (internal) 有内幕\n".to_string(),
//! )];
//! let report = run_cases(&rs, &cases);
//! assert_eq!(report.passed, 4);
//! assert!(report.failures.is_empty());
//! ```

use std::path::Path;

use crate::audience::Audience;
use crate::envelope::{InputFormat, Participation};
use crate::judge::Judge;
use crate::lists::{parse_time, ListError, Severity};
use crate::people::Conversation;
use crate::ruleset::{Ruleset, Scanner};
use crate::split::SplitOptions;

/// One failed case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFailure {
    /// The `.cases` file (relative path).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// What was expected and what happened.
    pub message: String,
}

impl std::fmt::Display for CaseFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// The outcome of a run.
#[derive(Debug, Clone, Default)]
pub struct CaseReport {
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed.
    pub failures: Vec<CaseFailure>,
}

/// Reads every `*.cases` file below `dir` as (relative path, text).
pub fn read_case_files(dir: &Path) -> Result<Vec<(String, String)>, ListError> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(|e| ListError::Io {
            path: dir.to_path_buf(),
            cause: e.into(),
        })?;
        let path = entry.path();
        if !entry.file_type().is_file()
            || path.extension().and_then(|e| e.to_str()) != Some("cases")
        {
            continue;
        }
        let rel = path
            .strip_prefix(dir)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        let io = |cause| ListError::Io {
            path: path.to_path_buf(),
            cause,
        };
        let bytes = std::fs::read(path).map_err(io)?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let why = crate::encoding::not_utf8(e.as_bytes(), e.utf8_error());
            io(std::io::Error::new(std::io::ErrorKind::InvalidData, why))
        })?;
        out.push((rel, text));
    }
    Ok(out)
}

/// The severity a `+` case asks for, from a `{critical}` before its sample.
fn with_severity(sample: &str) -> (Option<Result<Severity, String>>, &str) {
    match sample.strip_prefix('{').and_then(|r| r.split_once('}')) {
        Some((severity, rest)) => (Some(severity.parse()), rest.trim_start()),
        None => (None, sample),
    }
}

/// What the words in parentheses before a sample say: its people, its
/// audience as told, when it was written.
#[derive(Default)]
struct Said {
    people: Participation,
    told: Option<Audience>,
    written_ms: Option<i64>,
}

impl Said {
    /// The sample's conversation: the audience told, else what the ids
    /// make.
    fn conversation(mut self, ruleset: &Ruleset) -> Conversation {
        self.people.audience = self.told.unwrap_or_else(|| {
            let p = &self.people;
            Audience::of_ids(p.from.iter().chain(&p.tolist).map(String::as_str))
        });
        self.people
            .conversation(ruleset)
            .written_at(self.written_ms)
    }
}

/// A sample's conversation, from `(internal)`, `(external)`, `(from:ID
/// to:ID,ID)` or `(at:TIME)` before it (the words combine). Parentheses
/// holding anything else are part of the sample; a time that is none is an
/// error.
fn with_words(sample: &str) -> Result<(Said, &str), String> {
    let unknown = Ok((Said::default(), sample));
    let Some((inside, rest)) = sample.strip_prefix('(').and_then(|r| r.split_once(')')) else {
        return unknown;
    };
    let mut said = Said::default();
    for word in inside.split_whitespace() {
        match word {
            "internal" => said.told = Some(Audience::Internal),
            "external" => said.told = Some(Audience::External),
            _ => {
                if let Some(id) = word.strip_prefix("from:") {
                    said.people.from = Some(id.to_string());
                } else if let Some(ids) = word.strip_prefix("to:") {
                    said.people
                        .tolist
                        .extend(ids.split(',').map(str::to_string));
                } else if let Some(time) = word.strip_prefix("at:") {
                    said.written_ms = Some(parse_time(time)?.as_millisecond());
                } else {
                    return unknown;
                }
            }
        }
    }
    Ok((said, rest.trim_start()))
}

/// One hit of a sample: its term as written, its category, its severity.
struct CaseHit {
    term: String,
    category: String,
    severity: Severity,
}

/// The hits of `sample` judged alone.
fn hits_alone(
    scanner: &mut Scanner<'_>,
    ruleset: &Ruleset,
    said: Said,
    sample: &str,
) -> Vec<CaseHit> {
    let conversation = said.conversation(ruleset);
    let hits = scanner.scan_for(&[sample], conversation).hits;
    hits.iter()
        .map(|h| CaseHit {
            term: h.term().to_string(),
            category: h.category().to_string(),
            severity: h.severity(),
        })
        .collect()
}

/// The hits of `sample` sent after the messages `earlier`, by one sender in
/// one conversation, judged in order as the engine does (terms split
/// across them, bulk thresholds over time): WeCom records from the ids the
/// words name, else from one sender to a colleague (`internal`) or to
/// someone outside the company.
fn hits_after(
    ruleset: &Ruleset,
    earlier: &[String],
    said: Said,
    sample: &str,
) -> Result<Vec<CaseHit>, String> {
    let judge = Judge::new(InputFormat::wecom()).split_messages(Some(SplitOptions::default()));
    let mut memory = judge.memory();
    let mut scanner = ruleset.scanner();
    let from = said.people.from.clone();
    let from = from.unwrap_or_else(|| "case.sender".into());
    let mut to = said.people.tolist.clone();
    let external =
        |ids: &[String]| Audience::of_ids(ids.iter().map(String::as_str)) == Audience::External;
    let outside = match said.told {
        Some(told) => told == Audience::External && !external(&to),
        None => to.is_empty(),
    };
    if outside {
        to.push("wmCaseOutsider".into());
    } else if to.is_empty() {
        to.push("case.colleague".into());
    }
    let mut alert = None;
    let lines = earlier.iter().map(String::as_str).chain([sample]);
    for (k, line) in lines.enumerate() {
        // an earlier message may say when it was sent, and to whom in
        // another conversation: `| (to:ID,ID at:TIME) text`
        let (text, written_ms, own_to) = match k < earlier.len() {
            true => {
                let (own, text) = with_words(line)?;
                if own.people.from.is_some() || own.told.is_some() {
                    return Err(format!(
                        "an earlier message ({line:?}) is the case's sender's: it may say \
                         (to:ID,ID) and (at:TIME), not who sent it or an audience"
                    ));
                }
                (text, own.written_ms.or(said.written_ms), own.people.tolist)
            }
            false => (line, said.written_ms, Vec::new()),
        };
        let to = if own_to.is_empty() { &to } else { &own_to };
        let mut record = serde_json::json!({"msgid": format!("case{k}"), "from": from,
            "tolist": to, "msgtype": "text", "text": {"content": text}});
        if let Some(ms) = written_ms {
            record["msgtime"] = ms.into();
        }
        let bytes = record.to_string();
        let j = judge.judge_next(
            ruleset,
            &mut scanner,
            &mut memory,
            bytes.as_bytes(),
            Default::default(),
            "case",
            None,
        );
        alert = j.alert;
    }
    let hits = alert.map(|a| a.hits).unwrap_or_default();
    Ok(hits
        .into_iter()
        .map(|h| CaseHit {
            term: h.term,
            category: h.category,
            severity: h.severity,
        })
        .collect())
}

/// Runs case files against a compiled ruleset.
pub fn run_cases(ruleset: &Ruleset, files: &[(String, String)]) -> CaseReport {
    let mut report = CaseReport::default();
    let mut scanner = ruleset.scanner();
    for (file, text) in files {
        let category = file.strip_suffix(".cases").unwrap_or(file);
        // `| text` lines: messages sent before the next case
        let mut earlier: Vec<String> = Vec::new();
        let mut earlier_from = 0;
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let l = raw.trim_start();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let fail = |message: String| CaseFailure {
                file: file.clone(),
                line,
                message,
            };
            if let Some(text) = l.strip_prefix('|') {
                if earlier.is_empty() {
                    earlier_from = line;
                }
                earlier.push(text.trim().to_string());
                continue;
            }
            let (must_hit, rest) = match (l.strip_prefix('+'), l.strip_prefix('-')) {
                (Some(rest), _) => (true, rest),
                (_, Some(rest)) => (false, rest),
                _ => {
                    report.failures.push(fail(format!(
                        "a case starts with `+` (must hit) or `-` (must not hit), a message \
                         sent before it with `|`: {l:?}"
                    )));
                    continue;
                }
            };
            let before = std::mem::take(&mut earlier);
            let (term, sample) = match rest.strip_prefix('[') {
                Some(r) => match r.split_once(']') {
                    Some((t, s)) => (Some(t.trim()), s.trim()),
                    None => (None, rest.trim()),
                },
                None => (None, rest.trim()),
            };
            let (severity, sample) = match must_hit {
                true => with_severity(sample),
                false => (None, sample),
            };
            let severity = match severity.transpose() {
                Ok(severity) => severity,
                Err(e) => {
                    report.failures.push(fail(e));
                    continue;
                }
            };
            let (said, sample) = match with_words(sample) {
                Ok(found) => found,
                Err(e) => {
                    report.failures.push(fail(e));
                    continue;
                }
            };
            let hits = match before.is_empty() {
                true => hits_alone(&mut scanner, ruleset, said, sample),
                false => match hits_after(ruleset, &before, said, sample) {
                    Ok(hits) => hits,
                    Err(e) => {
                        report.failures.push(fail(e));
                        continue;
                    }
                },
            };
            let after = match before.len() {
                0 => String::new(),
                n => format!(" after {n} message(s)"),
            };
            let ok = match (must_hit, term) {
                (false, None) => hits.is_empty(),
                // `-[term]`: not that term of this list; others may fire
                (false, Some(t)) => !hits.iter().any(|h| h.category == category && h.term == t),
                (true, _) => hits.iter().any(|h| {
                    h.category == category
                        && term.is_none_or(|t| h.term == t)
                        && severity.is_none_or(|s| h.severity == s)
                }),
            };
            if ok {
                report.passed += 1;
                continue;
            }
            let got: Vec<String> = hits
                .iter()
                .map(|h| match severity {
                    Some(_) => format!("{} [{}] ({})", h.term, h.category, h.severity),
                    None => format!("{} [{}]", h.term, h.category),
                })
                .collect();
            if !must_hit {
                let unwanted = match term {
                    Some(t) => format!("no hit on {t} [{category}]"),
                    None => "no hit".to_string(),
                };
                report.failures.push(fail(format!(
                    "expected {unwanted} in {sample:?}{after}, got {}",
                    got.join(", ")
                )));
                continue;
            }
            let mut want = match term {
                Some(t) => format!("{t} [{category}]"),
                None => format!("a hit in [{category}]"),
            };
            if let Some(severity) = severity {
                want.push_str(&format!(" ({severity})"));
            }
            let got = match got.is_empty() {
                true => "nothing".to_string(),
                false => got.join(", "),
            };
            report.failures.push(fail(format!(
                "expected {want} in {sample:?}{after}, got {got}"
            )));
        }
        if !earlier.is_empty() {
            report.failures.push(CaseFailure {
                file: file.clone(),
                line: earlier_from,
                message: "messages sent before a case (`|`) with no case after them".into(),
            });
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lists::WordListSet;

    /// Runs `text` as the case file `file`: all `n` cases pass.
    fn all_pass(rs: &Ruleset, file: &str, text: &str, n: usize) {
        let report = run_cases(rs, &[(file.into(), text.into())]);
        let outcome = (report.passed, report.failures.len());
        assert_eq!(outcome, (n, 0), "{:?}", report.failures);
    }

    /// Runs `text` as the case file `file`: no case passes; what each
    /// failure says.
    fn all_fail(rs: &Ruleset, file: &str, text: &str) -> Vec<String> {
        let report = run_cases(rs, &[(file.into(), text.into())]);
        assert_eq!(report.passed, 0, "{:?}", report.failures);
        report.failures.into_iter().map(|f| f.message).collect()
    }

    /// A `.cases` file saved as GBK: the error says so, as a list's does.
    #[test]
    fn a_cases_file_not_in_utf8_says_what_it_reads_as() {
        let dir = tempfile::tempdir().unwrap();
        // `+ 内幕消息` saved as GBK
        let gbk = [
            b'+', b' ', 0xC4, 0xDA, 0xC4, 0xBB, 0xCF, 0xFB, 0xCF, 0xA2, b'\n',
        ];
        std::fs::write(dir.path().join("insider.cases"), gbk).unwrap();
        let error = read_case_files(dir.path()).unwrap_err().to_string();
        assert!(error.contains("insider.cases"), "{error}");
        assert!(error.contains("it reads as gb18030 text"), "{error}");
    }

    /// `-[term]` asks for no hit on that term of the list, where other
    /// terms may fire; a hit on it fails and says what was found.
    #[test]
    fn a_case_may_rule_out_one_term() {
        let lists = WordListSet::from_sources(vec![
            ("conduct.txt".into(), "色情\n脑残\n!特色情\n".into()),
            ("other.txt".into(), "色情\n".into()),
        ]);
        let rs = Ruleset::builder().build(&lists).expect("compiles");
        let good = "-[色情] 特色情景里全是脑残剧情\n-[色情] 你好\n";
        all_pass(&rs, "conduct.cases", good, 2);
        let bad = "-[色情] 色情片段\n-[脑残] 脑残\n";
        assert_eq!(
            all_fail(&rs, "conduct.cases", bad),
            [
                "expected no hit on 色情 [conduct] in \"色情片段\", got 色情 [conduct], 色情 [other]",
                "expected no hit on 脑残 [conduct] in \"脑残\", got 脑残 [conduct]",
            ]
        );
        // this list's term alone: `other.cases` rules out an `other` 脑残,
        // which conduct's firing does not fail
        all_pass(&rs, "other.cases", "-[脑残] 脑残\n", 1);
    }

    /// `{severity}` asks a hit for its severity, raised or not by the list's
    /// `#! bulk:` threshold; a wrong one fails and says what was found.
    #[test]
    fn cases_ask_for_a_severity() {
        let lists = WordListSet::from_sources(vec![(
            "pii.txt".into(),
            "#! severity: high\n#! bulk: 2 critical\n@cn_mobile\n".into(),
        )]);
        let rs = Ruleset::builder().build(&lists).expect("compiles");
        let good = "+[@cn_mobile] {high} 13812345678\n\
                    +[@cn_mobile] {critical} 13812345678 13912345678\n\
                    + {high} 13812345678 138-1234-5678\n";
        all_pass(&rs, "pii.cases", good, 3);
        let bad = "+ {critical} 13812345678\n+ {urgent} 13812345678\n";
        assert_eq!(
            all_fail(&rs, "pii.cases", bad),
            [
                "expected a hit in [pii] (critical) in \"13812345678\", got @cn_mobile [pii] (high)",
                "unknown severity \"urgent\" (info, low, medium, high, critical)",
            ]
        );
    }

    /// Cases for a list watching external conversations say which kind of
    /// conversation they are; a wrong expectation fails either way.
    #[test]
    fn cases_in_internal_and_external_conversations() {
        let lists = WordListSet::from_sources(vec![(
            "leak.txt".into(),
            "#! audience: external\n客户名单\n".into(),
        )]);
        let rs = Ruleset::builder().build(&lists).expect("compiles");
        let good = "+[客户名单] (external) 把客户名单发我\n- (internal) 把客户名单发我\n+ 把客户名单发我\n";
        all_pass(&rs, "leak.cases", good, 3);
        let bad = "+ (internal) 把客户名单发我\n- (external) 把客户名单发我\n- 把客户名单发我\n";
        let report = run_cases(&rs, &[("leak.cases".into(), bad.into())]);
        let lines: Vec<usize> = report.failures.iter().map(|f| f.line).collect();
        assert_eq!((report.passed, lines), (0, vec![1, 2, 3]));
        assert!(
            report.failures[0].message.contains("\"把客户名单发我\""),
            "{:?}",
            report.failures
        );
    }

    /// Cases say when a sample was written for a list with a window; a time
    /// that is none fails its case.
    #[test]
    fn cases_written_at_a_time() {
        let lists = WordListSet::from_sources(vec![(
            "deals.txt".into(),
            "#! until: 2026-12-01T00:00:00+08:00\n青松计划\n".into(),
        )]);
        let rs = Ruleset::builder().build(&lists).expect("compiles");
        let good = "+ (at:2026-11-30T15:59:59Z) 青松计划启动\n- (at:2026-12-01) 青松计划公告\n+ 青松计划\n";
        all_pass(&rs, "deals.cases", good, 3);
        let bad = "- (at:yesterday) 青松计划\n";
        let report = run_cases(&rs, &[("deals.cases".into(), bad.into())]);
        assert_eq!(report.failures.len(), 1);
        assert!(
            report.failures[0]
                .message
                .contains("\"yesterday\" is no time"),
            "{:?}",
            report.failures
        );
    }

    /// Cases name a sample's sender and recipients for a list across an
    /// information barrier; parentheses holding anything else are text.
    #[test]
    fn cases_between_people_groups() {
        let lists = WordListSet::from_sources(vec![
            ("ibd.people".into(), "zhang.wei\n".into()),
            ("research.people".into(), "li.na\n".into()),
            (
                "barrier.txt".into(),
                "#! people: between ibd research\n停牌\n".into(),
            ),
        ]);
        let rs = Ruleset::builder().build(&lists).expect("compiles");
        let good = "+[停牌] (from:zhang.wei to:wang,li.na) 下周停牌\n\
                    - (from:zhang.wei to:wang) 下周停牌\n\
                    + (from:li.na to:Zhang.Wei external) 下周停牌\n\
                    + (笑) 下周停牌\n";
        all_pass(&rs, "barrier.cases", good, 4);
        let bad = "- (from:li.na to:zhang.wei) 下周停牌\n+ (from:li.na to:li.na) 下周停牌\n";
        let report = run_cases(&rs, &[("barrier.cases".into(), bad.into())]);
        let lines: Vec<usize> = report.failures.iter().map(|f| f.line).collect();
        assert_eq!((report.passed, lines), (0, vec![1, 2]));
    }

    /// Messages sent before a case (`| text`) are judged in order with it,
    /// by one sender in one conversation: a term split across them, a bulk
    /// threshold reached over time; a `|` with no case after it fails.
    #[test]
    fn cases_after_earlier_messages() {
        let lists = WordListSet::from_sources(vec![
            ("insider.txt".into(), "内幕消息\n".into()),
            (
                "pii.txt".into(),
                "#! severity: high\n#! bulk: 3 critical within 1h\n@cn_mobile\n".into(),
            ),
        ]);
        let rs = Ruleset::builder().build(&lists).expect("compiles");
        let good = "| 内\n| 幕\n+[内幕消息] 消息\n- 消息\n\
                    | 内幕\n# a comment between\n- (at:2026-12-01) 消\n";
        all_pass(&rs, "insider.cases", good, 3);
        let good = "| 13812340001\n| 13912340002\n+[@cn_mobile] {critical} 13712340003\n\
                    | (at:2026-12-01T08:00:00Z) 13812340001\n| (at:2026-12-01T08:30:00Z) 13912340002\n\
                    + {high} (at:2026-12-01T09:00:01Z) 13712340003\n\
                    | (at:2026-12-01T08:00:00Z) 13812340001\n| 13912340002\n\
                    + {critical} (at:2026-12-01T09:00:00Z) 13712340003\n\
                    + {high} 13712340003\n\
                    | 13812340001\n+ {high} (internal) 13712340003\n\
                    | 13812340001 13912340002\n+ {critical} (from:zhang to:li) 13712340003\n";
        all_pass(&rs, "pii.cases", good, 6);
        // earlier messages to others: another conversation, which counts
        // only for a list counting across conversations
        let good = "| (to:wmBuyer1) 13812340001\n| (to:wmBuyer2) 13912340002\n\
                    + {high} 13712340003\n";
        all_pass(&rs, "pii.cases", good, 1);
        let across = WordListSet::from_sources(vec![(
            "pii.txt".into(),
            "#! severity: high\n#! bulk: 3 critical within 1h across conversations\n@cn_mobile\n"
                .into(),
        )]);
        let across = Ruleset::builder().build(&across).expect("compiles");
        let good = "| (to:wmBuyer1) 13812340001\n| (to:wmBuyer2 at:2026-12-01) 13912340002\n\
                    + {critical} (at:2026-12-01) 13712340003\n";
        all_pass(&across, "pii.cases", good, 1);
        let bad = "| 内\n| 幕\n- 消息\n| 13812340001\n+ {critical} 13912340002\n\
                   | (at:soon) 内\n- 幕\n| (from:zhang) 内\n- 幕\n| 内\n";
        let report = run_cases(&rs, &[("insider.cases".into(), bad.into())]);
        let messages: Vec<(usize, &str)> = report
            .failures
            .iter()
            .map(|f| (f.line, &f.message[..]))
            .collect();
        assert_eq!(
            messages,
            [
                (3, "expected no hit in \"消息\" after 2 message(s), got 内幕消息 [insider]"),
                (
                    5,
                    "expected a hit in [insider] (critical) in \"13912340002\" after 1 message(s), \
                     got @cn_mobile [pii] (high)"
                ),
                (7, "\"soon\" is no time (2026-12-01, 2026-12-01T08:00:00Z, 2026-12-01T00:00:00+08:00)"),
                (
                    9,
                    "an earlier message (\"(from:zhang) 内\") is the case's sender's: it may say \
                     (to:ID,ID) and (at:TIME), not who sent it or an audience"
                ),
                (10, "messages sent before a case (`|`) with no case after them"),
            ]
        );
    }
}
