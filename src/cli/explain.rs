//! `wordwarden explain --wordlists DIR "text"`: the folding steps, the offset
//! map, every candidate hit and why it was kept or dropped.

use std::path::PathBuf;
use std::process::ExitCode;

use wordwarden::audience::Audience;
use wordwarden::detect::rejected_runs;
use wordwarden::fold::{fold, light_fold, symbols_as_letters};
use wordwarden::ruleset::Verdict;

use super::load_ruleset;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The word-list directory.
    #[arg(long)]
    wordlists: PathBuf,
    /// The conversation the text was written in, for lists with `#!
    /// audience: external`: internal (colleagues only), external (someone
    /// outside the company) or unknown (every list watches it).
    #[arg(long, default_value = "unknown")]
    audience: Audience,
    /// The text to explain.
    text: String,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let rs = load_ruleset(&args.wordlists)?;
    let text = args.text.as_str();
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
    println!("\noffset map (folded character <- original bytes):");
    for c in folded.chars() {
        let orig = &text[c.range()];
        let noise = if c.after_noise { "  (after noise)" } else { "" };
        println!(
            "  {:<3} <- {:>3}..{:<3} {orig:?}{noise}",
            c.ch, c.start, c.end
        );
    }
    let (findings, candidates) = rs.scanner().explain_for(&[text], args.audience);
    println!("\ncandidates:");
    if candidates.is_empty() {
        println!("  none: no term, regex or detector matched anywhere");
    }
    for c in &candidates {
        let verdict = match &c.verdict {
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
        };
        println!(
            "  {:>3}..{:<3} {:?}  {}\n            {verdict}",
            c.start,
            c.end,
            &text[c.start..c.end],
            c.what
        );
    }
    for (start, end, why) in rejected_runs(text) {
        println!(
            "  {start:>3}..{end:<3} {:?}  digit run\n            dropped: {why}",
            &text[start..end]
        );
    }
    println!("\n{} hit(s), ruleset {}", findings.hits.len(), rs.version());
    for h in &findings.hits {
        let evasions = h.evasions(text);
        let how = match evasions.is_empty() {
            true => "written as the rule is".to_string(),
            false => format!("evasions: {}", wordwarden::evasion::names(&evasions)),
        };
        println!("  {} {:?}  {how}", h.term(), &text[h.start..h.end]);
    }
    Ok(ExitCode::SUCCESS)
}
