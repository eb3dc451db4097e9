//! `wordwarden import --format plain|csv|people FILE --out DIR`: turn the
//! lists maintainers already have into word-list files, and a directory's
//! export of people and their departments into people groups.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use wordwarden::lists::encoding;
use wordwarden::lists::Severity;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// `plain` (one term per line; a comma or semicolon after it dropped),
    /// `csv` (term,category,severity) or
    /// `people` (id,group: a directory's export, one person a row, written
    /// as `<group>.people` files).
    #[arg(long, value_parser = ["plain", "csv", "people"])]
    format: String,
    /// The file to import.
    file: PathBuf,
    /// The word-list directory to write into.
    #[arg(long)]
    out: PathBuf,
    /// Category for `plain` input (the file written is `<category>.txt`).
    #[arg(long, default_value = "imported")]
    category: String,
    /// Severity for `plain` input, and for CSV rows without one.
    #[arg(long, default_value = "medium")]
    severity: String,
    /// Overwrite existing list files.
    #[arg(long)]
    force: bool,
    /// The file's encoding (`gb18030`, `gbk`, `big5`, `utf-16le`, …; a
    /// byte-order mark names its own). Without it: UTF-8, else GB18030
    /// (what lists saved on Chinese Windows are) or Big5, as the bytes read.
    #[arg(long)]
    encoding: Option<String>,
}

/// The file's text, read as `--encoding` says or as it reads best; says
/// on stderr when that was not UTF-8, with the first terms to check it by.
fn read_text(args: &Args) -> anyhow::Result<String> {
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let read = encoding::decode(&bytes, args.encoding.as_deref())
        .with_context(|| format!("cannot read {} as text", args.file.display()))?;
    if read.encoding != "UTF-8" {
        // Big5 reads as GB18030 too, as other characters: show some
        let first: Vec<&str> = read
            .text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .take(3)
            .collect();
        eprintln!(
            "read {} as {}, first lines: {} (if they look wrong, name its encoding: --encoding big5, …)",
            args.file.display(),
            read.encoding,
            first.join(" | ")
        );
    }
    Ok(read.text.into_owned())
}

/// A term as a list line: escape what would read as a directive, comment,
/// allow phrase, detector or regex, and what would read as a combination.
fn as_entry(term: &str) -> Option<String> {
    let t = term.trim();
    if t.is_empty() {
        return None;
    }
    let needs_escape = t.starts_with(['!', '#', '@', '\\']) || t.starts_with("re:");
    Some(if needs_escape {
        format!("\\{t}")
    } else {
        t.to_string()
    })
}

/// A line of a plain list without the comma, semicolon or enumeration
/// comma some published lists end every term with (`色情网站,`).
fn without_trailing_separator(line: &str) -> &str {
    line.trim_end()
        .trim_end_matches([',', '，', ';', '；', '、'])
        .trim_end()
}

/// `--format people`: rows of `id,group` (a header `id,group` skipped)
/// into one `<group>.people` file a group, ids in the file's order.
fn import_people(args: &Args, text: &str) -> anyhow::Result<ExitCode> {
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    for (i, row) in reader.records().enumerate() {
        let at = || format!("{}: row {}", args.file.display(), i + 1);
        let row = row.with_context(at)?;
        let (id, group) = (
            row.get(0).unwrap_or("").trim(),
            row.get(1).unwrap_or("").trim(),
        );
        if i == 0 && id.eq_ignore_ascii_case("id") {
            continue; // header
        }
        if id.is_empty() {
            continue;
        }
        if id.contains(char::is_whitespace) {
            bail!("{}: id {id:?} has a space", at());
        }
        if group.is_empty() || group.contains("..") || group.starts_with('/') {
            bail!("{}: group {group:?} is not a relative path", at());
        }
        let ids = groups.entry(group.to_string()).or_default();
        if !ids.iter().any(|known| known.eq_ignore_ascii_case(id)) {
            ids.push(id.to_string());
        }
    }
    for (group, ids) in &groups {
        let path = args.out.join(format!("{group}.people"));
        if path.exists() && !args.force {
            bail!("{} exists (use --force to overwrite)", path.display());
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut out = format!("# imported from {}\n", args.file.display());
        for id in ids {
            out.push_str(id);
            out.push('\n');
        }
        std::fs::write(&path, out)?;
        println!("wrote {} ({} ids)", path.display(), ids.len());
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.format == "people" {
        let text = read_text(&args)?;
        return import_people(&args, &text);
    }
    let default_severity: Severity = args.severity.parse().map_err(anyhow::Error::msg)?;
    // category -> (severity counts, terms)
    let mut lists: BTreeMap<String, (BTreeMap<Severity, usize>, Vec<String>)> = BTreeMap::new();
    let text = read_text(&args)?;
    match args.format.as_str() {
        "plain" => {
            let e = lists.entry(args.category.clone()).or_default();
            e.0.insert(default_severity, 1);
            let mut trimmed = 0;
            e.1.extend(text.lines().filter_map(|line| {
                let term = without_trailing_separator(line);
                trimmed += usize::from(term.len() != line.trim_end().len());
                as_entry(term)
            }));
            if trimmed > 0 {
                eprintln!(
                    "{}: a separator after the term dropped on {trimmed} lines (`内幕消息,` is `内幕消息`)",
                    args.file.display()
                );
            }
        }
        _ => {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(text.as_bytes());
            for (i, row) in reader.records().enumerate() {
                let row = row.with_context(|| format!("{}: row {}", args.file.display(), i + 1))?;
                let term = row.get(0).unwrap_or("").trim();
                if i == 0 && term.eq_ignore_ascii_case("term") {
                    continue; // header
                }
                let category = row
                    .get(1)
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .unwrap_or(&args.category);
                if category.contains("..") || category.starts_with('/') {
                    bail!(
                        "{}: row {}: category {category:?} is not a relative path",
                        args.file.display(),
                        i + 1
                    );
                }
                let severity = match row.get(2).map(str::trim).filter(|s| !s.is_empty()) {
                    Some(s) => s.parse().map_err(|e: String| {
                        anyhow::anyhow!("{}: row {}: {e}", args.file.display(), i + 1)
                    })?,
                    None => default_severity,
                };
                let e = lists.entry(category.to_string()).or_default();
                *e.0.entry(severity).or_default() += 1;
                e.1.extend(as_entry(term));
            }
        }
    }
    for (category, (severities, terms)) in &lists {
        let path = args.out.join(format!("{category}.txt"));
        if path.exists() && !args.force {
            bail!("{} exists (use --force to overwrite)", path.display());
        }
        let severity = severities.keys().max().copied().unwrap_or_default();
        if severities.len() > 1 {
            eprintln!(
                "warning: {category} mixes severities {:?}; the list gets the highest, {severity} (split it into several categories to keep them)",
                severities.keys().map(|s| s.as_str()).collect::<Vec<_>>()
            );
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut out = format!(
            "#! severity: {severity}\n#! description: imported from {}\n",
            args.file.display()
        );
        for t in terms {
            out.push_str(t);
            out.push('\n');
        }
        std::fs::write(&path, out)?;
        println!("wrote {} ({} terms)", path.display(), terms.len());
    }
    Ok(ExitCode::SUCCESS)
}
