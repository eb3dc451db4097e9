//! `wordwarden import --format plain|csv|people FILE --out DIR`: turn the
//! lists maintainers already have into word-list files, and a directory's
//! export of people and their departments into people groups.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use wordwarden::encoding;
use wordwarden::lists::Severity;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// `plain` (one term per line; a comma or semicolon after it dropped),
    /// `csv` (term,category,severity) or
    /// `people` (id,group: a directory's export, one person a row, written
    /// as `<group>.people` files; or any columns, named by `--id-column`
    /// and `--group-column`).
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
    /// `people` from a directory's export with a header row (WeCom's
    /// 通讯录导出 saved as CSV): the column of the ids (`账号`, `userid`).
    #[arg(long, requires = "group_column")]
    id_column: Option<String>,
    /// With `--id-column`: the column of the groups (`部门`); a cell naming
    /// several, split at `;`, puts the person in each.
    #[arg(long, requires = "id_column")]
    group_column: Option<String>,
}

/// The file's text, read as `--encoding` says or as it reads best; says
/// on stderr when that was not UTF-8, with the first terms of a list to
/// check it by (never a directory's rows: names, ids, phone numbers).
fn read_text(args: &Args) -> anyhow::Result<String> {
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let read = encoding::decode(&bytes, args.encoding.as_deref())
        .with_context(|| format!("cannot read {} as text", args.file.display()))?;
    if read.encoding != "UTF-8" && args.format == "people" {
        // a header named wrongly says so (`no column "账号" in the header`)
        eprintln!("read {} as {}", args.file.display(), read.encoding);
    } else if read.encoding != "UTF-8" {
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

/// `--format people`: rows of `id,group` (a header `id,group` skipped), or
/// the columns `--id-column` and `--group-column` name in the header, into
/// one `<group>.people` file a group, ids in the file's order.
fn import_people(args: &Args, text: &str) -> anyhow::Result<ExitCode> {
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = reader.records().enumerate();
    // where the id and the group are, and whether a group cell may name several
    let (id_at, group_at, several) = match (&args.id_column, &args.group_column) {
        (Some(id), Some(group)) => {
            let header = match rows.next() {
                Some((_, row)) => row.with_context(|| format!("{}: row 1", args.file.display()))?,
                None => bail!("{} is empty", args.file.display()),
            };
            let column = |name: &str| {
                header
                    .iter()
                    .position(|h| h.trim().eq_ignore_ascii_case(name.trim()))
                    .with_context(|| {
                        let names: Vec<&str> = header.iter().map(str::trim).collect();
                        format!(
                            "{}: no column {name:?} in the header ({})",
                            args.file.display(),
                            names.join(", ")
                        )
                    })
            };
            (column(id)?, column(group)?, true)
        }
        _ => (0, 1, false),
    };
    let mut renamed = BTreeMap::new();
    let mut in_no_group = 0;
    for (i, row) in rows {
        let at = || format!("{}: row {}", args.file.display(), i + 1);
        let row = row.with_context(at)?;
        let (id, cell) = (
            row.get(id_at).unwrap_or("").trim(),
            row.get(group_at).unwrap_or("").trim(),
        );
        // an `id,group` header (a named header was read above)
        if id.is_empty() || (i == 0 && id.eq_ignore_ascii_case("id")) {
            continue;
        }
        if id.contains(char::is_whitespace) {
            bail!("{}: id {id:?} has a space", at());
        }
        let named: Vec<&str> = if several {
            cell.split([';', '；'])
                .map(str::trim)
                .filter(|g| !g.is_empty())
                .collect()
        } else {
            vec![cell]
        };
        in_no_group += usize::from(named.is_empty());
        for written in named {
            // a department path as the directory writes it (`/总部/投行部`);
            // a space would end the name in `#! people:`
            let group = written
                .trim_matches('/')
                .split_whitespace()
                .collect::<Vec<_>>()
                .join("_");
            if group.is_empty() || group.split('/').any(|part| part.is_empty() || part == "..") {
                bail!("{}: group {written:?} is not a relative path", at());
            }
            if group != written {
                renamed.insert(written.to_string(), group.clone());
            }
            let ids = groups.entry(group).or_default();
            if !ids.iter().any(|known| known.eq_ignore_ascii_case(id)) {
                ids.push(id.to_string());
            }
        }
    }
    for (written, group) in &renamed {
        eprintln!("group {written:?} written as {group:?}");
    }
    if in_no_group > 0 {
        eprintln!("{in_no_group} people in no group (an empty group column): left out");
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
    if args.format != "people" && args.id_column.is_some() {
        bail!("--id-column and --group-column are for --format people");
    }
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
