//! The word-list maintainer's commands, run as the real binary: scan, lint
//! (with a corpus), test (the bundled cases), explain, diff with impact,
//! import and export.

use std::path::Path;
use std::process::{Command, Output};

fn ww(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wordwarden"))
        .args(args)
        .output()
        .expect("run wordwarden")
}

fn ww_in(args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_wordwarden"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `scan` of JSON lines on stdin, the text at `pointer`, bundled lists.
fn scan_json(pointer: &str, stdin: &str) -> Output {
    let lists = bundled();
    let args = [
        "scan",
        "--wordlists",
        &lists,
        "--input-format",
        "json",
        "--json-pointer",
        pointer,
    ];
    ww_in(&args, stdin)
}

fn bundled() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("wordlists")
        .display()
        .to_string()
}

#[test]
fn bundled_list_cases_pass() {
    let o = ww(&["test", &bundled()]);
    assert!(o.status.success(), "{}{}", out(&o), err(&o));
    assert!(out(&o).contains(" 0 failed"), "{}", out(&o));
}

#[test]
fn failing_cases_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), "内幕\n").unwrap();
    std::fs::write(
        dir.path().join("a.cases"),
        "+ 内幕\n+ 没有\n- 有内幕\n+[别的] 内幕\n",
    )
    .unwrap();
    let o = ww(&["test", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let s = out(&o);
    assert!(s.contains("a.cases:2: expected a hit in [a]"), "{s}");
    assert!(s.contains("a.cases:3: expected no hit"), "{s}");
    assert!(s.contains("a.cases:4: expected 别的 [a]"), "{s}");
    assert!(s.contains("1 passed, 3 failed"), "{s}");
}

#[test]
fn scan_reports_bad_lines_and_goes_on() {
    let input = "把客户名单发我\n\u{fffd}ok\n今天开会\n";
    let mut bytes = input.as_bytes().to_vec();
    bytes.extend_from_slice(b"\xff\xfe bad\n");
    bytes.extend_from_slice("内*幕*消*息\n".as_bytes());
    let o = {
        use std::io::Write;
        let mut child = Command::new(env!("CARGO_BIN_EXE_wordwarden"))
            .args(["scan", "--wordlists", &bundled()])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(&bytes).unwrap();
        child.wait_with_output().unwrap()
    };
    assert_eq!(
        o.status.code(),
        Some(1),
        "a rejected line makes the exit status 1"
    );
    let lines: Vec<serde_json::Value> = out(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["source"]["line"], 1);
    assert_eq!(lines[1]["source"]["line"], 5);
    assert_eq!(lines[1]["hits"][0]["matched"], "内*幕*消*息");
    assert!(
        err(&o).contains("line 4: rejected (not_utf8)"),
        "{}",
        err(&o)
    );
}

/// `scan` of JSON told where its people are: the list for what must not
/// leave the company fires for an outside address only, alerts say so; a
/// flag that does not fit the format is refused before anything is read.
#[test]
fn scan_json_says_who_a_message_went_between() {
    let lines = concat!(
        r#"{"from":"li@example.com","to":["buyer@gmail.com"],"text":"发你客户名单"}"#,
        "\n",
        r#"{"from":"li@example.com","to":["wang@sh.example.com"],"text":"发你客户名单"}"#,
        "\n",
        r#"{"text":"发你客户名单"}"#,
        "\n",
    );
    let flags = [
        "scan",
        "--wordlists",
        &bundled(),
        "--input-format",
        "json",
        "--json-from-pointer",
        "/from",
        "--json-to-pointer",
        "/to",
        "--internal-domain",
        "example.com",
    ];
    let o = ww_in(&flags, lines);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let alerts: Vec<serde_json::Value> = out(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let said: Vec<(u64, Option<&str>)> = alerts
        .iter()
        .map(|a| {
            (
                a["source"]["line"].as_u64().unwrap(),
                a["audience"].as_str(),
            )
        })
        .collect();
    assert_eq!(said, vec![(1, Some("external")), (3, None)]);
    assert_eq!(alerts[0]["source"]["tolist"][0], "buyer@gmail.com");
    let o = ww_in(&flags[..9], lines);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(
        out(&o).lines().count(),
        3,
        "without internal domains every address is outside"
    );
    let o = ww_in(
        &[
            "scan",
            "--wordlists",
            &bundled(),
            "--json-to-pointer",
            "/to",
        ],
        lines,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("for `json` input"), "{}", err(&o));
}

/// `scan` of a rich-text JSON export: the pointer names the post, every
/// string in it is scanned and each hit names its own place.
#[test]
fn scan_json_reads_every_string_of_a_rich_post() {
    let post = r#"{"message_id":"om_1","content":{"title":"周报","post":[[{"tag":"text","text":"有内*幕*消*息"},{"tag":"at","user_id":"ou_13812345678"}]]}}"#;
    let o = scan_json("/content", &format!("{post}\n"));
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let alert: serde_json::Value = serde_json::from_str(out(&o).trim()).unwrap();
    let places: Vec<&str> = alert["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["field"].as_str().unwrap())
        .collect();
    // (the user id holding digits is not text: no phone number there)
    assert_eq!(places, ["/content/post/0/0/text"]);
    assert_eq!(alert["source"]["message_id"], "om_1");
}

/// `scan` judges lines on several threads and writes them in input order,
/// across batches, alerts and rejections alike.
#[test]
fn scan_on_threads_keeps_the_input_order() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("lines.txt");
    let mut f = std::fs::File::create(&input).unwrap();
    for i in 0..10_000 {
        match i % 7 {
            0 => writeln!(f, "{i} 把客户名单发我").unwrap(),
            3 => f.write_all(b"\xff bad\n").unwrap(),
            5 => writeln!(f, "{i} 内*幕*消*息").unwrap(),
            _ => writeln!(f, "{i} 今天开会").unwrap(),
        }
    }
    drop(f);
    let scan = |threads: &str| {
        ww(&[
            "scan",
            "--wordlists",
            &bundled(),
            "--threads",
            threads,
            input.to_str().unwrap(),
        ])
    };
    let one = scan("1");
    let three = scan("3");
    assert_eq!(one.status.code(), Some(1), "rejected lines make it 1");
    assert_eq!(three.status.code(), Some(1));
    assert_eq!(out(&one), out(&three));
    assert_eq!(err(&one), err(&three));
    let lines: Vec<u64> = out(&three)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["source"]["line"]
                .as_u64()
                .unwrap()
        })
        .collect();
    let alerting = (0..10_000).filter(|i| i % 7 == 0 || i % 7 == 5).count();
    assert_eq!(lines.len(), alerting);
    assert!(lines.windows(2).all(|w| w[0] < w[1]), "in input order");
    let bad = (0..10_000).filter(|i| i % 7 == 3).count();
    assert_eq!(err(&three).lines().count(), bad);
}

/// A term a sender split across short messages (`内`, `幕`, `消 息`) is
/// found in an archive however its lines fall into the threads' batches,
/// named on the message that completes it with the ones before; the same
/// run from other senders, or `--no-split`, alerts nothing.
#[test]
fn scan_finds_terms_split_across_messages() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("archive.jsonl");
    let mut f = std::fs::File::create(&input).unwrap();
    let record = |id: usize, from: &str, secs: u64, text: &str| {
        serde_json::json!({"msgid": format!("m{id}"), "from": from, "tolist": ["wmExternal1"],
            "roomid": "", "msgtime": 1_764_000_000_000u64 + secs * 1000, "msgtype": "text",
            "text": {"content": text}})
    };
    // li's fragments fall in three batches of 512 lines; others talk between
    let li = [(500, "内"), (600, "幕"), (1100, "消 息")];
    for i in 0..1500 {
        let rec = match li.iter().find(|(at, _)| *at == i) {
            Some((_, text)) => record(i, "li", i as u64 / 100, text),
            None if i % 3 == 0 => {
                record(i, "zhao", i as u64 / 100, ["内", "幕", "消息"][i % 9 / 3])
            }
            None => record(i, "wang", i as u64 / 100, "今天下午三点开会讨论一下方案"),
        };
        writeln!(f, "{rec}").unwrap();
    }
    drop(f);
    let scan = |extra: &[&str]| {
        let mut args = vec![
            "scan",
            "--wordlists",
            &*Box::leak(bundled().into_boxed_str()),
            "--input-format",
            "wecom",
        ];
        args.extend_from_slice(extra);
        if !extra.contains(&"--threads") {
            args.extend(["--threads", "2"]);
        }
        args.push(input.to_str().unwrap());
        let o = ww(&args);
        assert_eq!(o.status.code(), Some(0), "{}", err(&o));
        out(&o)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .collect::<Vec<_>>()
    };
    let alerts = scan(&[]);
    // zhao's runs too, each time they complete the term (but the one li
    // broke at line 600), and not across the two senders
    let zhao = (0..1500).filter(|i| i % 9 == 6 && *i != 600).count();
    assert_eq!(alerts.len(), zhao + 1);
    let from = |who: &'static str| -> Vec<&serde_json::Value> {
        alerts
            .iter()
            .filter(|a| a["source"]["from"] == who)
            .collect()
    };
    assert_eq!(from("zhao").len(), zhao);
    let li = from("li");
    assert_eq!(li.len(), 1, "{li:?}");
    let alert = li[0];
    assert_eq!(alert["source"]["msgid"], "m1100");
    assert_eq!(alert["split_from"], serde_json::json!(["m500", "m600"]));
    assert_eq!(alert["hits"][0]["term"], "内幕消息");
    assert_eq!(alert["hits"][0]["field"], "#split");
    assert_eq!(alert["hits"][0]["matched"], "内幕消 息");
    assert_eq!(
        alert["hits"][0]["evasions"],
        serde_json::json!(["separators", "split_messages"])
    );
    assert_eq!(scan(&["--evasive"]), alerts);
    assert_eq!(scan(&["--threads", "1"]), alerts);
    assert!(scan(&["--no-split"]).is_empty());
}

