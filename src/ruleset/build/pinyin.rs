//! The pinyin variants of Chinese terms (`neimu` for `内幕`).

use pinyin::ToPinyin;

use super::pinyin_alternates::PINYIN_ALTERNATES;
use crate::lists::Pinyin;

/// Longest term (in characters) that gets a pinyin variant: people type
/// short sensitive words in pinyin (`neimu`), and every variant costs automaton
/// states, so long phrases do not get one.
pub(crate) const PINYIN_MAX_CHARS: usize = 4;

/// Shortest term (in characters) whose initials are a variant: two letters
/// spell too many other things.
const INITIALS_MIN_CHARS: usize = 3;

/// The pinyin variants of an all-Chinese term of 2-4 (folded) characters
/// that `mode` asks for: with [`Pinyin::On`] the whole term in toneless
/// pinyin ([`pinyin_readings`]), with [`Pinyin::Mixed`] also every way of
/// writing some of its characters in pinyin and the rest as they are
/// (`内mu`, `nei幕`), with [`Pinyin::Initials`] also the initials of a
/// term of 3-4 characters (`nmxx`; each reading's).
pub(super) fn pinyin_variants(folded: &[char], mode: Pinyin) -> Vec<String> {
    if mode == Pinyin::Off {
        return Vec::new();
    }
    let readings = pinyin_readings(folded);
    let mut variants: Vec<String> = Vec::new();
    let mut add = |v: String| {
        // two readings may spell the same letters (`xi`+`an`, `xian`)
        if !variants.contains(&v) {
            variants.push(v);
        }
    };
    for syllables in &readings {
        add(syllables.concat());
    }
    if mode == Pinyin::Initials && folded.len() >= INITIALS_MIN_CHARS {
        for syllables in &readings {
            add(syllables.iter().filter_map(|s| s.chars().next()).collect());
        }
    }
    if mode == Pinyin::Mixed {
        // a bit set: that character in pinyin (neither none nor all)
        let all = (1u32 << folded.len()) - 1;
        for syllables in &readings {
            for in_pinyin in 1..all {
                let mut v = String::with_capacity(folded.len() * 6);
                for (i, (c, syllable)) in folded.iter().zip(syllables).enumerate() {
                    if in_pinyin & (1 << i) != 0 {
                        v.push_str(syllable);
                    } else {
                        v.push(*c);
                    }
                }
                add(v);
            }
        }
    }
    variants
}

/// Toneless pinyin readings of an all-Chinese term of 2-4 (folded)
/// characters, a syllable a character: every character read the common way
/// first, then the term with one character read another way that real words
/// use. A polyphonic character (多音字) is read the common way in most words
/// but not in all (`银行` is `yinhang`, not `yinxing`; `长线` `changxian`),
/// and nothing here knows which word takes which, so both are keys. The
/// other readings are those of [`PINYIN_ALTERNATES`] (used by at least 5
/// words of a phrase dictionary), not every reading a character has ever
/// had: all of them made 1.8 more keys a term (a 1M-term set compiled 1.5 s
/// slower and took 80 MB more), these make 0.2 (11 MB). One character at a
/// time keeps the count linear in the readings; a word that reads two of its
/// characters the uncommon way is rare.
fn pinyin_readings(folded: &[char]) -> Vec<Vec<&'static str>> {
    if !(2..=PINYIN_MAX_CHARS).contains(&folded.len()) || folded.iter().any(char::is_ascii) {
        return Vec::new();
    }
    let mut common: Vec<&'static str> = Vec::with_capacity(folded.len());
    for c in folded {
        let Some(p) = c.to_pinyin() else {
            return Vec::new();
        };
        common.push(p.plain());
    }
    let mut readings = vec![common.clone()];
    for (i, c) in folded.iter().enumerate() {
        for &syllable in alternate_readings(*c) {
            let mut other = common.clone();
            other[i] = syllable;
            readings.push(other);
        }
    }
    // `ü` typed as `v`, as every pinyin keyboard takes it (`lvshi` for
    // 律师, `nv` for 女); folding reads `ü` itself as `u` (`lushi`)
    let typed_v: Vec<Vec<&'static str>> = readings
        .iter()
        .filter(|r| r.iter().any(|s| v_spelling(s).is_some()))
        .map(|r| r.iter().map(|s| v_spelling(s).unwrap_or(s)).collect())
        .collect();
    readings.extend(typed_v);
    readings
}

/// A syllable with `ü` as typed with `v` for it. Only after `l` and `n` is
/// `ü` written as such; after `j`, `q`, `x` and `y` it is written `u`
/// (`xu`), which is how the pinyin crate gives it too.
fn v_spelling(syllable: &str) -> Option<&'static str> {
    match syllable {
        "lü" => Some("lv"),
        "nü" => Some("nv"),
        "lüe" => Some("lve"),
        "nüe" => Some("nve"),
        _ => None,
    }
}

/// The readings of `c` other than its most common one that real words use.
fn alternate_readings(c: char) -> &'static [&'static str] {
    PINYIN_ALTERNATES
        .binary_search_by_key(&c, |&(ch, _)| ch)
        .map_or(&[], |i| PINYIN_ALTERNATES[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinyin_spellings_take_one_other_reading_at_a_time() {
        let spell = |t: &str| pinyin_variants(&t.chars().collect::<Vec<_>>(), Pinyin::On);
        assert_eq!(
            spell("银行长"),
            ["yinxingzhang", "yinhangzhang", "yinxingchang"]
        );
        assert_eq!(spell("内幕"), ["neimu"]);
        // `ü` also as typed, with `v`; folding reads `ü` as `u`
        assert_eq!(spell("绿帽"), ["lümao", "lumao", "lvmao"]);
        assert_eq!(spell("女律师"), ["nülüshi", "nvlvshi"]);
        assert_eq!(spell("虐待"), ["nüedai", "nvedai"]);
        assert_eq!(spell("许可"), ["xuke"]);
        let mixed = pinyin_variants(&['内', '幕'], Pinyin::Mixed);
        assert_eq!(mixed, ["neimu", "nei幕", "内mu"]);
        // initials of terms of three or four characters, each reading's
        let initials = |t: &str| pinyin_variants(&t.chars().collect::<Vec<_>>(), Pinyin::Initials);
        assert_eq!(initials("内幕消息"), ["neimuxiaoxi", "nmxx"]);
        assert_eq!(
            initials("银行长"),
            [
                "yinxingzhang",
                "yinhangzhang",
                "yinxingchang",
                "yxz",
                "yhz",
                "yxc"
            ]
        );
        assert_eq!(initials("内幕"), ["neimu"]);
        let off = pinyin_variants(&['银', '行'], Pinyin::Off);
        assert!(off.is_empty());
        // one character, five, or any ASCII: no variant
        for none in ["银", "内幕消息灵", "银行a"] {
            assert!(spell(none).is_empty(), "{none}");
        }
    }

    #[test]
    fn pinyin_alternates_are_sorted_and_other_than_the_common_reading() {
        assert!(PINYIN_ALTERNATES.windows(2).all(|w| w[0].0 < w[1].0));
        for &(c, readings) in PINYIN_ALTERNATES {
            let common = c.to_pinyin().map(|p| p.plain());
            assert!(
                !readings.is_empty() && readings.iter().all(|r| Some(*r) != common),
                "{c}"
            );
        }
    }
}
