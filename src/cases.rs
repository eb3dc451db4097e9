//! List tests: `.cases` files next to the lists they test
//! (`finance/insider.cases` tests `finance/insider.txt`).
//!
//! ```text
//! # a comment
//! + 我有内*幕*消*息              must hit this file's category
//! +[内幕消息] 內幕消息已经传开了    must hit this term (as written) in this category
//! - 特色情景喜剧                 must not hit anything, in any list
//! - (internal) 把客户名单发我     ... in a conversation among colleagues
//! +[客户名单] (external) 把客户名单发我   ... with someone outside the company
//! +[@cn_mobile] {critical} 13812345678 13912345678 …   ... at this severity (`#! bulk:`)
//! + (from:zhang.wei to:li.na,wang.fang) 下周停牌      ... sent by one id to others (`#! people:`)
//! - (at:2027-01-15) 青松计划                  ... written then (`#! from:`, `#! until:`)
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
use crate::envelope::Participation;
use crate::lists::{parse_time, ListError, Severity};
use crate::people::Conversation;
use crate::ruleset::Ruleset;

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
        let text = std::fs::read_to_string(path).map_err(|cause| ListError::Io {
            path: path.to_path_buf(),
            cause,
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

/// A sample's conversation, from `(internal)`, `(external)`, `(from:ID
/// to:ID,ID)` or `(at:TIME)` before it (the words combine). Parentheses
/// holding anything else are part of the sample; a time that is none is an
/// error.
fn with_conversation<'s>(
    ruleset: &Ruleset,
    sample: &'s str,
) -> Result<(Conversation, &'s str), String> {
    let unknown = Ok((Audience::Unknown.into(), sample));
    let Some((inside, rest)) = sample.strip_prefix('(').and_then(|r| r.split_once(')')) else {
        return unknown;
    };
    let mut people = Participation::default();
    let mut told = None;
    let mut written = None;
    for word in inside.split_whitespace() {
        match word {
            "internal" => told = Some(Audience::Internal),
            "external" => told = Some(Audience::External),
            _ => {
                if let Some(id) = word.strip_prefix("from:") {
                    people.from = Some(id.to_string());
                } else if let Some(ids) = word.strip_prefix("to:") {
                    people.tolist.extend(ids.split(',').map(str::to_string));
                } else if let Some(time) = word.strip_prefix("at:") {
                    written = Some(parse_time(time)?.as_millisecond());
                } else {
                    return unknown;
                }
            }
        }
    }
    people.audience = told.unwrap_or_else(|| {
        Audience::of_ids(people.from.iter().chain(&people.tolist).map(String::as_str))
    });
    let conversation = people.conversation(ruleset).written_at(written);
    Ok((conversation, rest.trim_start()))
}

/// Runs case files against a compiled ruleset.
pub fn run_cases(ruleset: &Ruleset, files: &[(String, String)]) -> CaseReport {
    let mut report = CaseReport::default();
    let mut scanner = ruleset.scanner();
    for (file, text) in files {
        let category = file.strip_suffix(".cases").unwrap_or(file);
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
            if let Some(rest) = l.strip_prefix('-') {
                let (conversation, sample) = match with_conversation(ruleset, rest.trim()) {
                    Ok(found) => found,
                    Err(e) => {
                        report.failures.push(fail(e));
                        continue;
                    }
                };
                let hits = scanner.scan_for(&[sample], conversation).hits;
                if hits.is_empty() {
                    report.passed += 1;
                } else {
                    let got: Vec<String> = hits
                        .iter()
                        .map(|h| format!("{} [{}]", h.term(), h.category()))
                        .collect();
                    report.failures.push(fail(format!(
                        "expected no hit in {sample:?}, got {}",
                        got.join(", ")
                    )));
                }
            } else if let Some(rest) = l.strip_prefix('+') {
                let (term, sample) = match rest.strip_prefix('[').and_then(|r| r.split_once(']')) {
                    Some((t, s)) => (Some(t.trim()), s.trim()),
                    None => (None, rest.trim()),
                };
                let (severity, sample) = with_severity(sample);
                let severity = match severity.transpose() {
                    Ok(severity) => severity,
                    Err(e) => {
                        report.failures.push(fail(e));
                        continue;
                    }
                };
                let (conversation, sample) = match with_conversation(ruleset, sample) {
                    Ok(found) => found,
                    Err(e) => {
                        report.failures.push(fail(e));
                        continue;
                    }
                };
                let hits = scanner.scan_for(&[sample], conversation).hits;
                let ok = hits.iter().any(|h| {
                    h.category() == category
                        && term.is_none_or(|t| h.term() == t)
                        && severity.is_none_or(|s| h.severity() == s)
                });
                if ok {
                    report.passed += 1;
                } else {
                    let mut want = match term {
                        Some(t) => format!("{t} [{category}]"),
                        None => format!("a hit in [{category}]"),
                    };
                    if let Some(severity) = severity {
                        want.push_str(&format!(" ({severity})"));
                    }
                    let got: Vec<String> = hits
                        .iter()
                        .map(|h| match severity {
                            Some(_) => {
                                format!("{} [{}] ({})", h.term(), h.category(), h.severity())
                            }
                            None => format!("{} [{}]", h.term(), h.category()),
                        })
                        .collect();
                    let got = if got.is_empty() {
                        "nothing".to_string()
                    } else {
                        got.join(", ")
                    };
                    report
                        .failures
                        .push(fail(format!("expected {want} in {sample:?}, got {got}")));
                }
            } else {
                report.failures.push(fail(format!(
                    "a case starts with `+` (must hit) or `-` (must not hit): {l:?}"
                )));
            }
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lists::WordListSet;

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
        let report = run_cases(&rs, &[("pii.cases".into(), good.into())]);
        assert_eq!(
            (report.passed, report.failures.len()),
            (3, 0),
            "{:?}",
            report.failures
        );
        let bad = "+ {critical} 13812345678\n+ {urgent} 13812345678\n";
        let report = run_cases(&rs, &[("pii.cases".into(), bad.into())]);
        let messages: Vec<&str> = report.failures.iter().map(|f| &f.message[..]).collect();
        assert_eq!(report.passed, 0);
        assert_eq!(
            messages,
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
        let report = run_cases(&rs, &[("leak.cases".into(), good.into())]);
        assert_eq!(
            (report.passed, report.failures.len()),
            (3, 0),
            "{:?}",
            report.failures
        );
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
        let report = run_cases(&rs, &[("deals.cases".into(), good.into())]);
        assert_eq!(
            (report.passed, report.failures.len()),
            (3, 0),
            "{:?}",
            report.failures
        );
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
        let report = run_cases(&rs, &[("barrier.cases".into(), good.into())]);
        assert_eq!(
            (report.passed, report.failures.len()),
            (4, 0),
            "{:?}",
            report.failures
        );
        let bad = "- (from:li.na to:zhang.wei) 下周停牌\n+ (from:li.na to:li.na) 下周停牌\n";
        let report = run_cases(&rs, &[("barrier.cases".into(), bad.into())]);
        let lines: Vec<usize> = report.failures.iter().map(|f| f.line).collect();
        assert_eq!((report.passed, lines), (0, vec![1, 2]));
    }
}