/// A stream (`tail -f chat.log | wordwarden scan`) is judged as it comes:
/// each alert is written while the input is still open, not once a batch
/// or the output's buffer fills.
#[test]
fn scan_judges_a_stream_as_it_comes() {
    use std::io::{BufRead, Write};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_wordwarden"))
        .args(["scan", "--wordlists", &bundled()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines_tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let next_alert = || {
        let line = lines
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("an alert while the input is still open");
        serde_json::from_str::<serde_json::Value>(&line).unwrap()["source"]["line"].clone()
    };
    writeln!(stdin, "我有内*幕*消*息").unwrap();
    stdin.flush().unwrap();
    assert_eq!(next_alert(), 1);
    writeln!(stdin, "今天开会").unwrap();
    writeln!(stdin, "加我私人微信 13812345678").unwrap();
    stdin.flush().unwrap();
    assert_eq!(next_alert(), 3);
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

/// A reader that goes away (`scan … | head -1`) stops the scan with an
/// error instead of leaving it judging the rest of the file or waiting for
/// room forever: the reading thread waits on the writer, which has gone.
#[test]
fn scan_stops_when_its_output_is_closed() {
    use std::io::{BufRead, Write};
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("lines.txt");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&input).unwrap());
    for i in 0..200_000 {
        writeln!(f, "{i} 内*幕*消*息").unwrap();
    }
    drop(f);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_wordwarden"))
        .args(["scan", "--wordlists", &bundled(), "--threads", "2"])
        .arg(&input)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains("\"line\":1"), "{first}");
    // the pipe's read end is closed here
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("scan went on after its output was closed");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("Broken pipe"), "{stderr}");
}

/// An offline review: `scan` an archive export, `report --input` its
/// alerts, by when the messages were written.
/// A number with no word naming it near is of medium confidence: `scan`
/// says so on its hit, `--min-confidence high` leaves out the alerts
/// resting only on such, `report` counts alerts by confidence and
/// `explain` says what each rests on.
#[test]
fn numbers_alone_are_of_medium_confidence() {
    let lines = "明天发你 4111111111111111 谢谢\n\
                 我的卡号 4111111111111111\n\
                 客户名单在这，明天发你 4111111111111111\n";
    let scanned = ww_in(&["scan", "--wordlists", &bundled()], lines);
    assert!(scanned.status.success(), "{}", err(&scanned));
    let grades: Vec<Vec<(String, Option<String>)>> = out(&scanned)
        .lines()
        .map(|l| {
            let alert: serde_json::Value = serde_json::from_str(l).unwrap();
            (alert["hits"].as_array().unwrap().iter())
                .map(|h| {
                    let term = h["term"].as_str().unwrap().to_string();
                    (term, h["confidence"].as_str().map(String::from))
                })
                .collect()
        })
        .collect();
    let hit = |term: &str, c: Option<&str>| (term.to_string(), c.map(String::from));
    assert_eq!(
        grades,
        [
            vec![hit("@bank_card", Some("medium"))],
            vec![hit("@bank_card", Some("high"))],
            vec![hit("客户名单", None), hit("@bank_card", Some("medium"))],
        ]
    );
    let sure = ww_in(
        &[
            "scan",
            "--wordlists",
            &bundled(),
            "--min-confidence",
            "high",
        ],
        lines,
    );
    let lines_kept: Vec<u64> = out(&sure)
        .lines()
        .map(|l| {
            let alert: serde_json::Value = serde_json::from_str(l).unwrap();
            alert["source"]["line"].as_u64().unwrap()
        })
        .collect();
    assert_eq!(lines_kept, [2, 3]);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("alerts.jsonl");
    std::fs::write(&file, out(&scanned)).unwrap();
    let report = ww(&["report", "--input", file.to_str().unwrap(), "--json"]);
    let report: serde_json::Value = serde_json::from_str(&out(&report)).unwrap();
    assert_eq!(
        report["by_confidence"],
        serde_json::json!({"medium": 1, "high": 2})
    );

    let explained = ww(&[
        "explain",
        "--wordlists",
        &bundled(),
        "明天发你 4111111111111111，手机 13812345678",
    ]);
    let text = out(&explained);
    assert!(
        text.contains("@bank_card \"4111111111111111\"  written as the rule is\n      confidence: medium (no word naming it within 20 characters"),
        "{text}"
    );
    assert!(
        text.contains("      confidence: high (\"手机\" within 20 characters)"),
        "{text}"
    );
    // a word naming the rule's second number, far from its first
    let far = "，".repeat(20);
    let explained = ww(&[
        "explain",
        "--wordlists",
        &bundled(),
        &format!("13812345678 给他{far}我的电话 13912345678"),
    ]);
    let text = out(&explained);
    assert!(
        text.contains(
            "      confidence: high (\"电话\" within 20 characters of another of its places)"
        ),
        "{text}"
    );
}

