//! Seeded generators for benchmark corpora and word lists: realistic Chinese
//! work chat (Zipf-weighted common characters, some ASCII words, URLs and
//! emoji; 5-200 characters per message) and lists of 2-6 character terms.
#![allow(dead_code)]

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// About 800 of the most frequent Chinese characters, most frequent first.
pub const COMMON: &str = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严龙飞";

const ASCII_WORDS: &[&str] = &[
    "ok", "PPT", "Q3", "KPI", "OK", "mail", "demo", "v2", "bug", "PR", "Excel", "deadline", "call",
    "review",
];
const EMOJI: &[&str] = &["😀", "👍", "🙏", "🎉", "😂", "🤝", "👌"];

/// A seeded generator.
pub struct Gen {
    rng: SmallRng,
    chars: Vec<char>,
    /// cumulative Zipf weights over `chars`
    cdf: Vec<f64>,
}

impl Gen {
    pub fn new(seed: u64) -> Gen {
        let chars: Vec<char> = COMMON.chars().collect();
        let mut cdf = Vec::with_capacity(chars.len());
        let mut acc = 0.0;
        for i in 0..chars.len() {
            acc += 1.0 / (i as f64 + 1.0).powf(0.9);
            cdf.push(acc);
        }
        Gen {
            rng: SmallRng::seed_from_u64(seed),
            chars,
            cdf,
        }
    }

    fn zipf_char(&mut self) -> char {
        let total = *self.cdf.last().unwrap_or(&1.0);
        let x = self.rng.gen::<f64>() * total;
        let i = self
            .cdf
            .partition_point(|c| *c < x)
            .min(self.chars.len() - 1);
        self.chars[i]
    }

    fn uniform_char(&mut self) -> char {
        self.chars[self.rng.gen_range(0..self.chars.len())]
    }

    /// One chat message of 5-200 characters.
    pub fn message(&mut self) -> String {
        let len = if self.rng.gen_bool(0.8) {
            self.rng.gen_range(5..40)
        } else {
            self.rng.gen_range(40..200)
        };
        let mut s = String::new();
        let mut n = 0;
        while n < len {
            let r = self.rng.gen::<f64>();
            if r < 0.03 {
                let w = ASCII_WORDS[self.rng.gen_range(0..ASCII_WORDS.len())];
                s.push(' ');
                s.push_str(w);
                s.push(' ');
                n += w.len() + 2;
            } else if r < 0.04 {
                s.push_str(EMOJI[self.rng.gen_range(0..EMOJI.len())]);
                n += 1;
            } else if r < 0.045 {
                s.push_str(&format!(
                    " https://example.com/s/{:x} ",
                    self.rng.gen::<u32>()
                ));
                n += 30;
            } else if r < 0.10 {
                s.push(if self.rng.gen_bool(0.5) { '，' } else { '。' });
                n += 1;
            } else {
                s.push(self.zipf_char());
                n += 1;
            }
        }
        s
    }

    /// `n` distinct terms of 2-6 characters. `realistic` terms are drawn
    /// uniformly and are 3-6 long, so few messages hit; otherwise they follow
    /// the text's Zipf weights and most messages hit (dense).
    pub fn terms(&mut self, n: usize, realistic: bool) -> Vec<String> {
        let mut seen = std::collections::HashSet::with_capacity(n);
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let len = if realistic {
                self.rng.gen_range(3..=6)
            } else {
                self.rng.gen_range(2..=6)
            };
            let t: String = (0..len)
                .map(|_| {
                    if realistic {
                        self.uniform_char()
                    } else {
                        self.zipf_char()
                    }
                })
                .collect();
            if seen.insert(t.clone()) {
                out.push(t);
            }
        }
        out
    }

    /// Messages totalling about `bytes` bytes.
    pub fn corpus(&mut self, bytes: usize) -> Vec<String> {
        let mut out = Vec::new();
        let mut total = 0;
        while total < bytes {
            let m = self.message();
            total += m.len();
            out.push(m);
        }
        out
    }
}

/// A word-list set holding `terms` in one file.
pub fn list_set(terms: &[String]) -> wordwarden::lists::WordListSet {
    let mut text = String::with_capacity(terms.len() * 12);
    for t in terms {
        text.push_str(t);
        text.push('\n');
    }
    wordwarden::lists::WordListSet::from_sources(vec![("bench.txt".into(), text.into_bytes())])
}

/// The bundled word lists (`wordlists/`) as `(path, bytes)` sources, read as
/// the engine reads a list directory: terms with a mixed Chinese-Latin one,
/// regexes, detectors, combinations.
pub fn bundled_sources() -> Vec<(String, Vec<u8>)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("wordlists");
    wordwarden::lists::read_sources(&root).expect("wordlists/")
}

/// Peak resident memory of this process so far, in MiB (Linux).
pub fn peak_rss_mb() -> f64 {
    status_mb("VmHWM:")
}

/// Starts [`peak_rss_mb`] over from the current resident size (Linux: writing
/// 5 to `/proc/self/clear_refs`), so a later phase's peak is its own.
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Current resident memory in MiB (Linux).
pub fn rss_mb() -> f64 {
    status_mb("VmRSS:")
}

/// CPU time (user + system) a process has used so far, in seconds (Linux:
/// `/proc/PID/stat`, in clock ticks of 1/100 s); 0 where /proc is missing.
/// `pid` none for this process.
pub fn cpu_seconds(pid: Option<u32>) -> f64 {
    let path = match pid {
        Some(p) => format!("/proc/{p}/stat"),
        None => "/proc/self/stat".to_string(),
    };
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| {
            // fields after the parenthesised command name: state is the 3rd
            // field, utime the 14th, stime the 15th
            let rest = &s[s.rfind(')')? + 2..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?)
        })
        .map_or(0.0, |ticks| ticks / 100.0)
}

/// A memory line of `/proc/self/status` in MiB; 0 where /proc is missing.
fn status_mb(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}