/// A list that names `@cn_landline` finds landlines, masks them keeping
/// their area code and counts a roster of them for its bulk threshold;
/// the bundled lists do not name it.
#[test]
fn landlines_where_a_list_names_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("phones.txt"),
        "#! severity: medium\n#! bulk: 3 critical\n@cn_landline\n",
    )
    .unwrap();
    let lists = dir.path().to_str().unwrap();
    let lines = "座机 010-62345678\n\
                 客户座机：010-62345678 021-62345678 0755-2234567\n\
                 编号 02162345678\n";
    let o = ww_in(&["scan", "--wordlists", lists, "--context", "40"], lines);
    assert!(o.status.success(), "{}", err(&o));
    let alerts: Vec<serde_json::Value> = out(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary: Vec<(u64, &str, &str)> = alerts
        .iter()
        .map(|a| {
            (
                a["source"]["line"].as_u64().unwrap(),
                a["severity"].as_str().unwrap(),
                a["hits"][0]["matched"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (1, "medium", "010-****5678"),
            (2, "critical", "010-****5678")
        ]
    );
    assert_eq!(alerts[1]["bulk"][0]["values"], 3);
    assert_eq!(
        alerts[1]["snippet"],
        "客户座机：010-****5678 021-****5678 0755-***4567"
    );
    let bundled = ww_in(&["scan", "--wordlists", &bundled()], lines);
    assert_eq!(out(&bundled), "");
}

/// The bundled lists find a mobile after another country's calling code
/// (and no mainland mobile in a US number), mask it keeping the code, and
/// count one number written two ways once; a foreign landline alerts only
/// where a list names `@intl_landline`, but is masked either way; `explain`
/// says why digits after a code are no number.
#[test]
fn numbers_after_another_countrys_calling_code() {
    let lines = "客户的 WhatsApp +852 9123 4567
                 美国客户 +1 415 555 2671
                 香港办公室 +852 2123 4567
                 我的香港手机 9123 4567，WhatsApp 也是
                 HKD 91234567 电话
";
    let o = ww_in(&["scan", "--wordlists", &bundled()], lines);
    assert!(o.status.success(), "{}", err(&o));
    let alerts: Vec<serde_json::Value> = out(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let hits: Vec<(u64, &str, &str, &str)> = (alerts.iter())
        .flat_map(|a| {
            let line = a["source"]["line"].as_u64().unwrap();
            (a["hits"].as_array().unwrap().iter()).map(move |h| {
                (
                    line,
                    h["term"].as_str().unwrap(),
                    h["matched"].as_str().unwrap(),
                    h["confidence"].as_str().unwrap_or(""),
                )
            })
        })
        .filter(|h| h.1.starts_with('@'))
        .collect();
    assert_eq!(
        hits,
        [
            (1, "@intl_mobile", "+852 **** 4567", "high"),
            (2, "@intl_mobile", "+1 *** *** 2671", "high"),
            (4, "@intl_mobile", "**** 4567", "high")
        ]
    );
    for (alert, masked) in [
        (&alerts[0], "+852 **** 4567"),
        (&alerts[2], "香港手机 **** 4567"),
    ] {
        assert!(
            (alert["snippet"].as_str()).is_some_and(|s| s.contains(masked)),
            "{alert}"
        );
    }

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("phones.txt"),
        "#! bulk: 2 critical
@intl_mobile
@intl_landline
",
    )
    .unwrap();
    let lists = dir.path().to_str().unwrap();
    let o = ww_in(
        &["scan", "--wordlists", lists],
        "香港办公室 +852 2123 4567
         +852 9123 4567 即 00852-9123-4567
         +852 9123 4567 和 +852 9876 5432
",
    );
    let alerts: Vec<serde_json::Value> = out(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary: Vec<(&str, &str)> = (alerts.iter())
        .map(|a| {
            (
                a["severity"].as_str().unwrap(),
                a["hits"][0]["term"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("medium", "@intl_landline"),
            ("medium", "@intl_mobile"),
            ("critical", "@intl_mobile")
        ]
    );

    let o = ww(&["explain", "--wordlists", &bundled(), "编号 +852 1234 5678"]);
    assert!(
        out(&o).contains("after the calling code +852, but no number its country issues"),
        "{}",
        out(&o)
    );
    let o = ww(&["explain", "--wordlists", &bundled(), "我的手机 9123 4567"]);
    assert!(
        out(&o).contains("only where its place is named within 20 characters"),
        "{}",
        out(&o)
    );
}

#[test]
fn report_sums_up_the_alerts_of_a_scanned_export() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/demo/wecom-sample.jsonl");
    let scanned = ww(&[
        "scan",
        "--wordlists",
        &bundled(),
        "--input-format",
        "wecom",
        sample.to_str().unwrap(),
    ]);
    let alerts: Vec<serde_json::Value> = out(&scanned)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("alerts.jsonl");
    // one alert twice, as a rerun would append it
    std::fs::write(&file, format!("{}{}\n", out(&scanned), alerts[0])).unwrap();
    let report = |extra: &[&str]| {
        let mut args = vec!["report", "--input", file.to_str().unwrap(), "--json"];
        args.extend_from_slice(extra);
        let o = ww(&args);
        assert!(o.status.success(), "{}", err(&o));
        serde_json::from_str::<serde_json::Value>(&out(&o)).unwrap()
    };
    let r = report(&[]);
    // the alert on a recall counted apart: the rest are the report's
    let withdrawals = alerts
        .iter()
        .filter(|a| a.get("withdrawn").is_some())
        .count();
    assert_eq!(withdrawals, 1);
    assert_eq!(
        (
            r["alerts"].clone(),
            r["duplicates"].clone(),
            r["withdrawn"].clone()
        ),
        ((alerts.len() - 1).into(), 1.into(), 1.into())
    );
    let alerts: Vec<serde_json::Value> = alerts
        .into_iter()
        .filter(|a| a.get("withdrawn").is_none())
        .collect();
    assert_eq!(r["by_audience"]["external"], 18);
    // the term at the sample's end sent a character a message; the client
    // list in a link's escaped file name
    assert_eq!(r["by_evasion"]["split_messages"], 1);
    assert_eq!(r["by_evasion"]["url_encoded"], 1);
    // the customer rosters sent outside, at once and a few numbers a
    // message, hold the personal-data list's values in bulk (`#! bulk: 10
    // critical within 1h`)
    assert_eq!(r["by_bulk"], serde_json::json!({"personal/pii": 2}));
    let roster = report(&["--bulk"]);
    assert_eq!(
        (&roster["alerts"], &roster["by_severity"]),
        (&2.into(), &serde_json::json!({"critical": 2}))
    );
    assert_eq!(r["first_message_at"], "2024-11-25T02:06:47Z");
    // the messages written before 02:20 only
    let cut = 1_732_501_200_000u64; // 2024-11-25T02:20:00Z
    let before = alerts
        .iter()
        .filter(|a| a["source"]["msgtime"].as_u64().is_some_and(|t| t < cut))
        .count();
    assert!(before > 0 && before < alerts.len());
    let r = report(&["--until", "2024-11-25T02:20:00Z"]);
    assert_eq!(r["alerts"], before);
    let r = report(&["--since", "2024-11-25T02:20:00Z", "--external"]);
    let external_after = alerts
        .iter()
        .filter(|a| a["audience"] == "external")
        .filter(|a| a["source"]["msgtime"].as_u64().is_some_and(|t| t >= cut))
        .count();
    assert_eq!(r["alerts"], external_after);
    // one person's alerts, one group chat's
    let count =
        |keep: &dyn Fn(&serde_json::Value) -> bool| alerts.iter().filter(|a| keep(a)).count();
    let sender = alerts[0]["source"]["from"].as_str().unwrap();
    let sent = count(&|a| a["source"]["from"] == sender);
    let involved = count(&|a| {
        a["source"]["from"] == sender
            || a["source"]["tolist"]
                .as_array()
                .is_some_and(|to| to.iter().any(|t| t == sender))
    });
    assert!(
        0 < sent && sent < involved && involved < alerts.len(),
        "{sent} {involved}"
    );
    assert_eq!(report(&["--sender", sender])["alerts"], sent);
    assert_eq!(report(&["--participant", sender])["alerts"], involved);
    let room = alerts
        .iter()
        .find_map(|a| a["source"]["roomid"].as_str().filter(|r| !r.is_empty()))
        .unwrap();
    let in_room = count(&|a| a["source"]["roomid"] == room);
    assert!(0 < in_room && in_room < alerts.len());
    assert_eq!(report(&["--room", room])["alerts"], in_room);
    // from stdin
    let o = ww_in(&["report", "--input", "-", "--json"], &out(&scanned));
    let r: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(r["alerts"], alerts.len());
    // a feed to read from is needed
    let o = ww(&["report"]);
    assert!(
        !o.status.success() && err(&o).contains("--brokers, or --input"),
        "{}",
        err(&o)
    );
    assert!(!ww(&["tail"]).status.success());
}

/// Personal data is masked wherever an alert quotes the message, whether or
/// not the lists enable its detector; `--no-mask` quotes it as written.
/// Credentials stay masked either way.
#[test]
fn scan_masks_personal_data_unless_told_not_to() {
    let line = "把客户名单发到zhangwei@example.com，电话138-1234-5678，身份证11010519491231002X，库 mysql://root:Passw0rd!@10.0.3.15/trade\n";
    let o = ww_in(&["scan", "--wordlists", &bundled()], line);
    let alert: serde_json::Value = serde_json::from_str(out(&o).trim()).unwrap();
    let text = alert.to_string();
    for written in ["zhangwei@", "1234-5678", "19491231", "Passw0rd"] {
        assert!(!text.contains(written), "{written} in {text}");
    }
    let snippet = alert["snippet"].as_str().unwrap();
    assert!(snippet.contains("z*******@example.com"), "{snippet}");
    assert!(snippet.contains("138-****-5678"), "{snippet}");
    let matched: Vec<&str> = alert["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["matched"].as_str().unwrap())
        .collect();
    assert!(matched.contains(&"138-****-5678"), "{matched:?}");
    assert!(matched.contains(&"110***********002X"), "{matched:?}");
    assert!(
        matched.contains(&"mysql://root:*********@10.0.3.15"),
        "{matched:?}"
    );
    let o = ww_in(&["scan", "--wordlists", &bundled(), "--no-mask"], line);
    let text = out(&o);
    assert!(
        text.contains("138-1234-5678") && text.contains("zhangwei@example.com"),
        "{text}"
    );
    assert!(
        text.contains("mysql://root:*********@10.0.3.15") && !text.contains("Passw0rd"),
        "{text}"
    );
}

#[test]
fn scan_json_and_wecom_formats() {
    let o = scan_json(
        "/body",
        "{\"body\": \"把客户名单发我\", \"id\": \"m-1\"}\n{\"nobody\": 1}\n",
    );
    assert_eq!(o.status.code(), Some(1));
    let a: serde_json::Value = serde_json::from_str(out(&o).lines().next().unwrap()).unwrap();
    assert_eq!(a["hits"][0]["field"], "/body");
    assert_eq!(a["source"]["id"], "m-1");
    assert!(err(&o).contains("line 2: rejected (no_text)"));

    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/demo/wecom-sample.jsonl");
    let lists = bundled();
    let scan_sample = |extra: &[&str]| {
        let mut args = vec!["scan", "--wordlists", &lists, "--input-format", "wecom"];
        args.extend_from_slice(extra);
        args.push(sample.to_str().unwrap());
        ww(&args)
    };
    let o = scan_sample(&[]);
    // 35 messages, and a recall of one of them
    assert_eq!(out(&o).lines().count(), 36);
    let recall = out(&o)
        .lines()
        .find(|l| l.contains("\"withdrawn\""))
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .expect("an alert on the recall");
    assert_eq!(
        recall["withdrawn"]["msgid"],
        "7983392519337473236_1732500017"
    );
    assert!(
        err(&o).contains("unreadable field /mixed/item/0/content"),
        "{}",
        err(&o)
    );
    assert!(
        err(&o)
            .contains("records without text: emotion=1 image=1 revoke=1 switch=1 video=1 voice=1"),
        "{}",
        err(&o)
    );
    // only the messages where someone wrote around the lists
    let o = scan_sample(&["--evasive"]);
    let evasive: Vec<serde_json::Value> = out(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(evasive.len(), 12);
    for a in &evasive {
        let hits = a["hits"].as_array().unwrap();
        assert!(hits.iter().any(|h| h.get("evasions").is_some()), "{a}");
    }
    // only the messages holding a list's values in bulk: the roster in
    // one message, and the one sent over three (read in order, whatever
    // the threads)
    for threads in ["1", "2"] {
        let o = scan_sample(&["--bulk", "--threads", threads]);
        let rosters: Vec<serde_json::Value> = out(&o)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let ids: Vec<&str> = rosters
            .iter()
            .map(|a| a["source"]["msgid"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(
            ids,
            [
                "5120398476512093843_1732500062",
                "6117204958336120475_1732502500"
            ],
            "{rosters:?}"
        );
        assert_eq!(rosters[1]["bulk"][0]["values"], 12);
        assert_eq!(
            rosters[0]["bulk"][0],
            serde_json::json!({"category": "personal/pii", "values": 10, "at_least": 10,
                "severity": "critical", "within_secs": 3600,
                "earlier_messages": ["5120398476512093841_1732500060", "5120398476512093842_1732500061"]})
        );
    }
    // judged alone, the last part of that roster is not in bulk
    let o = scan_sample(&["--bulk", "--no-split"]);
    assert_eq!(
        out(&o).lines().count(),
        2,
        "--no-split leaves bulk over time on"
    );
}

#[test]
fn lint_exit_status_and_corpus_suggestions() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), "#! severity: urgent\n开会\n").unwrap();
    let o = ww(&["lint", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        out(&o).contains("a.txt:1: error[bad-directive]"),
        "{}",
        out(&o)
    );

    std::fs::write(dir.path().join("a.txt"), "开会\n").unwrap();
    let corpus = dir.path().join("corpus.txt");
    std::fs::write(&corpus, "明天开会\n开会吗\n你好\n").unwrap();
    let o = ww(&[
        "lint",
        dir.path().to_str().unwrap(),
        "--corpus",
        corpus.to_str().unwrap(),
        "--max-percent",
        "10",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(out(&o).contains("warning[noisy-term]"), "{}", out(&o));
}

#[test]
fn explain_shows_folding_and_verdicts() {
    let lists = bundled();
    let explain = |text: &str| {
        let o = ww(&["explain", "--wordlists", &lists, text]);
        assert!(o.status.success(), "{}", err(&o));
        out(&o)
    };
    let s = explain("內*幕 消息 特色情景 卡号4111111111111112");
    assert!(
        s.contains("fully folded       \"内幕消息特色情景卡号4111111111111112\""),
        "{s}"
    );
    assert!(s.contains("KEPT"), "{s}");
    assert!(
        s.contains("dropped: inside allow phrase conduct/harassment.txt:"),
        "{s}"
    );
    assert!(s.contains("Luhn checksum fails"), "{s}");
    assert!(
        !s.contains("symbols as letters") && !s.contains("link decoded"),
        "{s}"
    );
    // a link's escaped words: the reading, and the hit quoting the escapes
    let s = explain("看 s?wd=%E5%86%85%E5%B9%95%E6%B6%88%E6%81%AF");
    assert!(s.contains("link decoded       \"看 s?wd=内幕消息\""), "{s}");
    assert!(
        s.contains("内幕消息 \"%E5%86%85%E5%B9%95%E6%B6%88%E6%81%AF\"  evasions: url_encoded"),
        "{s}"
    );
    // a token that nearly is one says why it is none
    let s = explain(
        "token ghp_Ky8Pf34qY6Nb3wWD25RQ4F5ZR3qa7y3gm1IL 和 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",
    );
    assert!(
        s.contains("@api_token\n            dropped: its last six characters are not the CRC-32"),
        "{s}"
    );
    assert!(
        s.contains("1 hit(s)") && s.contains("@api_token \"ghp_Ky9P"),
        "{s}"
    );
    // a word with symbols for letters shows that reading, and its hit says so
    let s = explain("c0nf!dent!al");
    assert!(s.contains("symbols as letters \"c0nfidential\""), "{s}");
    assert!(
        s.contains("evasions: digits_for_letters, symbols_for_letters"),
        "{s}"
    );
    // a list for conversations with outsiders, asked about one among colleagues
    let audience = |a: &str| {
        out(&ww(&[
            "explain",
            "--wordlists",
            &bundled(),
            "--audience",
            a,
            "把客户名单发给你",
        ]))
    };
    let s = audience("internal");
    assert!(
        s.contains("dropped: the list watches conversations with someone outside the company, this one is internal"),
        "{s}"
    );
    assert!(!s.contains("KEPT"), "{s}");
    let s = audience("external");
    assert!(
        s.contains("KEPT") && !s.contains("dropped: the list"),
        "{s}"
    );
    assert!(!ww(&[
        "explain",
        "--wordlists",
        &bundled(),
        "--audience",
        "outside",
        "x"
    ])
    .status
    .success());
}

/// `explain --record -` of WeCom `records` (one a line), with `lists`.
fn explain_wecom_records(lists: &str, records: &str) -> std::process::Output {
    let args = ["explain", "--wordlists", lists, "--input-format", "wecom"];
    ww_in(&[&args[..], &["--record", "-"]].concat(), records)
}

/// `explain --record` of a WeCom recall: after the message it withdraws,
/// which alerted, it says the recall alerts and names that alert; after a
/// message that did not alert, that it does not; alone, what it needs.
#[test]
fn explain_a_withdrawal() {
    let sent = r#"{"msgid":"m1","from":"li","tolist":["wang"],"msgtime":1764000000000,"msgtype":"text","text":{"content":"有内幕消息"}}"#;
    let quiet = r#"{"msgid":"m1","from":"li","tolist":["wang"],"msgtime":1764000000000,"msgtype":"text","text":{"content":"明天见"}}"#;
    let revoke = r#"{"msgid":"m2","from":"li","tolist":["wang"],"msgtime":1764000030000,"msgtype":"revoke","revoke":{"pre_msgid":"m1"}}"#;
    let lists = bundled();
    let explain = |records: &str| {
        let o = explain_wecom_records(&lists, records);
        assert!(o.status.success(), "{}", err(&o));
        out(&o)
    };
    let s = explain(&format!("{sent}\n{revoke}\n"));
    assert!(
        s.contains("withdrawal: its sender withdraws message m1, which alerted (内幕消息, alert ")
            && s.contains("this record alerts at critical with its hits"),
        "{s}"
    );
    // a group's owner recalling a member's message
    let by_owner = revoke.replace(r#""from":"li""#, r#""from":"zhang""#);
    let s = explain(&format!("{sent}\n{by_owner}\n"));
    assert!(
        s.contains("withdrawal: zhang (not its sender, li) withdraws message m1, which alerted"),
        "{s}"
    );
    let s = explain(&format!("{quiet}\n{revoke}\n"));
    assert!(
        s.contains(
            "withdraws a message that did not alert among the 1 earlier record(s): no alert"
        ),
        "{s}"
    );
    let s = explain(&format!("{revoke}\n"));
    assert!(
        s.contains("withdrawal: its sender withdraws message m1; the record alerts where that message alerted"),
        "{s}"
    );
}

/// `explain --record`: one message of the input format, every text field
/// under its pointer, the audience its ids give; a record the engine would
/// dead-letter says so.
#[test]
fn explain_a_whole_record() {
    let among_colleagues = r#"{"msgid":"m1","from":"lina","tolist":["wang"],"msgtype":"link","link":{"title":"客户名单","description":"内 幕 消 息"}}"#;
    let explain = |flags: &[&str], record: &str| {
        let mut args = vec!["explain", "--wordlists"];
        let lists = bundled();
        args.push(&lists);
        args.extend_from_slice(flags);
        args.extend_from_slice(&["--record", "-"]);
        ww_in(&args, &format!("{record}\n"))
    };
    let o = explain(&["--input-format", "wecom"], among_colleagues);
    assert!(o.status.success(), "{}", err(&o));
    let s = out(&o);
    assert!(
        s.contains("2 text field(s), audience internal (from its ids)"),
        "{s}"
    );
    assert!(
        s.contains("field /link/title") && s.contains("field /link/description"),
        "{s}"
    );
    assert!(s.contains("/link/title   0..12  \"客户名单\""), "{s}");
    assert!(s.contains("this one is internal"), "{s}");
    assert!(
        s.contains("/link/description 内幕消息 \"内 幕 消 息\"  evasions: separators"),
        "{s}"
    );
    // asked as if an outsider took part
    let s = out(&explain(
        &["--input-format", "wecom", "--audience", "external"],
        among_colleagues,
    ));
    assert!(
        s.contains("audience external (as asked)") && s.contains("2 hit(s)"),
        "{s}"
    );
    // JSON told where its people are
    let json = r#"{"from":"li@example.com","to":"buyer@gmail.com","text":"客户名单"}"#;
    let s = out(&explain(
        &[
            "--input-format",
            "json",
            "--json-to-pointer",
            "/to",
            "--internal-domain",
            "example.com",
        ],
        json,
    ));
    assert!(
        s.contains("1 text field(s), audience external (from its sender and recipients)"),
        "{s}"
    );
    // several such records without a sender pointer: nothing remembered
    let s = out(&explain(
        &["--input-format", "json", "--json-pointer", "/text"],
        &[json, json].join("\n"),
    ));
    assert!(
        s.contains("earlier records: this input names no sender, so none is remembered"),
        "{s}"
    );
    // several records: the last, sent after the others, with what crosses
    // into it from its sender's short messages
    let said = |id: &str, secs: u64, text: &str| {
        serde_json::json!({"msgid": id, "from": "li", "tolist": ["wmExternal1"],
            "msgtime": 1_764_000_000_000u64 + secs * 1000, "msgtype": "text",
            "text": {"content": text}})
        .to_string()
    };
    let run = [
        said("m1", 0, "内"),
        said("m2", 2, "幕"),
        said("m3", 4, "消息"),
    ]
    .join("\n");
    let o = explain(&["--input-format", "wecom"], &run);
    assert!(o.status.success(), "{}", err(&o));
    let s = out(&o);
    assert!(s.contains("1 text field(s)"), "{s}");
    assert!(
        s.contains("split across messages: 内幕消息 «内幕消息» crosses into this message from m1, m2: reported on it, evasions: split_messages"),
        "{s}"
    );
    let paused = [
        said("m1", 0, "内"),
        said("m2", 2, "幕"),
        said("m3", 90, "消息"),
    ]
    .join("\n");
    let s = out(&explain(&["--input-format", "wecom"], &paused));
    assert!(
        s.contains("split across messages: after 2 earlier message(s), none crosses into it"),
        "{s}"
    );
    // a roster sent a few numbers a message: the last reaches the
    // personal-data list's threshold (`within 1h`) with the two before
    let roster = |last_secs: u64| {
        [
            said("m1", 0, "13812340001 13912340002 13712340003 13612340004"),
            said("m2", 60, "13512340005 13312340006 18612340007"),
            said("m3", last_secs, "18812340008 15012340009 15112340010"),
        ]
        .join("\n")
    };
    let s = out(&explain(&["--input-format", "wecom"], &roster(120)));
    for line in [
        "bulk: 3 distinct value(s) of personal/pii, fewer than 10 (`#! bulk: 10 critical within 1h`)",
        "the sender's earlier values in the same conversation count too",
        "bulk over time: 10 distinct values of personal/pii with the sender's earlier messages \
         in this conversation (m1, m2), 10 or more: its hits are critical",
    ] {
        assert!(s.contains(line), "{line:?} missing:\n{s}");
    }
    let s = out(&explain(&["--input-format", "wecom"], &roster(3_650)));
    assert!(
        s.contains(
            "bulk over time: 6 distinct values of personal/pii with the sender's earlier \
             messages in this conversation (m2), fewer than 10"
        ),
        "an hour later, m1's are out of time:\n{s}"
    );
    // one record printed over lines is one record
    let pretty = serde_json::to_string_pretty(
        &serde_json::from_str::<serde_json::Value>(among_colleagues).unwrap(),
    )
    .unwrap();
    let s = out(&explain(&["--input-format", "wecom"], &pretty));
    assert!(
        s.contains("2 text field(s)") && !s.contains("split across"),
        "{s}"
    );
    let o = explain(&["--input-format", "wecom"], "{not json");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        out(&o).contains("not judged: the engine dead-letters it with reason not_json"),
        "{}",
        out(&o)
    );
    // a text or a record, not both; --at needs brokers
    assert!(
        !ww(&["explain", "--wordlists", &bundled(), "--record", "-", "x"])
            .status
            .success()
    );
    assert!(
        !ww(&["explain", "--wordlists", &bundled(), "--at", "t/0/1"])
            .status
            .success()
    );
}

/// An information barrier from the maintainer's side: people groups and a
/// list between them, tested with `.cases`, linted (a misspelt group is an
/// error at its line), scanned over WeCom records, explained for a text
/// with its people, and diffed when a group's members change.
#[test]
fn people_groups_and_a_list_between_them() {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "people/ibd.people",
        "# investment banking\nzhangwei\nqianli\n",
    );
    write("people/research.people", "lina\n");
    write(
        "finance/barrier.txt",
        "#! severity: high\n#! people: between people/ibd people/research\n停牌\n下调评级\n",
    );
    // the compliance team's work is to discuss insider dealing
    write("people/compliance.people", "zhaoliu\n");
    write(
        "finance/insider.txt",
        "#! people: not sender people/compliance\n内幕消息\n",
    );
    write(
        "finance/barrier.cases",
        "+[停牌] (from:zhangwei to:lina) 下周停牌\n- (from:zhangwei to:qianli) 下周停牌\n\
         + (from:LiNa to:wangfang,QianLi) 要下调评级了\n",
    );
    let lists = dir.path().to_str().unwrap().to_string();
    let o = ww(&["test", &lists]);
    assert!(o.status.success(), "{}{}", out(&o), err(&o));
    assert!(out(&o).contains("3 passed"), "{}", out(&o));
    let o = ww(&["lint", &lists]);
    assert!(o.status.success(), "{}{}", out(&o), err(&o));
    assert!(
        err(&o).contains("2 files, 3 people groups, 0 error(s), 0 warning(s)"),
        "{}",
        err(&o)
    );
    // export: each list's scope, each group's size and never its ids
    let o = ww(&["export", &lists]);
    let exported: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(
        exported["stats"]["people_groups"],
        serde_json::json!({"people/compliance": 1, "people/ibd": 2, "people/research": 1})
    );
    assert_eq!(
        exported["lists"][0]["people"],
        "between people/ibd people/research"
    );
    assert!(!out(&o).contains("zhangwei"), "{}", out(&o));

    // WeCom records: across the wall, within one side, no group at all;
    // insider dealing discussed by compliance, and by someone else
    let record = |id: &str, from: &str, to: &str, text: &str| {
        format!(
            r#"{{"msgid":"{id}","from":"{from}","tolist":["{to}"],"msgtype":"text","text":{{"content":"{text}"}}}}"#
        )
    };
    let records = [
        record("across", "zhangwei", "lina", "下周停牌"),
        record("back", "lina", "qianli", "下周停牌"),
        record("within", "zhangwei", "qianli", "下周停牌"),
        record("elsewhere", "wangfang", "zhaoliu", "下周停牌"),
        record("compliance", "zhaoliu", "wangfang", "内幕消息的培训"),
        record("tip", "wangfang", "zhaoliu", "有内幕消息"),
    ]
    .join("\n");
    let o = ww_in(
        &["scan", "--wordlists", &lists, "--input-format", "wecom"],
        &records,
    );
    assert!(o.status.success(), "{}", err(&o));
    let alerted: Vec<String> = out(&o)
        .lines()
        .map(|l| {
            let a: serde_json::Value = serde_json::from_str(l).unwrap();
            a["source"]["msgid"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(alerted, ["across", "back", "tip"]);
    let first: serde_json::Value = serde_json::from_str(out(&o).lines().next().unwrap()).unwrap();
    assert_eq!(
        first["groups"],
        serde_json::json!({"sender": ["people/ibd"], "recipients": ["people/research"]})
    );
    // the review counts alerts by group; --group keeps one group's
    let scanned = out(&o);
    let report = |flags: &[&str]| {
        let mut args = vec!["report", "--input", "-", "--json"];
        args.extend_from_slice(flags);
        serde_json::from_str::<serde_json::Value>(&out(&ww_in(&args, &scanned))).unwrap()
    };
    assert_eq!(
        report(&[])["by_group"],
        serde_json::json!({"people/compliance": 1, "people/ibd": 2, "people/research": 2})
    );
    assert_eq!(report(&["--group", "people/research"])["alerts"], 2);
    assert_eq!(report(&["--group", "people/leavers"])["alerts"], 0);

    // explain a text as one person wrote it to another
    let explain = |people: &[&str]| {
        let mut args = vec!["explain", "--wordlists", &lists];
        args.extend_from_slice(people);
        args.push("下周停牌");
        out(&ww(&args))
    };
    let s = explain(&["--sender", "zhangwei", "--recipient", "wangfang"]);
    assert!(
        s.contains("people             sender in people/ibd; recipients in no group"),
        "{s}"
    );
    assert!(
        s.contains("dropped: the list watches the messages of `#! people: between people/ibd people/research`"),
        "{s}"
    );
    let s = explain(&["--sender", "zhangwei", "--recipient", "lina"]);
    assert!(
        s.contains("recipients in people/research") && s.contains("KEPT"),
        "{s}"
    );

    // a group's members change: diff names them
    let old = tempfile::tempdir().unwrap();
    for rel in [
        "people/ibd.people",
        "people/research.people",
        "finance/barrier.txt",
        "finance/insider.txt",
    ] {
        let to = old.path().join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(dir.path().join(rel), to).unwrap();
    }
    write("people/ibd.people", "zhangwei\nzhouqi\n");
    let o = ww(&["diff", old.path().to_str().unwrap(), &lists]);
    let s = out(&o);
    assert!(s.contains("(people people/ibd) +1 -1 ids"), "{s}");
    assert!(s.contains("  + zhouqi") && s.contains("  - qianli"), "{s}");

    // a misspelt group is an error at its line, and the set is not loaded
    write(
        "finance/barrier.txt",
        "#! severity: high\n#! people: between people/ibd people/reserch\n停牌\n",
    );
    let o = ww(&["lint", &lists]);
    assert_eq!(o.status.code(), Some(1));
    let s = out(&o);
    assert!(
        s.contains(
            "finance/barrier.txt:2: error[bad-directive]: no people group \"people/reserch\""
        ),
        "{s}"
    );
    let o = ww_in(&["scan", "--wordlists", &lists], "下周停牌\n");
    assert!(!o.status.success());
}

/// A watch list with dates: explained for a text written inside and
/// outside its window, a WeCom record by its own time, linted once the
/// window has passed, and diffed when its dates change.
#[test]
fn a_list_with_a_window_of_dates() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("deals.txt");
    std::fs::write(
        &list,
        "#! from: 2026-11-01\n#! until: 2099-01-01\n青松计划\n",
    )
    .unwrap();
    let lists = dir.path().to_str().unwrap().to_string();
    let explain = |extra: &[&str]| {
        let mut args = vec!["explain", "--wordlists", &lists];
        args.extend_from_slice(extra);
        out(&ww(&args))
    };
    let s = explain(&["--written", "2026-11-15T09:00:00+08:00", "青松计划"]);
    assert!(
        s.contains("written            2026-11-15T01:00:00Z") && s.contains("KEPT"),
        "{s}"
    );
    let s = explain(&["--written", "2026-10-31", "青松计划"]);
    assert!(
        s.contains("dropped: the list watches messages written from 2026-11-01T00:00:00Z until 2099-01-01T00:00:00Z, not when this one was"),
        "{s}"
    );
    assert!(explain(&["青松计划"]).contains("KEPT"));
    // a record is explained at its own time
    let record = r#"{"msgid":"m1","from":"li","tolist":["wang"],"msgtime":1793404800000,"msgtype":"text","text":{"content":"青松计划"}}"#;
    let s = out(&explain_wecom_records(&lists, record));
    assert!(
        s.contains("written            2026-10-31T00:00:00Z")
            && s.contains("dropped: the list watches messages written"),
        "{s}"
    );
    let o = ww(&["lint", &lists]);
    assert!(
        o.status.success() && !out(&o).contains("list-expired"),
        "{}",
        out(&o)
    );

    // the deal was announced: the window closes, lint says so
    let old = tempfile::tempdir().unwrap();
    std::fs::copy(&list, old.path().join("deals.txt")).unwrap();
    std::fs::write(
        &list,
        "#! from: 2026-11-01\n#! until: 2026-12-01\n青松计划\n",
    )
    .unwrap();
    let o = ww(&["lint", &lists]);
    assert!(
        out(&o).contains(
            "deals.txt: warning[list-expired]: `#! until: 2026-12-01T00:00:00Z` has passed"
        ),
        "{}",
        out(&o)
    );
    let s = out(&ww(&["diff", old.path().to_str().unwrap(), &lists]));
    assert!(
        s.contains("~ written: from 2026-11-01T00:00:00Z until 2099-01-01T00:00:00Z -> from 2026-11-01T00:00:00Z until 2026-12-01T00:00:00Z"),
        "{s}"
    );
}

#[test]
fn diff_lists_and_impact() {
    let old = tempfile::tempdir().unwrap();
    let new = tempfile::tempdir().unwrap();
    std::fs::write(old.path().join("a.txt"), "内幕\n飞单\n").unwrap();
    std::fs::write(new.path().join("a.txt"), "#! severity: high\n内幕\n底价\n").unwrap();
    let corpus = old.path().join("corpus.log");
    std::fs::write(&corpus, "报价底价\n飞单了\n内幕\n无关\n").unwrap();
    let o = ww(&[
        "diff",
        old.path().to_str().unwrap(),
        new.path().to_str().unwrap(),
        "--corpus",
        corpus.to_str().unwrap(),
    ]);
    let s = out(&o);
    assert!(o.status.success(), "{s}{}", err(&o));
    assert!(s.contains("[a] +1 -1"), "{s}");
    assert!(s.contains("~ severity: medium -> high"), "{s}");
    assert!(s.contains("+ 底价") && s.contains("- 飞单"), "{s}");
    assert!(s.contains("1 newly alert, 1 stop alerting"), "{s}");
    assert!(
        s.contains("line 1: 报价底价") && s.contains("line 2: 飞单了"),
        "{s}"
    );

    // a corpus of WeCom records, judged in order as the engine judges
    // them: a roster sent a number a message is raised on its third only
    // once the threshold counts over time
    std::fs::write(
        old.path().join("pii.txt"),
        "#! severity: high\n#! bulk: 3 critical\n@cn_mobile\n",
    )
    .unwrap();
    std::fs::write(
        new.path().join("pii.txt"),
        "#! severity: high\n#! bulk: 3 critical within 1h\n@cn_mobile\n",
    )
    .unwrap();
    let record = |i: u64| {
        serde_json::json!({"msgid": format!("m{i}"), "from": "li", "tolist": ["wmOutsider"],
            "msgtime": 1_764_000_000_000u64 + i * 60_000, "msgtype": "text",
            "text": {"content": format!("客户电话 1381234000{i}")}})
        .to_string()
    };
    let records = old.path().join("records.jsonl");
    std::fs::write(&records, [record(1), record(2), record(3)].join("\n")).unwrap();
    let diff = |format: &str| {
        let o = ww(&[
            "diff",
            old.path().to_str().unwrap(),
            new.path().to_str().unwrap(),
            "--corpus",
            records.to_str().unwrap(),
            "--input-format",
            format,
        ]);
        assert!(o.status.success(), "{}", err(&o));
        out(&o)
    };
    let s = diff("wecom");
    assert!(
        s.contains("~ bulk: 3 critical -> 3 critical within 1h"),
        "{s}"
    );
    assert!(
        s.contains("impact on 3 messages: 3 alert before, 3 after; 0 newly alert, 0 stop alerting, 1 change severity"),
        "{s}"
    );
    assert!(s.contains("line 3: m3: 客户电话 13812340003"), "{s}");
    // the same lines read as text: each alone, no sender to count for
    let s = diff("text");
    assert!(
        s.contains("3 alert before, 3 after; 0 newly alert, 0 stop alerting, 0 change severity"),
        "{s}"
    );
}

/// `wordwarden import --format FORMAT FILE --out OUT` and `extra`.
fn import(format: &str, file: &Path, out: &Path, extra: &[&str]) -> Output {
    let (file, out) = (file.to_str().unwrap(), out.to_str().unwrap());
    let mut args = vec!["import", "--format", format, file, "--out", out];
    args.extend_from_slice(extra);
    ww(&args)
}

/// `DIR/lists` holding one list, `停牌` between two people groups (`groups`,
/// as `#! people: between` names them), for the groups imported beside it.
fn barrier_between(dir: &Path, groups: &str) -> std::path::PathBuf {
    let lists = dir.join("lists");
    std::fs::create_dir_all(&lists).unwrap();
    let list = format!("#! people: between {groups}\n停牌\n");
    std::fs::write(lists.join("barrier.txt"), list).unwrap();
    lists
}

/// A directory's export of people and departments becomes people groups
/// the lists can name; a second import overwrites only with --force.
#[test]
fn import_people_groups_from_a_directory_export() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("directory.csv");
    std::fs::write(
        &csv,
        "id,group\nzhangwei,people/ibd\nlina,people/research\nQianLi,people/ibd\nqianli,people/ibd\n,people/ibd\n",
    )
    .unwrap();
    let lists = barrier_between(dir.path(), "people/ibd people/research");
    let import = |extra: &[&str]| import("people", &csv, &lists, extra);
    let o = import(&[]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("people/ibd.people (2 ids)"), "{}", out(&o));
    let ibd = std::fs::read_to_string(lists.join("people/ibd.people")).unwrap();
    assert!(ibd.ends_with("zhangwei\nQianLi\n"), "{ibd}");
    let o = ww(&["lint", lists.to_str().unwrap()]);
    assert!(
        o.status.success() && !out(&o).contains("warning"),
        "{}",
        out(&o)
    );
    assert!(!import(&[]).status.success());
    assert!(import(&["--force"]).status.success());
    std::fs::write(&csv, "lina,../outside\n").unwrap();
    let o = import(&["--force"]);
    assert!(
        err(&o).contains("group \"../outside\" is not a relative path"),
        "{}",
        err(&o)
    );
}

/// WeCom's directory export (通讯录导出) saved as CSV on Chinese Windows:
/// the columns named, a person in several departments in each, a
/// department path taken as a group path; nothing of a row on stderr.
#[test]
fn import_people_groups_from_named_columns_of_a_gbk_export() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("通讯录.csv");
    let export = "姓名,账号,职务,部门,手机\r\n\
        张伟,zhangwei,分析师,总部/研究部,13800000000\r\n\
        李娜,lina,经理,总部/投行部;总部/研究部,13800000001\r\n\
        钱立,qianli,VP,/总部/投行部/,\r\n\
        王五,wangwu,,,\r\n";
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(export);
    assert!(!unmappable);
    std::fs::write(&csv, gbk).unwrap();
    let lists = barrier_between(dir.path(), "总部/投行部 总部/研究部");
    let import = |[id, group]: [&str; 2]| {
        let columns = ["--id-column", id, "--group-column", group, "--force"];
        import("people", &csv, &lists, &columns)
    };
    let o = import(["账号", "部门"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(err(&o).contains("as gb18030"), "{}", err(&o));
    assert!(err(&o).contains("1 people in no group"), "{}", err(&o));
    assert!(
        err(&o).contains("group \"/总部/投行部/\" written as \"总部/投行部\""),
        "{}",
        err(&o)
    );
    for private in ["张伟", "13800000000", "zhangwei"] {
        assert!(!err(&o).contains(private), "{private}: {}", err(&o));
    }
    let read = |group: &str| std::fs::read_to_string(lists.join(group)).unwrap();
    assert!(read("总部/研究部.people").ends_with("\nzhangwei\nlina\n"));
    assert!(read("总部/投行部.people").ends_with("\nlina\nqianli\n"));
    let o = ww(&["lint", lists.to_str().unwrap()]);
    assert!(
        o.status.success() && !out(&o).contains("warning"),
        "{}",
        out(&o)
    );
    // the barrier between them: a banker to an analyst
    let explain = |from: &str, to: &str| {
        let o = ww(&[
            "explain",
            "--wordlists",
            lists.to_str().unwrap(),
            "--sender",
            from,
            "--recipient",
            to,
            "明天停牌",
        ]);
        assert!(o.status.success(), "{}", err(&o));
        out(&o)
    };
    assert!(
        explain("qianli", "zhangwei").contains("KEPT"),
        "{}",
        explain("qianli", "zhangwei")
    );
    assert!(!explain("zhangwei", "wangwu").contains("KEPT"));
    let columns = ["--id-column", "账号", "--group-column", "部门"];
    let o = crate::import("csv", &csv, &lists, &columns);
    assert!(err(&o).contains("are for --format people"), "{}", err(&o));
    let o = import(["userid", "部门"]);
    assert!(!o.status.success());
    assert!(
        err(&o).contains("no column \"userid\" in the header (姓名, 账号, 职务, 部门, 手机)"),
        "{}",
        err(&o)
    );
}

#[test]
fn import_plain_and_csv_then_export() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("terms.txt");
    // published lists end each term with a comma (`色情网站,`) or another
    // separator: dropped
    std::fs::write(&plain, "内幕消息\n!特殊\n#号码\n\n老鼠仓,\n建仓、 \n").unwrap();
    let out_dir = dir.path().join("lists");
    let category = ["--category", "finance/insider", "--severity", "high"];
    let o = import("plain", &plain, &out_dir, &category);
    assert!(o.status.success(), "{}", err(&o));
    let written = std::fs::read_to_string(out_dir.join("finance/insider.txt")).unwrap();
    assert!(written.starts_with("#! severity: high\n"));
    assert!(written.contains("\\!特殊\n\\#号码\n"), "{written}");
    assert!(written.ends_with("\n老鼠仓\n建仓\n"), "{written}");
    assert!(err(&o).contains("dropped on 2 lines"), "{}", err(&o));

    let csv = dir.path().join("terms.csv");
    std::fs::write(&csv, "term,category,severity\n客户名单,secrets/leak,high\n源代码,secrets/leak,critical\n私人账户,deals,\n").unwrap();
    let o = import("csv", &csv, &out_dir, &[]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(err(&o).contains("mixes severities"), "{}", err(&o));
    std::fs::write(
        out_dir.join("deals.txt"),
        "near:10 转账 & 私人账户 ~ 公司账户\n",
    )
    .unwrap();
    let o = ww(&["export", out_dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", err(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let lists = j["lists"].as_array().unwrap();
    let leak = lists
        .iter()
        .find(|l| l["category"] == "secrets/leak")
        .unwrap();
    assert_eq!(leak["severity"], "critical");
    assert_eq!(leak["homophones"], false);
    assert_eq!(leak["audience"], "any");
    let deals = lists.iter().find(|l| l["category"] == "deals").unwrap();
    assert_eq!(
        deals["combinations"],
        serde_json::json!([{"all": ["转账", "私人账户"], "none": ["公司账户"], "within": 10}])
    );
    assert_eq!(leak["terms"], serde_json::json!(["客户名单", "源代码"]));
    let insider = lists
        .iter()
        .find(|l| l["category"] == "finance/insider")
        .unwrap();
    assert_eq!(
        insider["terms"],
        serde_json::json!(["内幕消息", "!特殊", "#号码", "老鼠仓", "建仓"])
    );
    // importing again does not overwrite without --force
    let o = import("csv", &csv, &out_dir, &[]);
    assert!(!o.status.success());
}

/// Lists saved on Chinese Windows (GBK), in Big5 or as Excel's "Unicode
/// text" (UTF-16): `lint` names the encoding of one dropped in as it is,
/// and `import` reads each, so the lists written are UTF-8 and fire.
#[test]
fn lists_in_legacy_encodings_are_named_and_imported() {
    let dir = tempfile::tempdir().unwrap();
    let saved = |name: &str, encoding: &'static encoding_rs::Encoding, text: &str| {
        let path = dir.path().join(name);
        let (bytes, _, unmappable) = encoding.encode(text);
        assert!(!unmappable);
        std::fs::write(&path, bytes).unwrap();
        path.to_str().unwrap().to_string()
    };
    let gbk_csv = saved(
        "gbk.csv",
        encoding_rs::GBK,
        "term,category,severity\r\n客户名单,secrets/leak,high\r\n源代码,secrets/leak,high\r\n",
    );
    let big5 = saved("big5.txt", encoding_rs::BIG5, "內線消息\n老鼠倉\n");
    let mut utf16 = vec![0xFF, 0xFE];
    for unit in "稳赚不赔\r\n".encode_utf16() {
        utf16.extend(unit.to_le_bytes());
    }
    let utf16_path = dir.path().join("unicode.txt");
    std::fs::write(&utf16_path, utf16).unwrap();

    // dropped into a list directory as it is: an error that says what it is
    let raw = dir.path().join("raw");
    std::fs::create_dir_all(&raw).unwrap();
    std::fs::copy(&big5, raw.join("leak.txt")).unwrap();
    let o = ww(&["lint", raw.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(
        out(&o).contains("leak.txt: error[not-utf8]") && out(&o).contains("it reads as Big5 text"),
        "{}",
        out(&o)
    );

    let lists = dir.path().join("lists");
    let import =
        |format: &str, file: &str, extra: &[&str]| import(format, Path::new(file), &lists, extra);
    let o = import("csv", &gbk_csv, &[]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        err(&o).contains("as gb18030, first lines: term,category,severity | 客户名单"),
        "{}",
        err(&o)
    );
    let o = import("plain", &big5, &["--category", "finance/insider"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        err(&o).contains("as Big5, first lines: 內線消息 | 老鼠倉"),
        "{}",
        err(&o)
    );
    let o = import(
        "plain",
        utf16_path.to_str().unwrap(),
        &["--category", "finance/returns"],
    );
    assert!(o.status.success(), "{}", err(&o));
    assert!(err(&o).contains("as UTF-16LE"), "{}", err(&o));
    let written = std::fs::read_to_string(lists.join("finance/insider.txt")).unwrap();
    assert!(written.ends_with("\n內線消息\n老鼠倉\n"), "{written}");
    let o = ww(&["lint", lists.to_str().unwrap()]);
    assert!(o.status.success(), "{}", out(&o));
    let o = ww_in(
        &["scan", "--wordlists", lists.to_str().unwrap()],
        "把源代码发你\n内线消息\n稳赚不赔的\n",
    );
    assert!(o.status.success(), "{}", err(&o));
    let alerts = out(&o);
    for term in ["源代码", "內線消息", "稳赚不赔"] {
        assert!(alerts.contains(term), "{term}: {alerts}");
    }

    // named, against the guess; a name it does not know; bytes that are no text
    let o = import("plain", &big5, &["--category", "x", "--encoding", "gbk"]);
    assert!(
        err(&o).contains("as GBK, first lines:") && !err(&o).contains("內線"),
        "{}",
        err(&o)
    );
    let o = import(
        "plain",
        &big5,
        &["--category", "y", "--encoding", "klingon"],
    );
    assert!(!o.status.success());
    assert!(
        err(&o).contains("unknown encoding \"klingon\""),
        "{}",
        err(&o)
    );
    let binary = dir.path().join("binary.txt");
    std::fs::write(&binary, [0xC4, 0xDA, 0x00, 0xFF]).unwrap();
    let o = import("plain", binary.to_str().unwrap(), &[]);
    assert!(!o.status.success());
    assert!(
        err(&o).contains("neither UTF-8 nor GB18030 or Big5 text"),
        "{}",
        err(&o)
    );
}

/// Chat exported in GBK (a legacy archiver's text, a WeCom record written
/// on Chinese Windows): `scan` names the encoding a line reads as and goes
/// on; with `--input-encoding gb18030` it reads it, a UTF-8 line beside it
/// as before. `explain` and `lint --corpus` read the same way.
#[test]
fn chat_in_gbk_is_named_then_read_with_input_encoding() {
    let dir = tempfile::tempdir().unwrap();
    let gbk = |text: &str| encoding_rs::GBK.encode(text).0.into_owned();
    let chat = dir.path().join("chat.txt");
    let mut bytes = gbk("我有内幕消息\n今天天气不错\n");
    bytes.extend("明天有内幕消息\n".as_bytes());
    std::fs::write(&chat, &bytes).unwrap();
    let lists = bundled();
    let scan = |extra: &[&str]| {
        let args = ["scan", "--wordlists", &lists, chat.to_str().unwrap()];
        ww(&[&args[..], extra].concat())
    };
    let o = scan(&[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("line 1: rejected (not_utf8): not valid UTF-8")
            && err(&o).contains("reads as gb18030 text: input_encoding"),
        "{}",
        err(&o)
    );
    let alerts: Vec<serde_json::Value> = out(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(alerts.len(), 1, "the UTF-8 line alerts: {}", out(&o));

    let o = scan(&["--input-encoding", "gb18030"]);
    assert!(o.status.success(), "{}", err(&o));
    let alerts: Vec<serde_json::Value> = out(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let lines: Vec<(i64, &str)> = alerts
        .iter()
        .map(|a| {
            (
                a["source"]["line"].as_i64().unwrap(),
                a["hits"][0]["matched"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(lines, [(1, "内幕消息"), (3, "内幕消息")]);
    let o = scan(&["--input-encoding", "utf-16le"]);
    assert!(
        !o.status.success() && err(&o).contains("cannot be a message encoding"),
        "{}",
        err(&o)
    );

    let record = dir.path().join("record.json");
    std::fs::write(
        &record,
        gbk(r#"{"msgid":"m1","from":"li","tolist":["wang"],"msgtype":"text","text":{"content":"把内幕消息发你"}}"#),
    )
    .unwrap();
    let explain = |extra: &[&str]| {
        let args = [
            "explain",
            "--wordlists",
            &lists,
            "--input-format",
            "wecom",
            "--record",
        ];
        ww(&[&args[..], &[record.to_str().unwrap()], extra].concat())
    };
    let o = explain(&[]);
    assert!(
        out(&o).contains("reason not_utf8") && out(&o).contains("gb18030"),
        "{}",
        out(&o)
    );
    let o = explain(&["--input-encoding", "gbk"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        out(&o).contains("1 text field(s)") && out(&o).contains("内幕消息"),
        "{}",
        out(&o)
    );

    let lint = |extra: &[&str]| {
        let args = [
            "lint",
            &lists,
            "--corpus",
            chat.to_str().unwrap(),
            "--max-percent",
            "100",
        ];
        ww(&[&args[..], extra].concat())
    };
    let o = lint(&[]);
    assert!(
        !o.status.success() && err(&o).contains("line 1") && err(&o).contains("gb18030"),
        "{}",
        err(&o)
    );
    let o = lint(&["--input-encoding", "gb18030"]);
    assert!(o.status.success(), "{}{}", out(&o), err(&o));
}

#[test]
fn bench_prints_one_json_line_with_the_documented_keys() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus.txt");
    std::fs::write(&corpus, "普通的一句话\n这是内幕消息\n有內幕消息\n").unwrap();
    let mut seen = Vec::new();
    for mode in ["fold", "raw"] {
        let o = ww(&[
            "bench",
            "--wordlists",
            "wordlists",
            "--mode",
            mode,
            "--passes",
            "1",
            corpus.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", err(&o));
        let lines: Vec<&str> = std::str::from_utf8(&o.stdout).unwrap().lines().collect();
        assert_eq!(lines.len(), 1, "one JSON line");
        let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        for key in [
            "terms",
            "build_s",
            "scan_mb_s",
            "messages_per_s",
            "hits",
            "peak_rss_mb",
        ] {
            assert!(v.get(key).is_some(), "{key} missing in {v}");
        }
        assert_eq!(v["messages"], 3);
        assert!(v["terms"].as_u64().unwrap() > 10);
        assert!(v["peak_rss_mb"].as_f64().unwrap() > 0.0);
        seen.push(v["messages_hit"].as_u64().unwrap());
    }
    // folding also catches the traditional form; raw mode only the written one
    assert_eq!(seen, vec![2, 1]);
}

#[test]
fn errors_name_their_cause_once() {
    let missing = std::env::temp_dir().join("wordwarden-no-such-dir");
    let missing = missing.to_str().unwrap();
    let config = format!("{missing}.toml");
    for args in [
        vec!["lint", missing],
        vec!["scan", "--wordlists", missing],
        vec!["run", "--config", config.as_str()],
    ] {
        let o = ww(&args);
        assert!(!o.status.success(), "{args:?}");
        let e = err(&o);
        assert_eq!(
            e.matches("No such file or directory").count(),
            1,
            "{args:?}: {e}"
        );
    }
}
