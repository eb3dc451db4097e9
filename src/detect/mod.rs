//! Built-in validated detectors for personal data: Chinese resident ID card
//! numbers (GB 11643 checksum), bank card numbers (Luhn), Chinese mobile
//! numbers and e-mail addresses, Hong Kong identity cards and Taiwan
//! identification numbers (`letter_ids.rs`, with their check digits) and
//! mainland passports (there too, with their keyword near); and
//! for credentials: private keys, cloud access keys, API tokens, JWTs,
//! passwords in URLs and bots' webhooks (`credentials.rs`, which reads the
//! text as written). How sure a detection is, by the words near it:
//! [`assess`] (`confidence.rs`).
//!
//! The number detectors see width-folded text (`１３８` and `❶` are digits) and accept digit
//! groups separated by a single space or hyphen (`138-1234-5678`,
//! `6222 0212 3456 7890`) or a dash between spaces (`138 - 1234 - 5678`),
//! and digits spelled out one at a time between the same `*`, `.`, `_` or
//! `·` (`1*3*8*1*2*3*4*5*6*7*8`). A number may also be written in Chinese numerals
//! (`一三八一二三四五六七八`, `壹叁捌…`, `幺` for 1 as phone numbers are read
//! out, `㊀㊂㊇…`), or some of it (`138一二三四5678`). Where digits meet
//! numerals without a separator, a digit number may end or start there (a
//! digit number right before `一会儿` or after `第一` is still one), a
//! numeral number may not (`一三八一二三四五六七八9` is none). A number in
//! digits may hold up to two letters that look like digits
//! (`l` and `I` for 1, `O` and `o` for 0: `l38-l234-5678`), but never starts
//! right after a letter or digit. A candidate never fires inside a longer
//! digit run or next to an ASCII letter (`SN13812345678` is an order number,
//! not a phone).
//!
//! ```
//! use wordwarden::detect::{find, Detector};
//!
//! let found = find("电话 138-1234-5678 谢谢", &[Detector::CnMobile]);
//! assert_eq!(found[0].detector, Detector::CnMobile);
//! assert_eq!(&"电话 138-1234-5678 谢谢"[found[0].start..found[0].end], "138-1234-5678");
//! ```

mod confidence;
mod credentials;
mod emails;
mod intl_phones;
mod letter_ids;
mod permits;
mod plates;

use std::fmt;

pub use confidence::{assess, Assessment, Confidence, NAMING_WORD_CHARS};

use crate::fold::{
    counts_as_digit, fold_char, is_invisible, is_word_entry, light_fold_into, numeral_digit,
    FoldEntry, Survey,
};

/// A built-in detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Detector {
    /// `@cn_id_card`: 18-character resident ID number with a valid GB 11643
    /// checksum, region and birth date.
    CnIdCard,
    /// `@bank_card`: 13-19 digits passing the Luhn check, of a length a
    /// card network issues under its first digits ([`valid_bank_card`]);
    /// 13 digits only where a word names a card (卡号, 银行卡, card) within
    /// 20 characters, as a UnionPay number of 16-19 digits that fails Luhn.
    BankCard,
    /// `@cn_mobile`: `1[3-9]` followed by nine digits.
    CnMobile,
    /// `@cn_landline`: a mainland landline number with its area code
    /// (`010-62345678`, `0755 2234 5678`; [`valid_cn_landline`]), the code
    /// a group of its own or a word naming a phone (电话, 座机, `tel`)
    /// within 20 characters. Not in the bundled lists: most landlines in
    /// work chat are companies' switchboards.
    CnLandline,
    /// `@intl_mobile`: a mobile number after another country's calling code
    /// (`+852 9123 4567`, `+1 (415) 555-2671`, `00852-9123-4567`), valid by
    /// libphonenumber's metadata; a number whose country's plan does not
    /// tell a mobile from a landline (the United States', Canada's) counts
    /// as a mobile. China's code is the mainland detectors'.
    IntlMobile,
    /// `@intl_landline`: a landline number after another country's calling
    /// code (`+852 2123 4567`, `+44 20 7946 0958`). Not in the bundled
    /// lists, as `@cn_landline`: most are companies' offices.
    IntlLandline,
    /// `@email`: an e-mail address whose domain ends in a top-level
    /// domain (IANA's root zone's, or a private network's: `.local`,
    /// `.internal`); not an image's name (`icon@2x.png`), a git or scp
    /// remote (`git@github.com:org/repo.git`) or a link's user.
    Email,
    /// `@hk_id_card`: a Hong Kong identity card number (`A123456(3)`) with a
    /// valid check digit.
    HkIdCard,
    /// `@tw_id_card`: a Taiwan national identification number
    /// (`A123456789`) with a valid check digit.
    TwIdCard,
    /// `@cn_passport`: a mainland Chinese passport number (`E12345678`,
    /// `EA1234567`, `G12345678`) with 护照, 護照 or `passport` within 20
    /// characters: it has no check digit, so its keyword tells it from a
    /// product code.
    CnPassport,
    /// `@cn_travel_permit`: a travel permit's number between the mainland,
    /// Hong Kong, Macau and Taiwan (港澳通行证 `C12345678`, 回乡证
    /// `H12345678`, 台胞证 `12345678`) with the permit's name (通行证,
    /// 回乡证, 台胞证, `permit`) within 20 characters.
    CnTravelPermit,
    /// `@cn_plate`: a mainland vehicle licence plate (`京A12345`,
    /// `粤B·D12345`; see the `plates` module). Not in the bundled lists: a
    /// plate in work chat is most often parking or a taxi.
    CnPlate,
    /// `@private_key`: the header of a private key (`-----BEGIN RSA PRIVATE
    /// KEY-----`, OpenSSH, PKCS#8, PGP).
    PrivateKey,
    /// `@access_key`: a cloud access key id or API key (AWS `AKIA…`,
    /// Alibaba Cloud `LTAI…`, Tencent Cloud `AKID…`, Google Cloud `AIza…`),
    /// of its kind's exact length and alphabet.
    AccessKey,
    /// `@api_token`: a GitHub or npm token with a valid checksum, a GitHub
    /// fine-grained, GitLab, Slack or OpenAI token, a WeCom app's
    /// `corpsecret`.
    ApiToken,
    /// `@jwt`: a signed JSON Web Token whose header decodes to JSON.
    Jwt,
    /// `@url_password`: a URL with a password in it
    /// (`mysql://root:Passw0rd@10.0.3.15`), not a placeholder.
    UrlPassword,
    /// `@webhook`: a group bot's webhook with its key (WeCom, DingTalk,
    /// Feishu/Lark, Slack): anyone holding it posts into the group.
    Webhook,
    /// `@password`: a password written after its keyword (`密码：Qwe@1234`,
    /// `password=…`, `口令为 …`), holding a digit or a symbol, not a
    /// placeholder.
    Password,
}

impl Detector {
    /// All detectors.
    pub const ALL: [Detector; 19] = [
        Detector::CnIdCard,
        Detector::BankCard,
        Detector::CnMobile,
        Detector::CnLandline,
        Detector::IntlMobile,
        Detector::IntlLandline,
        Detector::Email,
        Detector::HkIdCard,
        Detector::TwIdCard,
        Detector::CnPassport,
        Detector::CnTravelPermit,
        Detector::CnPlate,
        Detector::PrivateKey,
        Detector::AccessKey,
        Detector::ApiToken,
        Detector::Jwt,
        Detector::UrlPassword,
        Detector::Webhook,
        Detector::Password,
    ];

    /// Whether it finds numbers (`@cn_id_card`, `@bank_card`, `@cn_mobile`,
    /// `@cn_landline`), which may be written in numerals or with letters for
    /// digits.
    ///
    /// ```
    /// use wordwarden::detect::Detector;
    ///
    /// assert!(Detector::CnMobile.finds_numbers());
    /// assert!(!Detector::ApiToken.finds_numbers());
    /// ```
    pub fn finds_numbers(self) -> bool {
        matches!(
            self,
            Detector::CnIdCard | Detector::BankCard | Detector::CnMobile | Detector::CnLandline
        )
    }

    /// Whether it finds credentials (`@private_key`, `@access_key`,
    /// `@api_token`, `@jwt`, `@url_password`, `@webhook`, `@password`), which
    /// alerts always mask.
    pub fn finds_credentials(self) -> bool {
        use Detector::*;
        matches!(
            self,
            PrivateKey | AccessKey | ApiToken | Jwt | UrlPassword | Webhook | Password
        )
    }

    /// The name used after `@` in word lists.
    pub fn name(self) -> &'static str {
        match self {
            Detector::CnIdCard => "cn_id_card",
            Detector::BankCard => "bank_card",
            Detector::CnMobile => "cn_mobile",
            Detector::CnLandline => "cn_landline",
            Detector::IntlMobile => "intl_mobile",
            Detector::IntlLandline => "intl_landline",
            Detector::Email => "email",
            Detector::HkIdCard => "hk_id_card",
            Detector::TwIdCard => "tw_id_card",
            Detector::CnPassport => "cn_passport",
            Detector::CnTravelPermit => "cn_travel_permit",
            Detector::CnPlate => "cn_plate",
            Detector::PrivateKey => "private_key",
            Detector::AccessKey => "access_key",
            Detector::ApiToken => "api_token",
            Detector::Jwt => "jwt",
            Detector::UrlPassword => "url_password",
            Detector::Webhook => "webhook",
            Detector::Password => "password",
        }
    }
}

impl fmt::Display for Detector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Detector {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Detector::ALL
            .into_iter()
            .find(|d| d.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Detector::ALL.iter().map(|d| d.name()).collect();
                format!("unknown detector @{s} ({})", names.join(", "))
            })
    }
}

/// One detection: which detector and the original byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detection {
    /// The detector that fired.
    pub detector: Detector,
    /// Start byte offset in the original text.
    pub start: usize,
    /// End byte offset in the original text.
    pub end: usize,
}

/// Why a candidate was rejected (for `explain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Right length, wrong checksum.
    Checksum,
    /// A digit run of a length no enabled detector takes.
    Length,
}

/// Runs the enabled detectors over `text`.
pub fn find(text: &str, enabled: &[Detector]) -> Vec<Detection> {
    let mut out = Vec::new();
    find_into(text, enabled, &mut out);
    out
}

/// Like [`find`], appending to `out`.
pub fn find_into(text: &str, enabled: &[Detector], out: &mut Vec<Detection>) {
    find_surveyed_into(text, Survey::with_detectors(text), enabled, out);
}

/// [`find_into`] with `survey` ([`Survey::with_detectors`] of `text`),
/// which spares most texts most detectors' searches: one pass over the
/// bytes where each detector looked for its own signs.
pub(crate) fn find_surveyed_into(
    text: &str,
    survey: Survey,
    enabled: &[Detector],
    out: &mut Vec<Detection>,
) {
    let digits = enabled.iter().any(|d| d.finds_numbers());
    // numbers after another country's calling code, looked for wherever a
    // phone is: their digits are no mainland number (`+1 415 555 2671`
    // holds a mainland mobile's shape)
    let mut intl = Vec::new();
    let phones = digits || enabled.iter().any(|d| intl_phones::DETECTORS.contains(d));
    let mut intl_spans = match phones && intl_phones::may_hold_one(survey, text) {
        true => intl_phones::find_into(text, enabled, &mut intl),
        false => Vec::new(),
    };
    // and numbers of Hong Kong, Macau, Taiwan, Singapore dialled at home
    if phones && intl_phones::may_hold_national(survey) {
        intl_phones::find_national_into(text, enabled, &mut intl, &mut intl_spans);
    }
    let run = MIN_RUN_DIGITS - MAX_LETTERS_IN_A_NUMBER;
    // (a number's digits may be Chinese numerals too, which only the count
    // by character sees)
    if digits && (survey.digits() >= run as u32 || holds_digits(text, run)) {
        let from = out.len();
        find_digit_runs(text, enabled, out);
        if !intl_spans.is_empty() {
            let runs = out.split_off(from);
            out.extend(runs.into_iter().filter(|d| {
                !(intl_spans.iter()).any(|span| d.start < span.end && span.start < d.end)
            }));
        }
    }
    out.append(&mut intl);
    if enabled.contains(&Detector::Email)
        && (survey.may_have_at_sign() || emails::may_have_worded_at(text))
    {
        emails::find_into(text, out);
    }
    // (the survey's answer first: asking the enabled detectors is a search)
    if letter_ids::may_hold_one(survey) && enabled.iter().any(|d| letter_ids::DETECTORS.contains(d))
    {
        letter_ids::find_into(text, enabled, out);
    }
    if permits::may_hold_one(survey) && enabled.contains(&Detector::CnTravelPermit) {
        permits::find_into(text, out);
    }
    if plates::may_hold_one(survey) && enabled.contains(&Detector::CnPlate) {
        plates::find_into(text, out);
    }
    if enabled.iter().any(|d| d.finds_credentials()) {
        credentials::find_into(text, enabled, out);
    }
}

/// The value a detection of `detector` stands for, whoever wrote it how:
/// a number's digits (`138-1234-5678`, `一三八一二三四五六七八` and
/// `l38 l234 5678` are the one number `13812345678`), an ID card's check
/// character in capitals, an identity number's letters in capitals without
/// its brackets, an e-mail address width- and case-folded, a credential as
/// written (secrets are case-sensitive). `matched` is the detection's slice
/// of the text. What a list's `#! bulk:` threshold counts.
///
/// ```
/// use wordwarden::detect::{value, Detector};
///
/// assert_eq!(value(Detector::CnMobile, "一三八-１２３４-5678"), "13812345678");
/// assert_eq!(value(Detector::CnIdCard, "11010519491231002x"), "11010519491231002X");
/// assert_eq!(value(Detector::HkIdCard, "Ａ123456(3)"), "A1234563");
/// assert_eq!(value(Detector::Email, "Zhang.Wei@Example.com"), "zhang.wei@example.com");
/// ```
pub fn value(detector: Detector, matched: &str) -> String {
    let mut value = String::with_capacity(matched.len());
    for_each_value_char(detector, matched, |c| value.push(c));
    value
}

/// [`value`]'s characters, one at a time: a number's without building a
/// string (a roster's every number is read so, for its list's `#! bulk:`).
pub(crate) fn for_each_value_char(detector: Detector, matched: &str, mut each: impl FnMut(char)) {
    if intl_phones::DETECTORS.contains(&detector) {
        intl_phones::for_each_digit(matched, each);
        return;
    }
    if detector.finds_numbers() {
        // a landline written after the calling code lacks its area code's
        // 0 (`+86 10 6234 5678`): valued as the same number written at home
        let mut first = detector == Detector::CnLandline;
        for c in matched.chars() {
            let class = CharClass::of(c);
            match class.digit.or(class.lookalike) {
                Some(d) => {
                    if std::mem::take(&mut first) && d != b'0' {
                        each('0');
                    }
                    each(char::from(d))
                }
                None if matches!(c, 'x' | 'X' | 'ｘ' | 'Ｘ') => each('X'),
                None => {}
            }
        }
        return;
    }
    if detector.finds_credentials() {
        matched.chars().for_each(each);
        return;
    }
    let mut folded = String::with_capacity(matched.len());
    light_fold_into(matched, &mut folded);
    if detector == Detector::Email && !folded.contains('@') {
        // its signs written as words: the address they make
        folded = emails::unworded_email(&folded);
    }
    match detector {
        // letters and digits (a plate's province character too), no
        // brackets or separators
        Detector::HkIdCard
        | Detector::TwIdCard
        | Detector::CnPassport
        | Detector::CnTravelPermit
        | Detector::CnPlate => folded
            .chars()
            .filter(|c| c.is_alphanumeric())
            .for_each(|c| each(c.to_ascii_uppercase())),
        _ => folded.chars().for_each(each),
    }
}

/// Every credential detector ([`Detector::finds_credentials`]).
pub(crate) fn credential_detectors() -> &'static [Detector] {
    credentials::detectors()
}

/// The bytes of a credential detection (`@private_key`, `@access_key`, …)
/// in `text` that are the secret itself, to be masked wherever an alert
/// quotes it; `None` for the personal-data detectors.
pub(crate) fn secret_part(text: &str, d: &Detection) -> Option<std::ops::Range<usize>> {
    d.detector
        .finds_credentials()
        .then(|| credentials::secret_part(text, d))
}

/// The fewest digits any digit detector accepts (a mobile number: 11; bank
/// cards 13-19, ID cards 17 and a check character).
const MIN_RUN_DIGITS: usize = 11;

/// Letters a number written in digits may hold for the digits they look
/// like (`l` and `I` for 1, `O` and `o` for 0: `l38-l234-5678`): more, and
/// it is a word (`lol`, `look`) or a code.
const MAX_LETTERS_IN_A_NUMBER: usize = 2;

/// Whether `text` holds at least `n` characters that fold to digits: most
/// messages hold too few for any number, and counting by table costs a
/// fraction of the run scan.
fn holds_digits(text: &str, n: usize) -> bool {
    // numerals are counted in a row only: 一 is the commonest character of
    // Chinese text, and a long message holds eleven of them and more
    // (and digits with them: a number may mix the two)
    let (mut digits, mut in_a_row) = (0, 0);
    for c in text.chars() {
        if !counts_as_digit(c) {
            // as in a run: a separator or an invisible character goes on
            let goes_on = || {
                is_separator(c)
                    || is_evasion_separator(c)
                    || matches!(fold_char(c), FoldEntry::Invisible)
            };
            if in_a_row > 0 && !goes_on() {
                in_a_row = 0;
            }
            continue;
        }
        in_a_row += 1;
        if numeral_of(&fold_char(c)).is_none() {
            digits += 1;
        }
        if digits == n || in_a_row == n {
            return true;
        }
    }
    false
}

#[derive(Clone, Copy)]
struct Digit {
    ch: u8, // b'0'..=b'9' or b'x'
    start: usize,
    end: usize,
    /// A letter read for the digit it looks like (`l38…`).
    letter: bool,
}

#[derive(Default)]
struct Run {
    groups: Vec<Group>,
    digits: Vec<Digit>,
    /// Separator characters since its last digit (`138 - 1234`: three).
    seps: usize,
    /// The evasion separator since its last digit (`1*3*8…`), if it was one.
    noise: Option<char>,
    /// A dash among the separators since its last digit: spaces alone, two
    /// or more, are a table's columns (`188  6803  9503`), not a number's
    /// groups.
    dash: bool,
    preceded_by_word: bool,
    /// The character before its first digit.
    before: Option<char>,
    /// It ends in an evasion separator and a letter or digit
    /// (`…7030.jpg`): blocks it ends with are part of a name.
    ends_joined: bool,
    /// Its first group is in brackets, as an area code is written
    /// (`(010)62345678`, `（0755）2234 5678`).
    bracketed_first: bool,
}

impl Run {
    /// Letters in its last group for the digits they look like
    /// ([`CharClass::lookalike`]): counted by group, so that a roster of
    /// such numbers one space apart has each of them; a number's own are
    /// counted when its range is tried ([`finish_run`]).
    fn letters_in_last_group(&self) -> usize {
        self.groups.last().map_or(0, |g| {
            self.digits[g.from..g.to]
                .iter()
                .filter(|d| d.letter)
                .count()
        })
    }
}

/// Digits of a run between separators or changes of script.
struct Group {
    /// The digit index range.
    from: usize,
    to: usize,
    /// Written in Chinese numerals.
    numerals: bool,
    /// Begins where the script changed, with no separator before it.
    joined: bool,
    /// The evasion separator before it (`*` in `1*3*8…`), if any.
    after_noise: Option<char>,
    /// A dash or a closing bracket among the separators before it
    /// (`010-6234…`, `(010)6234…`).
    after_dash: bool,
}

/// The digit a character stands for as a Chinese numeral once folded
/// (`一`; traditional `貳` and `陸`; `㈤` and `㊄`, which fold to `五`).
#[inline]
fn numeral_of(folded: &FoldEntry) -> Option<u8> {
    match folded {
        FoldEntry::One(d) => numeral_digit(*d),
        _ => None,
    }
}

/// What the digit-run scan needs of one character, from one fold-table
/// lookup: every character of every message passes here, and asking
/// `is_invisible` (a Unicode category search) of each cost the detectors
/// most of their time on Chinese text.
struct CharClass {
    /// The digit it folds to (`８`, `⑧`) or stands for (`八`).
    digit: Option<u8>,
    /// A Chinese numeral ([`numeral_of`]).
    numeral: bool,
    invisible: bool,
    /// Folds to an ASCII letter or digit.
    word: bool,
    /// The digit a letter looks like (`l`, `I`: 1; `O`, `o`: 0), which it
    /// stands for inside a number written in digits.
    lookalike: Option<u8>,
}

fn as_digit(c: char) -> Option<u8> {
    CharClass::of(c).digit
}

impl CharClass {
    #[inline]
    fn of(c: char) -> CharClass {
        if c.is_ascii() {
            return CharClass {
                digit: c.is_ascii_digit().then_some(c as u8),
                numeral: false,
                invisible: false,
                word: c.is_ascii_alphanumeric(),
                lookalike: lookalike_digit(c),
            };
        }
        let folded = fold_char(c);
        let numeral = numeral_of(&folded);
        CharClass {
            digit: match folded {
                FoldEntry::One(d) if d.is_ascii_digit() => Some(d as u8),
                _ => numeral,
            },
            numeral: numeral.is_some(),
            // folded to a character: not invisible (the table says so first),
            // so the category search is left for the rest
            invisible: !matches!(folded, FoldEntry::One(_)) && is_invisible(c),
            word: is_word_entry(&folded),
            // (folded, `Ｉ` is `i`, which is no look-alike written small)
            lookalike: match folded {
                FoldEntry::One(d @ ('l' | 'o')) => lookalike_digit(d),
                _ => None,
            },
        }
    }
}

/// The digit an ASCII letter looks like: `l` and `I` 1, `O` and `o` 0.
#[inline]
fn lookalike_digit(c: char) -> Option<u8> {
    match c {
        'l' | 'I' => Some(b'1'),
        'O' | 'o' => Some(b'0'),
        _ => None,
    }
}

fn is_separator(c: char) -> bool {
    matches!(c, ' ' | '-' | '\u{3000}' | '\u{00A0}' | '－' | '—' | '–')
}

/// The most separator characters between two groups of a number (`138 -
/// 1234 - 5678`: a space, a dash and a space).
const MAX_SEPARATORS: usize = 3;

/// Characters put between the digits of a number, one digit at a time, to
/// get past a filter (`1*3*8*1*2*3*4*5*6*7*8`, `1.3.8.…`): a number holds
/// them only so, the same one throughout, so that an address (`139.196.12.240`)
/// or a version is none. Commas and `、` are left out (they separate the
/// items of a list), as are `/`, `|` and `#` (paths, tables and tags of
/// single digits: in a sample of such lines they made one in fifty a
/// number).
pub(crate) fn is_evasion_separator(c: char) -> bool {
    matches!(c, '*' | '.' | '_' | '·' | '•' | '。' | '＊' | '．' | '＿')
}

fn find_digit_runs(text: &str, enabled: &[Detector], out: &mut Vec<Detection>) {
    let mut run = Run::default();
    let mut prev_word = false;
    let mut prev_char = None;
    for (pos, c) in text.char_indices() {
        let before = prev_char.replace(c);
        let end = pos + c.len_utf8();
        let class = CharClass::of(c);
        // a letter looking like a digit is one in a number written in
        // digits: it may start one only where no letter or digit comes
        // before it (`Hello` is no number), and a number holds a few
        let lookalike = class.lookalike.filter(|_| match run.groups.last() {
            None => !prev_word,
            Some(g) => {
                !g.numerals
                    && (run.seps > 0 || run.letters_in_last_group() < MAX_LETTERS_IN_A_NUMBER)
            }
        });
        if let Some(d) = class.digit.or(lookalike) {
            if run.seps > 1 && !run.dash {
                finish_run(text, &run, false, enabled, out);
                run = Run::default();
            }
            if run.digits.is_empty() {
                run.preceded_by_word = prev_word;
                run.before = before;
            }
            // digits after numerals or the other way round: a number may mix
            // them (`138一二三四5678`), each part a group of its own
            let script_changed = run
                .groups
                .last()
                .is_some_and(|g| g.numerals != class.numeral);
            if run.seps > 0 || run.groups.is_empty() || script_changed {
                run.groups.push(Group {
                    from: run.digits.len(),
                    to: run.digits.len(),
                    numerals: class.numeral,
                    joined: script_changed && run.seps == 0,
                    after_noise: run.noise,
                    after_dash: run.dash,
                });
                run.seps = 0;
                run.noise = None;
                run.dash = false;
            }
            run.digits.push(Digit {
                ch: d,
                start: pos,
                end,
                letter: lookalike.is_some(),
            });
            if let Some(g) = run.groups.last_mut() {
                g.to = run.digits.len();
            }
            prev_word = class.word;
            continue;
        }
        if !run.digits.is_empty() {
            if (c == 'x' || c == 'X' || c == 'ｘ' || c == 'Ｘ') && run.seps == 0 {
                // the ID card check character; the run ends with it
                run.digits.push(Digit {
                    ch: b'x',
                    start: pos,
                    end,
                    letter: false,
                });
                if let Some(g) = run.groups.last_mut() {
                    g.to = run.digits.len();
                }
                prev_word = true;
                continue;
            }
            if class.invisible {
                continue;
            }
            // the bracket closing a first group opened by one (`(010)`)
            // separates as a dash would: a space may follow it
            if matches!(c, ')' | '）')
                && matches!(run.before, Some('(' | '（'))
                && run.groups.len() == 1
                && run.seps == 0
                && run.noise.is_none()
            {
                run.seps = 1;
                run.dash = true;
                run.bracketed_first = true;
                prev_word = false;
                continue;
            }
            // one separator between groups, or a dash between spaces (`138 -
            // 1234`), or one evasion separator (`1*3*8…`, `138*1234*5678`:
            // what a number's range makes of it is decided in `finish_run`)
            let dash = matches!(c, '-' | '－' | '—' | '–');
            let plain = is_separator(c)
                && run.seps < MAX_SEPARATORS
                && run.noise.is_none()
                && !(dash && run.dash);
            let noise = is_evasion_separator(c) && run.seps == 0;
            if plain || noise {
                run.seps += 1;
                run.dash |= dash;
                if noise {
                    run.noise = Some(c);
                }
                prev_word = false;
                continue;
            }
            let followed_by_word = run.seps == 0 && class.word;
            run.ends_joined = run.noise.is_some() && class.word;
            finish_run(text, &run, followed_by_word, enabled, out);
            run = Run::default();
        }
        if !class.invisible {
            prev_word = class.word;
        }
    }
    if !run.digits.is_empty() {
        finish_run(text, &run, false, enabled, out);
    }
}

/// Whether one of `keywords` lies within `chars` characters before or
/// after `span` of `text` (ASCII ones in any case).
pub(crate) fn keyword_near(
    text: &str,
    span: std::ops::Range<usize>,
    keywords: &[&str],
    chars: usize,
) -> bool {
    keyword_near_which(text, span, keywords, chars).is_some()
}

/// The first of `keywords` found within `chars` characters before `span`
/// of `text`, else after it (ASCII ones in any case).
fn keyword_near_which<'k>(
    text: &str,
    span: std::ops::Range<usize>,
    keywords: &[&'k str],
    chars: usize,
) -> Option<&'k str> {
    let (before, after) = windows_around(text, span, chars);
    let bytes = text.as_bytes();
    keyword_between(bytes, before, keywords).or_else(|| keyword_between(bytes, after, keywords))
}

/// The byte ranges of the `chars` characters of `text` before `span` and
/// of those after it (fewer at the text's ends).
pub(crate) fn windows_around(
    text: &str,
    span: std::ops::Range<usize>,
    chars: usize,
) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
    let from = text[..span.start]
        .char_indices()
        .rev()
        .take(chars)
        .last()
        .map_or(span.start, |(i, _)| i);
    let to = text[span.end..]
        .char_indices()
        .nth(chars)
        .map_or(text.len(), |(i, _)| span.end + i);
    (from..span.start, span.end..to)
}

/// The first of `keywords` in `window` (ASCII ones in any case; see
/// [`keyword_between`] for where an ASCII one may start).
pub(crate) fn keyword_in<'k>(window: &[u8], keywords: &[&'k str]) -> Option<&'k str> {
    keyword_between(window, 0..window.len(), keywords)
}

/// The first of `keywords` in `bytes[range]`, ASCII ones in any case and
/// starting a word: not right after a letter where they start with one
/// (`tel` in `hotel`, `call` in `recall`, `id no` in `paid no` are no
/// phone's or card's word), unless a capital starts them there
/// (`userCardNo`), nor right after a digit where they start with one
/// (`0086` in `10086`, a carrier's service number). The byte before the
/// range is read too, so a word cut by the window's start is still seen
/// inside another.
fn keyword_between<'k>(
    bytes: &[u8],
    range: std::ops::Range<usize>,
    keywords: &[&'k str],
) -> Option<&'k str> {
    let starts_word = |at: usize| {
        let (Some(&prev), Some(&first)) =
            (at.checked_sub(1).and_then(|p| bytes.get(p)), bytes.get(at))
        else {
            return true;
        };
        if first.is_ascii_alphabetic() {
            !prev.is_ascii_alphabetic() || (prev.is_ascii_lowercase() && first.is_ascii_uppercase())
        } else if first.is_ascii_digit() {
            !prev.is_ascii_digit()
        } else {
            true
        }
    };
    let window = &bytes[range.clone()];
    keywords.iter().copied().find(|k| {
        window
            .windows(k.len())
            .enumerate()
            .any(|(i, w)| w.eq_ignore_ascii_case(k.as_bytes()) && starts_word(range.start + i))
    })
}

/// How far before a number a code's label makes it a code, in characters
/// (`型号：B123456780`, `Order #: B123456780`).
pub(crate) const CODE_LABEL_CHARS: usize = 10;

/// The labels that name a product's, an order's or a document's code,
/// written before it; ASCII ones in any case. Words that name a number
/// only: money's words (合同, 订单, 快递) precede an account to pay into as
/// often (`合同款打到 6222…`).
const CODE_LABELS: &[&str] = &[
    "型号",
    "型號",
    "料号",
    "料號",
    "货号",
    "貨號",
    "单号",
    "單號",
    "批号",
    "批號",
    "批次",
    "编号",
    "編號",
    "编码",
    "編碼",
    "代码",
    "代碼",
    "序列号",
    "序列號",
    "序号",
    "序號",
    "流水号",
    "流水號",
    "条码",
    "條碼",
    "发票号",
    "發票號",
    "合同号",
    "合同號",
    "物料",
    "规格",
    "規格",
    "sku",
    "model",
    "part no",
    "p/n",
    "s/n",
    "serial",
    "imei",
    "tracking",
    "order no",
    "order #",
    "order id",
    "order number",
    "invoice no",
    "invoice #",
    "item no",
    "item #",
    "lot no",
    "lot #",
    "batch",
];

/// A code's label ([`CODE_LABELS`]) within [`CODE_LABEL_CHARS`] characters
/// before byte `start` of `text`: the number there, an identity card's or a
/// bank card's shape with its check digit, is a code (`型号 B123456780`,
/// `订单号 4…`) unless the card's own word stands near it. Before only: a
/// label after a number labels what follows (`F131104093，订单已付`).
pub(crate) fn code_label_before(text: &str, start: usize) -> Option<&'static str> {
    let before = &text[..start];
    keyword_near_which(before, start..start, CODE_LABELS, CODE_LABEL_CHARS)
}

/// The words that name a bank card or account, near a UnionPay number that
/// fails Luhn ([`unionpay_without_luhn`]); ASCII ones in any case.
const CARD_KEYWORDS: &[&str] = &[
    "卡号",
    "卡號",
    "银行卡",
    "銀行卡",
    "储蓄卡",
    "儲蓄卡",
    "借记卡",
    "借記卡",
    "信用卡",
    "银联",
    "銀聯",
    "账号",
    "帐号",
    "帳號",
    "card",
    // (one word: `card` inside it starts none)
    "bankcard",
    "creditcard",
    "debitcard",
];

/// How near a card number its keyword must be, in characters either side.
pub(crate) const CARD_KEYWORD_CHARS: usize = 20;

/// A card of this many digits needs a keyword near it, as a UnionPay
/// number without Luhn does ([`CARD_KEYWORDS`]).
const SHORT_CARD_DIGITS: usize = 13;

/// A UnionPay card number's shape: 16 to 19 digits starting `62`. Some
/// UnionPay cards carry no Luhn check digit, so one that fails Luhn is a
/// card where a word naming a card stands near it ([`CARD_KEYWORDS`]).
fn unionpay_without_luhn(digits: &[u8]) -> bool {
    (16..=19).contains(&digits.len())
        && digits.starts_with(b"62")
        && digits.iter().all(u8::is_ascii_digit)
}

/// The most digits any digit detector takes (a bank card: 19).
const MAX_NUMBER_DIGITS: usize = 19;

/// Tries every contiguous range of the run's groups that holds few enough
/// digits for a number, most groups first (the whole run where it is
/// short), keeping detections that do not overlap. A long run is a list
/// of numbers one space apart (a roster pasted from a spreadsheet): each
/// number in it is a range of a few groups, so the ranges tried are a few
/// a group, however long the run.
fn finish_run(
    text: &str,
    run: &Run,
    followed_by_word: bool,
    enabled: &[Detector],
    out: &mut Vec<Detection>,
) {
    let n = run.groups.len();
    // a landline after China's calling code has ten digits where its area
    // code has three (`(+86) 10 6234 5678`): the code drops the area's 0
    let mut min_digits = MIN_RUN_DIGITS;
    if run.digits.len() < MIN_RUN_DIGITS {
        let landline_after_code = run.digits.len() == MIN_RUN_DIGITS - 1
            && enabled.contains(&Detector::CnLandline)
            && calling_code_before(text, run.digits[0].start);
        if !landline_after_code {
            return;
        }
        min_digits -= 1;
    }
    // (groups, first, last) of every range short enough to be a number
    let mut ranges: Vec<(usize, usize, usize)> = Vec::new();
    for first in 0..n {
        for last in first..n {
            let digits = run.groups[last].to - run.groups[first].from;
            if digits > MAX_NUMBER_DIGITS {
                break;
            }
            if digits >= min_digits {
                ranges.push((last - first + 1, first, last));
            }
        }
    }
    ranges.sort_unstable_by_key(|&(groups, first, _)| (std::cmp::Reverse(groups), first));
    let mut taken = vec![false; run.digits.len()];
    for (_, first, last) in ranges {
        let (lo, hi) = (run.groups[first].from, run.groups[last].to);
        if taken[lo..hi].contains(&true) {
            continue;
        }
        // ends touching a letter or digit are no boundary
        if first == 0 && run.preceded_by_word {
            continue;
        }
        if last == n - 1 && followed_by_word {
            continue;
        }
        // nor, where the script changes, a digit touching numerals: to
        // digits a numeral is a Chinese character like any other
        // (`…5678一会儿`, `第一138…`), to numerals a digit touches them
        if run.groups[first].joined && run.groups[first].numerals {
            continue;
        }
        if run.groups.get(last + 1).is_some_and(|g| g.joined) && run.groups[last].numerals {
            continue;
        }
        // a number holds a few letters for digits (`l38-l234-5678`)
        let letters = run.digits[lo..hi].iter().filter(|d| d.letter).count();
        if letters > MAX_LETTERS_IN_A_NUMBER {
            continue;
        }
        // digits between evasion separators, one separator throughout the
        // range: one at a time (`1*3*8…`), or in a number's usual blocks
        // (`138.1234.5678`, `138_1234_5678`); an address (`139.196.12.240`)
        // is neither
        let inner = &run.groups[first + 1..=last];
        let spelled_out = match inner.first().and_then(|g| g.after_noise) {
            Some(sep) => {
                let lens: Vec<usize> = (run.groups[first..=last].iter())
                    .map(|g| g.to - g.from)
                    .collect();
                // blocks are the whole of what the separator joins: a
                // name's parts (`IMG_158_7721_8517_9`, `IMG_187_2206_7030.jpg`)
                // are no number
                let joined_on = (run.groups[first].after_noise == Some(sep))
                    || (first == 0 && run.before == Some(sep))
                    || (run.groups.get(last + 1)).is_some_and(|g| g.after_noise == Some(sep))
                    || (last == n - 1 && run.ends_joined);
                let one_at_a_time = lens.iter().all(|&l| l == 1);
                // (`*` between blocks is a product: `150*1200*2400` is a
                // panel's size in millimetres)
                let blocks = usual_blocks(&lens) && !joined_on && !matches!(sep, '*' | '＊');
                if !(inner.iter().all(|g| g.after_noise == Some(sep)) && (one_at_a_time || blocks))
                {
                    continue;
                }
                true
            }
            None if inner.iter().any(|g| g.after_noise.is_some()) => continue,
            None => false,
        };
        let mut digits = [0u8; MAX_NUMBER_DIGITS];
        for (to, d) in digits.iter_mut().zip(&run.digits[lo..hi]) {
            *to = d.ch;
        }
        // a card is written in blocks of four or more but its last (`6222
        // 0212 3456 7890 123`, `3782 822463 10005`), one separator
        // throughout: a range from the middle of one phone number into the
        // next (`5678 139 1234 5678`, `5678 0755-2234-5679`) that passes
        // Luhn is none
        let card_blocks = spelled_out
            || (run.groups[first..last].iter().all(|g| g.to - g.from >= 4)
                && inner.iter().all(|g| g.after_dash == inner[0].after_dash));
        let enabled_here = |d: &Detector| *d != Detector::BankCard || card_blocks;
        let mut span = run.digits[lo].start..run.digits[hi - 1].end;
        if first == 0 && run.bracketed_first && last > 0 {
            // its opening bracket with it: `(010)62345678`, not `010)…`
            span.start -= run.before.map_or(0, char::len_utf8);
        }
        // 13 digits are a card's rarest length (Visa's oldest, Maestro's)
        // and a parcel's tracking number's (韵达 43…) or a barcode's usual
        // one; a code's label before a card's digits makes them an order's
        // or a parcel's number (`订单号 4…`), and a link's digits a post's
        // or an item's id (`weibo.com/…/4…`), unless the card is named
        let card_in_context = |det: &Detector| {
            *det != Detector::BankCard
                || (hi - lo > SHORT_CARD_DIGITS
                    && code_label_before(text, span.start).is_none()
                    && !in_link(text, span.start))
                || keyword_near(text, span.clone(), CARD_KEYWORDS, CARD_KEYWORD_CHARS)
        };
        // a landline's area code is a group of its own (`010-62345678`,
        // `0755 2234 5678`), or a word names a phone: eleven digits
        // starting 0 run together are as often an account's or a code's.
        // Within a longer run it is written with a dash or a bracket: an
        // account's number in blocks of four (`0302 2345 6789 0123 456`)
        // holds a landline's shape in its first three
        let landline_in_context = |det: &Detector| {
            if *det != Detector::CnLandline {
                return true;
            }
            let area_apart = run.groups[first].to - run.groups[first].from
                == landline_area_digits(&digits[..hi - lo]);
            let alone = (first == 0 && last == n - 1)
                || run.groups[first + 1..=last].iter().any(|g| g.after_dash);
            // (China's calling code before it names a phone: `+86 010 …`,
            // written with the 0 the code drops)
            (area_apart && alone)
                || calling_code_before(text, span.start)
                || keyword_near(
                    text,
                    span.clone(),
                    LANDLINE_KEYWORDS,
                    LANDLINE_KEYWORD_CHARS,
                )
        };
        let found = (classify(&digits[..hi - lo], enabled, enabled_here)
            .filter(card_in_context)
            .filter(landline_in_context))
        .or_else(|| {
            let card = enabled.contains(&Detector::BankCard)
                && card_blocks
                && unionpay_without_luhn(&digits[..hi - lo])
                && keyword_near(text, span.clone(), CARD_KEYWORDS, CARD_KEYWORD_CHARS);
            card.then_some(Detector::BankCard)
        });
        if let Some(det) = found {
            taken[lo..hi].fill(true);
            out.push(Detection {
                detector: det,
                start: span.start,
                end: span.end,
            });
            continue;
        }
        // a mobile or a landline number after China's calling code, in
        // the same run (`+8613812345678`, `0086-138…`, `+86 10 6234 5678`)
        // or before it (`(+86) 10 6234 5678`, `+86 (10) 6234 5678`): the
        // number found is the national one, so that it is masked and
        // counted as written without the code (a mobile after a code
        // apart is found above as it stands)
        let code = country_code_digits(&digits[..hi - lo], first == 0 && is_plus(run.before))
            .or_else(|| calling_code_before(text, span.start).then_some(0));
        let national = code.and_then(|code| {
            let det = after_calling_code(&digits[code..hi - lo])?;
            enabled.contains(&det).then_some((det, code))
        });
        if let Some((det, code)) = national {
            taken[lo..hi].fill(true);
            out.push(Detection {
                detector: det,
                start: run.digits[lo + code].start,
                end: span.end,
            });
        }
    }
}

/// Whether byte `start` of `text` is inside a link: the ASCII word it
/// ends (back to a space or a character beyond ASCII) holds `://`, or a
/// host with a top-level domain and a `/` after it (`m.weibo.cn/status/`,
/// `www.example.com/…`). A link's digits are its post's, item's or file's
/// id (a Weibo post's 16 digits start 4 or 5, a Toutiao article's 19
/// digits 6 or 7), so one in ten of them passes Luhn.
fn in_link(text: &str, start: usize) -> bool {
    let before = &text[..start];
    let word_start = before
        .rfind(|c: char| c.is_whitespace() || !c.is_ascii())
        .map_or(0, |at| {
            at + before[at..].chars().next().map_or(1, char::len_utf8)
        });
    let word = &before[word_start..];
    if word.contains("://") {
        return true;
    }
    let Some((host, _)) = word.split_once('/') else {
        return false;
    };
    let top = host
        .rsplit_once('.')
        .map(|(_, top)| top.to_ascii_lowercase());
    top.is_some_and(|top| tld::exist(&top))
}

/// Whether `c` is a plus sign, ASCII or full width.
fn is_plus(c: Option<char>) -> bool {
    matches!(c, Some('+' | '＋'))
}

/// How many of `digits` are China's calling code: `86` where a plus sign
/// stands before them (`+8613812345678`), `0086` (the international
/// prefix) anywhere.
fn country_code_digits(digits: &[u8], after_plus: bool) -> Option<usize> {
    if after_plus && digits.starts_with(b"86") {
        Some(2)
    } else if digits.starts_with(b"0086") {
        Some(4)
    } else {
        None
    }
}

/// Whether China's calling code stands right before byte `start` of
/// `text`, apart from it by a separator or a bracket: `+86 `, `(+86) `,
/// `+86 (`, `0086-` (ASCII or full-width).
fn calling_code_before(text: &str, start: usize) -> bool {
    let mut before = text[..start].chars().rev().peekable();
    let mut apart = 0;
    while before
        .peek()
        .is_some_and(|&c| is_separator(c) || matches!(c, '(' | '（' | ')' | '）'))
    {
        before.next();
        apart += 1;
    }
    if apart == 0 || apart > MAX_SEPARATORS {
        return false;
    }
    let mut digit = || before.next().and_then(as_digit);
    if (digit(), digit()) != (Some(b'6'), Some(b'8')) {
        return false;
    }
    match before.next() {
        Some(c) if is_plus(Some(c)) => true,
        Some(c) if as_digit(c) == Some(b'0') => {
            before.next().and_then(as_digit) == Some(b'0')
                && before.next().and_then(as_digit).is_none()
        }
        _ => false,
    }
}

/// What `digits` written after China's calling code are: a mainland
/// mobile number, or a landline whose area code drops its `0` there
/// (`+86 10 6234 5678` is `010-6234 5678`, `+86 755 …` `0755 …`).
fn after_calling_code(digits: &[u8]) -> Option<Detector> {
    if valid_cn_mobile(digits) {
        return Some(Detector::CnMobile);
    }
    // (digits that keep the 0 make `00…`, which starts no area code)
    let mut national = [b'0'; MAX_NUMBER_DIGITS + 1];
    let national = national.get_mut(..=digits.len())?;
    national[1..].copy_from_slice(digits);
    valid_cn_landline(national).then_some(Detector::CnLandline)
}

/// Whether groups of digits of these lengths are a number's usual blocks:
/// a mobile's 3-4-4, an ID card's 6-8-4, a bank card's fours with a shorter
/// last, or 4-6-5. Between evasion separators (`138.1234.5678`,
/// `6222_0212_3456_7890`) only these are read as a number: dotted
/// addresses, versions and codes have other shapes.
fn usual_blocks(lens: &[usize]) -> bool {
    match lens {
        [3, 4, 4] | [6, 8, 4] | [4, 6, 5] => true,
        [fours @ .., last] if fours.len() >= 3 => {
            fours.iter().all(|&l| l == 4) && (1..=4).contains(last)
        }
        _ => false,
    }
}

/// The number detector, of those `enabled` and admitted by `here`, whose
/// number `digits` is.
fn classify(
    digits: &[u8],
    enabled: &[Detector],
    here: impl Fn(&Detector) -> bool,
) -> Option<Detector> {
    let on = |d: Detector| enabled.contains(&d) && here(&d);
    let has_x = digits.iter().position(|&d| d == b'x');
    if on(Detector::CnIdCard) && valid_cn_id(digits) {
        return Some(Detector::CnIdCard);
    }
    if has_x.is_some() {
        return None;
    }
    if on(Detector::CnMobile) && valid_cn_mobile(digits) {
        return Some(Detector::CnMobile);
    }
    if on(Detector::CnLandline) && valid_cn_landline(digits) {
        return Some(Detector::CnLandline);
    }
    if on(Detector::BankCard) && valid_bank_card(digits) {
        return Some(Detector::BankCard);
    }
    None
}

/// Why a digit run is no detection (for `explain`): the run as written and
/// the reason, for every run of 11 or more digits that no detector accepted,
/// and of 8 to 10 near a word naming a phone (which a number dialled at
/// home in Hong Kong, Macau, Singapore or Taiwan would be, its place named
/// near).
pub fn rejected_runs(text: &str) -> Vec<(usize, usize, String)> {
    let found = find(text, &Detector::ALL);
    let mut out = Vec::new();
    let mut start = None;
    let mut digits = Vec::new();
    let mut end = 0;
    let flush = |start: &mut Option<usize>,
                 digits: &mut Vec<u8>,
                 end: usize,
                 out: &mut Vec<(usize, usize, String)>| {
        if let Some(s) = start.take() {
            if !found.iter().any(|d| d.start < end && s < d.end) {
                if digits.len() >= 11 {
                    out.push((s, end, why_not(text, s, digits)));
                } else if let Some(why) = intl_phones::why_not_national(text, s..end, digits) {
                    out.push((s, end, why));
                }
            }
        }
        digits.clear();
    };
    for (pos, c) in text.char_indices() {
        if let Some(d) =
            as_digit(c).or_else(|| (!digits.is_empty() && (c == 'x' || c == 'X')).then_some(b'x'))
        {
            start.get_or_insert(pos);
            digits.push(d);
            end = pos + c.len_utf8();
        } else if !(is_separator(c) && start.is_some()) {
            flush(&mut start, &mut digits, end, &mut out);
        }
    }
    flush(&mut start, &mut digits, end, &mut out);
    out
}

/// Why a near miss is none (for `explain`; digit runs are
/// [`rejected_runs`]'): for every token, key, URL or identity number that
/// nearly is one (a GitHub token whose checksum fails, a placeholder
/// password, an unsigned JWT, a Hong Kong card whose check digit fails),
/// its span, the detector it nearly is and the reason, in text order.
///
/// ```
/// use wordwarden::detect::{near_misses, Detector};
///
/// let text = "postgres://app:${DB_PASSWORD}@db:5432";
/// let (start, end, detector, why) = &near_misses(text)[0];
/// assert_eq!((*start, *end, *detector), (0, text.len(), Detector::UrlPassword));
/// assert!(why.contains("placeholder"));
/// ```
pub fn near_misses(text: &str) -> Vec<(usize, usize, Detector, String)> {
    // gated as `find_surveyed_into` gates the searches, by one survey
    let survey = Survey::with_detectors(text);
    let letter_ids = letter_ids::may_hold_one(survey).then(|| letter_ids::near_misses(text));
    let permits = permits::may_hold_one(survey).then(|| permits::near_misses(text));
    let emails = (survey.may_have_at_sign() || emails::may_have_worded_at(text)).then(|| {
        emails::emails(text)
            .into_iter()
            .filter_map(|(span, why)| Some((span, Detector::Email, why?)))
    });
    let mut out: Vec<(usize, usize, Detector, String)> = credentials::near_misses(text)
        .into_iter()
        .chain(letter_ids.into_iter().flatten())
        .chain(permits.into_iter().flatten())
        .chain(emails.into_iter().flatten())
        .map(|(span, detector, why)| (span.start, span.end, detector, why))
        .collect();
    out.sort_by_key(|m| (m.0, m.1));
    out
}

/// Why `d`, the digits of a run at byte `start` of `text`, is no number.
fn why_not(text: &str, start: usize, d: &[u8]) -> String {
    if let Some(why) = intl_phones::why_not(text, start) {
        return why;
    }
    let n = d.len();
    if n == 18 && d[..17].iter().all(u8::is_ascii_digit) {
        return "18 characters, but not a valid ID card number (GB 11643 checksum, region or birth date)".into();
    }
    if d.contains(&b'x') {
        return format!(
            "{n} characters with an X: only an 18-character ID card number may end in X"
        );
    }
    if n == 11 && d[0] == b'1' {
        return "11 digits, but not a mainland mobile prefix (1[3-9])".into();
    }
    if valid_cn_landline(d) {
        let area = String::from_utf8_lossy(&d[..landline_area_digits(d)]);
        return format!(
            "{n} digits of a landline's shape (@cn_landline), but its area code \
             ({area}) is not apart (`{area}-…`) and no 电话, 座机 or tel is written \
             within {LANDLINE_KEYWORD_CHARS} characters"
        );
    }
    if (13..=19).contains(&n) {
        if d.iter().all(u8::is_ascii_digit) && !card_network_issues(d) {
            let imei = if n == 15 {
                " (a phone's IMEI is 15 digits)"
            } else {
                ""
            };
            return format!(
                "{n} digits starting {}: no card network issues numbers of this length \
                 starting so{imei}",
                String::from_utf8_lossy(&d[..2])
            );
        }
        if d.iter().all(u8::is_ascii_digit) && is_ean13(d) {
            return "13 digits with a barcode's check digit (EAN-13): a product code, not a card"
                .into();
        }
        if valid_bank_card(d) && in_link(text, start) {
            return format!(
                "{n} digits of a card's shape with its Luhn check digit, but in a link (a \
                 post's or an item's id): a card where 卡号, 银行卡, 账号 or card is written \
                 within {CARD_KEYWORD_CHARS} characters (`?cardNo=…`)"
            );
        }
        if let Some(label) = code_label_before(text, start).filter(|_| valid_bank_card(d)) {
            return format!(
                "{n} digits of a card's shape with its Luhn check digit, but {label} before \
                 them labels a code (卡号, 银行卡, 账号 or card within {CARD_KEYWORD_CHARS} \
                 characters makes them a card)"
            );
        }
        if unionpay_without_luhn(d) {
            return format!(
                "{n} digits: Luhn checksum fails; a UnionPay number (62…) without it is a card \
                 where 卡号, 银行卡, 账号 or card is written within {CARD_KEYWORD_CHARS} characters"
            );
        }
        if n == SHORT_CARD_DIGITS && valid_bank_card(d) {
            return format!(
                "13 digits: a card only where 卡号, 银行卡, 账号 or card is written within \
                 {CARD_KEYWORD_CHARS} characters (13 digits are as often a parcel's tracking number)"
            );
        }
        return format!("{n} digits: Luhn checksum fails, not a bank card");
    }
    format!("{n} digits: no detector takes this length (or it touches a letter or digit)")
}

/// GB 11643-1999: 17 digits and a check character (0-9 or X), a plausible
/// region code and birth date.
pub fn valid_cn_id(d: &[u8]) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10x98765432";
    if d.len() != 18 || d[..17].iter().any(|c| !c.is_ascii_digit()) {
        return false;
    }
    if !(b'1'..=b'9').contains(&d[0]) {
        return false;
    }
    let num = |r: std::ops::Range<usize>| {
        d[r].iter()
            .fold(0u32, |acc, &c| acc * 10 + u32::from(c - b'0'))
    };
    let (year, month, day) = (num(6..10), num(10..12), num(12..14));
    if !(1900..=2099).contains(&year) || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return false;
    }
    let sum: u32 = d[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(&c, w)| u32::from(c - b'0') * w)
        .sum();
    CHECK[(sum % 11) as usize] == d[17]
}

/// A card number: 13-19 digits passing the Luhn check, of a length a card
/// network issues under its first digits (its issuer ranges, ISO/IEC
/// 7812), and no product's barcode (an EAN-13 check digit). Other numbers
/// that pass Luhn are no card: every phone's IMEI passes it by design (15
/// digits, most starting `35`, which no network issues at that length), and
/// so does one in ten of any numbers (order numbers, barcodes). In a text,
/// 13 digits also need a word naming a card near them
/// ([`Detector::BankCard`]).
///
/// ```
/// use wordwarden::detect::valid_bank_card;
///
/// assert!(valid_bank_card(b"4111111111111111")); // Visa, 16 digits
/// assert!(valid_bank_card(b"2221000000000009")); // Mastercard's 2-series
/// assert!(!valid_bank_card(b"356938035643809")); // an IMEI
/// assert!(!valid_bank_card(b"6901234567892")); // a barcode (EAN-13)
/// ```
pub fn valid_bank_card(d: &[u8]) -> bool {
    if !(13..=19).contains(&d.len()) || !d.iter().all(u8::is_ascii_digit) {
        return false;
    }
    card_network_issues(d) && !is_ean13(d) && luhn(d)
}

/// The Luhn checksum (ISO/IEC 7812-1) of ASCII digits.
fn luhn(d: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, &c) in d.iter().rev().enumerate() {
        let mut v = u32::from(c - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum % 10 == 0
}

/// Whether a card network issues numbers of this many digits starting so:
/// the networks' issuer ranges (IIN, ISO/IEC 7812) and their lengths as
/// published. Maestro's are taken at their widest (`50`, `56`-`69`, 12-19
/// digits), so no card of the networks around `6` (UnionPay, Discover,
/// RuPay, JCB's and Maestro's) is refused for its length.
fn card_network_issues(d: &[u8]) -> bool {
    let first = |k: usize| {
        d[..k]
            .iter()
            .fold(0u32, |acc, &c| acc * 10 + u32::from(c - b'0'))
    };
    let n = d.len();
    let within = |lo: usize, hi: usize| (lo..=hi).contains(&n);
    match first(2) {
        // Mir; Mastercard's 2-series
        22..=27 => match first(4) {
            2200..=2204 => within(16, 19),
            2221..=2720 => n == 16,
            _ => false,
        },
        // Diners Club (Carte Blanche 300-305, 3095; International 36, 38-39)
        30 => (matches!(first(3), 300..=305) || first(4) == 3095) && within(14, 19),
        36 => within(14, 19),
        38 | 39 => within(16, 19),
        // China T-Union
        31 => n == 19,
        // American Express
        34 | 37 => n == 15,
        // JCB
        35 => matches!(first(4), 3528..=3589) && within(16, 19),
        // Visa
        40..=49 => matches!(n, 13 | 16 | 19),
        // Mastercard
        51..=55 => n == 16,
        // Maestro; UnionPay (62), Discover (6011, 644-649, 65), RuPay (60,
        // 65), InterPayment (636) and others at 16-19
        50 | 56..=69 => true,
        _ => false,
    }
}

/// Whether 13 digits are a product's barcode (EAN-13, GTIN-13: `690`-`699`
/// for China, `45`/`49` Japan, `40`-`44` Germany) by its check digit: the
/// digits weighted 1, 3, 1, … sum to a multiple of ten. A 13-digit card
/// (Visa's oldest, Maestro's) that is also one is taken for the barcode.
fn is_ean13(d: &[u8]) -> bool {
    d.len() == 13
        && d.iter()
            .enumerate()
            .map(|(i, &c)| u32::from(c - b'0') * if i % 2 == 1 { 3 } else { 1 })
            .sum::<u32>()
            % 10
            == 0
}

/// Mainland mobile numbers: `1[3-9]` and nine more digits.
pub fn valid_cn_mobile(d: &[u8]) -> bool {
    d.len() == 11
        && d[0] == b'1'
        && (b'3'..=b'9').contains(&d[1])
        && d.iter().all(u8::is_ascii_digit)
}

/// Whether `d` is a mainland landline number with its area code: `010` or
/// `02x` and eight digits, or `0` and three digits (`0755`, `0571`) and
/// seven or eight, the number after the code starting 2-9 (numbers
/// starting 0 or 1 are no subscriber's).
///
/// ```
/// use wordwarden::detect::valid_cn_landline;
///
/// assert!(valid_cn_landline(b"01062345678"));
/// assert!(!valid_cn_landline(b"01012345678")); // no subscriber starts 1
/// assert!(valid_cn_landline(b"075522345678"));
/// assert!(valid_cn_landline(b"05712234567"));
/// assert!(!valid_cn_landline(b"02112345"));
/// assert!(!valid_cn_landline(b"01162345678")); // no 011
/// assert!(!valid_cn_landline(b"02102345678")); // no subscriber starts 0
/// ```
pub fn valid_cn_landline(d: &[u8]) -> bool {
    // (a code's digits are there: its length is its pattern's)
    let area = landline_area_digits(d);
    let number = &d[area..];
    area > 0
        && d.iter().all(u8::is_ascii_digit)
        && (number.len() == 8 || (area == 4 && number.len() == 7))
        && (b'2'..=b'9').contains(&number[0])
}

/// The digits of a landline's area code at the start of `d`: 3 for `010`
/// and `02x`, 4 for `03xx`-`09xx`, 0 where `d` starts with none.
fn landline_area_digits(d: &[u8]) -> usize {
    match d {
        [b'0', b'1', b'0', ..] | [b'0', b'2', _, ..] => 3,
        [b'0', b'3'..=b'9', _, _, ..] => 4,
        _ => 0,
    }
}

pub(crate) use intl_phones::code_digits_written as intl_code_digits_written;

/// The digits of a landline's area code as `matched` writes them: one
/// fewer after the calling code, which drops its `0` (`+86 10 6234 5678`).
pub(crate) fn landline_area_written(matched: &str) -> usize {
    let digits = value(Detector::CnLandline, matched);
    let area = landline_area_digits(digits.as_bytes());
    let first = matched.chars().find_map(|c| {
        let class = CharClass::of(c);
        class.digit.or(class.lookalike)
    });
    if first == Some(b'0') {
        area
    } else {
        area.saturating_sub(1)
    }
}

/// Words that name a phone, near a landline number written without its
/// area code apart (`电话 01062345678`); ASCII ones in any case.
const LANDLINE_KEYWORDS: &[&str] = &[
    "电话", "電話", "座机", "座機", "固话", "固話", "总机", "總機", "分机", "分機", "传真", "傳真",
    "tel", "phone", "fax",
];

/// How near a landline number its keyword must be, in characters either side.
const LANDLINE_KEYWORD_CHARS: usize = 20;

/// What `detectors` find in `text`, in the order of their places: each
/// detector and the slice it found (the tests of this module and of its
/// children).
#[cfg(test)]
fn found_by<'t>(text: &'t str, detectors: &[Detector]) -> Vec<(Detector, &'t str)> {
    let mut found = find(text, detectors);
    found.sort_by_key(|d| d.start);
    found
        .into_iter()
        .map(|d| (d.detector, &text[d.start..d.end]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fold::folds_to_word_char;

    /// The one-lookup classes answer what the separate questions answer,
    /// for every character.
    #[test]
    fn char_class_agrees_with_the_fold_everywhere() {
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let class = CharClass::of(c);
            let folded = fold_char(c);
            let digit = match folded {
                FoldEntry::One(d) if d.is_ascii_digit() => Some(d as u8),
                _ => numeral_of(&folded),
            };
            assert_eq!(class.digit, digit, "U+{:04X}", c as u32);
            assert_eq!(class.numeral, numeral_of(&folded).is_some());
            assert_eq!(class.invisible, is_invisible(c), "U+{:04X}", c as u32);
            assert_eq!(class.word, folds_to_word_char(c), "U+{:04X}", c as u32);
            let lookalike = match c.is_ascii() {
                true => "lIOo".contains(c),
                false => matches!(folded, FoldEntry::One('l' | 'o')),
            };
            assert_eq!(class.lookalike.is_some(), lookalike, "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn letters_that_look_like_digits_inside_numbers() {
        use Detector::{BankCard, CnMobile};
        finds_each_and_no_control(
            &[
                ("加微 l3812345678", (CnMobile, "l3812345678")),
                ("电话l38-l234-5678吧", (CnMobile, "l38-l234-5678")),
                ("138OO138000", (CnMobile, "138OO138000")),
                ("I 13812345678", (CnMobile, "13812345678")),
                (
                    "ｌ３８１２３４５６７８",
                    (CnMobile, "ｌ３８１２３４５６７８"),
                ),
                (
                    "卡号 6222 O212 3456 7894",
                    (BankCard, "6222 O212 3456 7894"),
                ),
            ],
            // controls: a word before or after, more than two letters,
            // letters in a number in numerals
            &[
                "hello13812345678",
                "NO13812345678",
                "13812345678lol",
                "l0l0l345678",
                "一三八〇〇l三八〇〇〇",
                "Hello look 13812345",
                "l38-l234-567l",
                "lO l234 5678l",
            ],
        );
        // a roster of such numbers one space apart: each of them (two
        // letters a number, not two a run)
        let text = "l3812345678 l3912345678 l3712345678 1O012345678";
        let found: Vec<&str> = dets(text).into_iter().map(|(_, n)| n).collect();
        assert_eq!(
            found,
            ["l3812345678", "l3912345678", "l3712345678"],
            "1O0… is no mobile number (10012345678)"
        );
    }

    /// No digit detector accepts a run shorter than the count the scan
    /// waits for.
    #[test]
    fn shorter_runs_than_min_run_digits_are_never_detected() {
        let samples = ["13812345678", "6222021234567890128", "11010519491231002x"];
        for s in samples {
            assert!(
                classify(s.as_bytes(), &Detector::ALL, |_| true).is_some(),
                "{s}"
            );
            for len in 1..MIN_RUN_DIGITS {
                assert_eq!(
                    classify(&s.as_bytes()[..len], &Detector::ALL, |_| true),
                    None,
                    "{s} {len}"
                );
            }
        }
        assert!(holds_digits("１3８-1234-5678", MIN_RUN_DIGITS));
        assert!(!holds_digits("订单 1234567890 已发", MIN_RUN_DIGITS));
    }

    fn dets(text: &str) -> Vec<(Detector, &str)> {
        found_by(text, &Detector::ALL)
    }

    /// Each text holds the one number given, and each control none.
    fn finds_each_and_no_control(cases: &[(&str, (Detector, &str))], controls: &[&str]) {
        for &(text, found) in cases {
            assert_eq!(dets(text), vec![found], "{text}");
        }
        for text in controls {
            assert_eq!(dets(text), vec![], "{text}");
        }
    }

    #[test]
    fn id_card_checksum() {
        assert!(valid_cn_id(b"11010519491231002x"));
        assert!(!valid_cn_id(b"110105194912310021"));
        assert_eq!(
            dets("身份证11010519491231002X请核对"),
            vec![(Detector::CnIdCard, "11010519491231002X")]
        );
        assert_eq!(dets("身份证110105194912310021"), vec![]);
    }

    #[test]
    fn id_card_with_separators_and_full_width() {
        assert_eq!(
            dets("号码 110105 19491231 002X"),
            vec![(Detector::CnIdCard, "110105 19491231 002X")]
        );
        let t = "１１０１０５１９４９１２３１００２Ｘ";
        assert_eq!(dets(t), vec![(Detector::CnIdCard, t)]);
    }

    /// A landline's area code apart, or a word naming a phone near; the
    /// same digits run together and unnamed, a code of another kind, are
    /// none, and so are a hotline's (`400-…`) and a number after a letter.
    #[test]
    fn landline_numbers() {
        use Detector::CnLandline;
        finds_each_and_no_control(
            &[
                ("北京办公室 010-62345678", (CnLandline, "010-62345678")),
                ("深圳 0755-2345678 转 801", (CnLandline, "0755-2345678")),
                ("打 0755 2234 5678 找我", (CnLandline, "0755 2234 5678")),
                ("021 6234 5678", (CnLandline, "021 6234 5678")),
                ("座机02162345678", (CnLandline, "02162345678")),
                ("Tel 057187654321", (CnLandline, "057187654321")),
                (
                    "０２１－６２３４５６７８",
                    (CnLandline, "０２１－６２３４５６７８"),
                ),
                (
                    "零二一-六二三四五六七八",
                    (CnLandline, "零二一-六二三四五六七八"),
                ),
                // the area code in brackets, as business cards print it
                ("电话：(010)62345678", (CnLandline, "(010)62345678")),
                ("（0755）2234 5678 前台", (CnLandline, "（0755）2234 5678")),
                ("(0571) 87654321", (CnLandline, "(0571) 87654321")),
            ],
            &[
                "编号 02162345678",
                "01062345678 已处理",
                "011-12345678",
                "021-02345678",
                "021-1234567",
                "400-123-4567",
                "SN021-62345678",
                "0755-123456",
            ],
        );
        // a bracket opened before a number and closed after it, or
        // closing a list's item number, leaves the number as it was
        assert_eq!(dets("(13812345678)"), [(Detector::CnMobile, "13812345678")]);
        assert_eq!(
            dets("(1) 13812345678"),
            [(Detector::CnMobile, "13812345678")]
        );
        // an account's number in blocks holds a landline's shape in its
        // first three: within a longer run a landline is written with a
        // dash or a bracket
        assert_eq!(dets("账户 0302 2345 6789 0123 456"), []);
        assert_eq!(
            dets("0755-2234-5678 0755-2234-5679"),
            [
                (CnLandline, "0755-2234-5678"),
                (CnLandline, "0755-2234-5679")
            ]
        );
        // after China's calling code the area code drops its 0; the
        // number found is the national one, valued as written at home
        for (text, number) in [
            ("+86 10 6234 5678", "10 6234 5678"),
            ("Tel: +86-10-62345678", "10-62345678"),
            ("+861062345678", "1062345678"),
            ("0086 755 2234 5678", "755 2234 5678"),
            ("(+86) 21 6234 5678", "21 6234 5678"),
            ("+86 (10) 6234 5678", "10) 6234 5678"),
            (
                "＋８６ ５７１ ８７６５ ４３２１",
                "５７１ ８７６５ ４３２１",
            ),
            ("电话 +86 571 2234567 分机 8", "571 2234567"),
        ] {
            assert_eq!(dets(text), [(CnLandline, number)], "{text}");
            assert_eq!(
                value(CnLandline, number).len(),
                value(CnLandline, number).trim_start_matches('0').len() + 1,
                "{text}"
            );
        }
        assert_eq!(value(CnLandline, "10 6234 5678"), "01062345678");
        // the area code written with its 0 after the code, as some do
        assert_eq!(dets("+86 010 6234 5678"), [(CnLandline, "010 6234 5678")]);
        assert_eq!(dets("+86 02162345678"), [(CnLandline, "02162345678")]);
        assert_eq!(value(CnLandline, "010-6234 5678"), "01062345678");
        for text in [
            // no calling code: ten digits of another kind
            "编号 86 10 6234 5678",
            "10 6234 5678",
            "10086 10 6234 5678",
            // no subscriber starts 1
            "+86 10 1234 5678",
            "+86 11 6234 5678",
        ] {
            assert_eq!(dets(text), [], "{text}");
        }
        // explain says why digits run together are none
        let why = &rejected_runs("编号 02162345678")[0].2;
        assert!(why.contains("landline") && why.contains("(021)"), "{why}");
        // a roster of them, one space apart, is each of them
        assert_eq!(
            dets("010-62345678 021-62345678"),
            [(CnLandline, "010-62345678"), (CnLandline, "021-62345678")]
        );
    }

    #[test]
    fn mobile_numbers() {
        assert_eq!(
            dets("加我13812345678"),
            vec![(Detector::CnMobile, "13812345678")]
        );
        assert_eq!(
            dets("电话 138-1234-5678"),
            vec![(Detector::CnMobile, "138-1234-5678")]
        );
        assert_eq!(
            dets("电话 138 1234 5678。"),
            vec![(Detector::CnMobile, "138 1234 5678")]
        );
        // not inside a longer digit run, not after a letter
        assert_eq!(dets("订单 1381234567890"), vec![]);
        assert_eq!(dets("SN13812345678"), vec![]);
        assert_eq!(dets("12812345678"), vec![]);
    }

    #[test]
    fn numbers_in_chinese_numerals() {
        for (text, number) in [
            ("电话一三八一二三四五六七八", "一三八一二三四五六七八"),
            ("打幺三八 幺二三四 五六七八吧", "幺三八 幺二三四 五六七八"),
            ("壹叁捌壹贰叁肆伍陆柒捌", "壹叁捌壹贰叁肆伍陆柒捌"),
            ("壹叁捌壹貳叁肆伍陸柒捌", "壹叁捌壹貳叁肆伍陸柒捌"),
            ("㈠㈢㈧㈠㈡㈢㈣㈤㈥㈦㈧", "㈠㈢㈧㈠㈡㈢㈣㈤㈥㈦㈧"),
            ("号码㊀㊂㊇㊀㊁㊂㊃㊄㊅㊆㊇", "㊀㊂㊇㊀㊁㊂㊃㊄㊅㊆㊇"),
            (
                "卡号四一一一一一一一一一一一一一一一",
                "四一一一一一一一一一一一一一一一",
            ),
        ] {
            let want = if number.chars().count() == 16 {
                Detector::BankCard
            } else {
                Detector::CnMobile
            };
            assert_eq!(dets(text), vec![(want, number)], "{text}");
        }
        // numbers mixing digits and numerals
        for number in ["1381234五六七八", "1三8一二3四5六7八", "幺38-一二三四-5678"]
        {
            assert_eq!(dets(number), vec![(Detector::CnMobile, number)], "{number}");
        }
        // where they meet, to digits a numeral is a Chinese character like
        // any other, to numerals a digit touches them
        assert_eq!(dets("一三八一二三四五六七八9"), vec![]);
        assert_eq!(dets("9一三八一二三四五六七八"), vec![]);
        assert_eq!(
            dets("13812345678一会儿打"),
            vec![(Detector::CnMobile, "13812345678")]
        );
        assert_eq!(
            dets("第一13812345678"),
            vec![(Detector::CnMobile, "13812345678")]
        );
        // the checksum and prefix rules hold as for digits
        assert_eq!(dets("一二八一二三四五六七八"), vec![]);
        assert_eq!(dets("一二三四五六七八九十一二三"), vec![]);
        assert!(holds_digits("一三八一二三四五六七八", MIN_RUN_DIGITS));
        // zero-width characters inside, as in a digit number
        assert_eq!(
            dets("幺\u{200B}三八幺二三四五六七八"),
            vec![(Detector::CnMobile, "幺\u{200B}三八幺二三四五六七八")]
        );
        // eleven numerals apart are no number, and not even scanned for one
        assert!(!holds_digits(
            "一个二个三个四个五个六个七个八个九个一一",
            MIN_RUN_DIGITS
        ));
    }

    #[test]
    fn styled_digits() {
        assert_eq!(
            dets("❶❸❽①②③④⑤⑥⑦⑧"),
            vec![(Detector::CnMobile, "❶❸❽①②③④⑤⑥⑦⑧")]
        );
    }

    #[test]
    fn bank_cards() {
        assert_eq!(
            dets("卡号 4111 1111 1111 1111 收到"),
            vec![(Detector::BankCard, "4111 1111 1111 1111")]
        );
        assert_eq!(dets("卡号 4111111111111112"), vec![]); // Luhn fails
                                                           // a 13-digit millisecond timestamp that passes Luhn is no card
        assert_eq!(dets("ts 1700000000004"), vec![]);
        // blocks of four or more but the last
        for card in ["6222 0212 3456 7890 128", "3782 822463 10005"] {
            assert_eq!(dets(card), vec![(Detector::BankCard, card)]);
        }
    }

    /// `prefix` filled with `fill` to `len - 1` digits and the Luhn check
    /// digit after.
    fn luhn_number(prefix: &str, fill: char, len: usize) -> String {
        let mut body: String = prefix.to_string();
        while body.len() < len - 1 {
            body.push(fill);
        }
        (b'0'..=b'9')
            .map(|c| format!("{body}{}", c as char))
            .find(|n| luhn(n.as_bytes()))
            .unwrap_or_default()
    }

    #[test]
    fn card_networks_issue_their_numbers_at_their_lengths() {
        let card =
            |prefix: &str, len: usize| valid_bank_card(luhn_number(prefix, '3', len).as_bytes());
        // (first digits, lengths a network issues, lengths it does not)
        let networks: &[(&str, &[usize], &[usize])] = &[
            ("4", &[16, 19], &[14, 15, 17, 18]), // Visa
            ("51", &[16], &[15, 17, 19]),        // Mastercard
            ("55", &[16], &[19]),
            ("2221", &[16], &[15, 19]), // Mastercard's 2-series
            ("2720", &[16], &[19]),
            ("2200", &[16, 19], &[15]), // Mir
            ("34", &[15], &[14, 16]),   // American Express
            ("37", &[15], &[16]),
            ("3528", &[16, 19], &[15]), // JCB
            ("3589", &[16], &[15]),
            ("36", &[14, 16, 19], &[13]), // Diners Club
            ("300", &[14, 16], &[13]),
            ("3095", &[14, 19], &[13]),
            ("38", &[16], &[15]),
            ("31", &[19], &[16]),           // China T-Union
            ("62", &[16, 17, 18, 19], &[]), // UnionPay
            ("6011", &[16, 19], &[]),       // Discover
            ("50", &[13, 16, 19], &[]),     // Maestro
        ];
        for &(prefix, issued, not) in networks {
            for &len in issued {
                assert!(card(prefix, len), "{prefix}… {len} digits is a card");
            }
            for &len in not {
                assert!(!card(prefix, len), "{prefix}… {len} digits is no card");
            }
        }
        // first digits no network issues
        for prefix in [
            "1", "2100", "2220", "2721", "28", "306", "33", "3527", "3590", "7", "8", "9",
        ] {
            for len in 13..=19 {
                let n = luhn_number(prefix, '3', len);
                assert!(!valid_bank_card(n.as_bytes()), "{n}");
            }
        }
        // Luhn still decides
        assert!(!valid_bank_card(b"4111111111111112"));
    }

    #[test]
    fn payment_providers_test_cards_are_cards() {
        // the test numbers a payment provider publishes for each network
        for card in [
            "4242424242424242",    // Visa
            "4000056655665556",    // Visa debit
            "5555555555554444",    // Mastercard
            "2223003122003222",    // Mastercard, 2-series
            "5105105105105100",    // Mastercard prepaid
            "378282246310005",     // American Express
            "371449635398431",     // American Express
            "6011111111111117",    // Discover
            "6011000990139424",    // Discover
            "3056930009020004",    // Diners Club
            "36227206271667",      // Diners Club, 14 digits
            "3566002020360505",    // JCB
            "6200000000000005",    // UnionPay
            "6205500000000000004", // UnionPay, 19 digits
        ] {
            assert!(valid_bank_card(card.as_bytes()), "{card}");
            assert_eq!(
                dets(&format!("转到 {card} 谢谢")),
                vec![(Detector::BankCard, card)]
            );
        }
    }

    #[test]
    fn imeis_barcodes_and_parcel_numbers_are_no_cards() {
        // an IMEI carries a Luhn check digit by design: every one passes
        for imei in [
            "356938035643809",
            "490154203237518",
            "352099001761481",
            "353918057123453",
        ] {
            assert!(luhn(imei.as_bytes()), "{imei}");
            assert_eq!(
                dets(&format!("手机串号 {imei} 帮我查下保修")),
                vec![],
                "{imei}"
            );
        }
        // EAN-13 barcodes (China 690-699, Japan 45/49, Germany 400-440)
        // that pass Luhn too
        for code in ["6901234567892", "4901234567894", "6920202888098"] {
            assert!(luhn(code.as_bytes()) && is_ean13(code.as_bytes()), "{code}");
            assert_eq!(dets(&format!("商品条码 {code}")), vec![], "{code}");
        }
        // a 13-digit Visa number that is no barcode is still a card
        let visa13 = (0..1000)
            .map(|i| luhn_number(&format!("4{i:03}"), '7', 13))
            .find(|n| !is_ean13(n.as_bytes()))
            .unwrap_or_default();
        assert_eq!(
            dets(&format!("卡号 {visa13}")),
            vec![(Detector::BankCard, visa13.as_str())]
        );
        // where no word names a card, 13 digits are a parcel's (韵达 43…)
        let parcel = (0..1000)
            .map(|i| luhn_number(&format!("43{i:03}"), '1', 13))
            .find(|n| !is_ean13(n.as_bytes()))
            .unwrap_or_default();
        assert!(valid_bank_card(parcel.as_bytes()));
        assert_eq!(dets(&format!("韵达快递单号 {parcel} 明天到")), vec![]);
        assert!(why_not("", 0, parcel.as_bytes()).contains("tracking number"));
        // and Mastercard's 2-series, which the first digits 3-6 had missed
        assert_eq!(
            dets("卡号 2221 0000 0000 0009"),
            vec![(Detector::BankCard, "2221 0000 0000 0009")]
        );
        // explain says why
        assert!(why_not("", 0, b"356938035643809").contains("IMEI"));
        assert!(why_not("", 0, b"6901234567892").contains("EAN-13"));
    }

    /// A Luhn check digit holds for one number in ten: an order's number of
    /// 19 digits starting 4 or 62 (淘宝's) is a card's shape that often, so
    /// a code's label before the digits makes them a code, unless a word
    /// naming a card stands near them.
    #[test]
    fn labelled_order_numbers_are_no_cards() {
        let visa19 = luhn_number("4", '3', 19);
        let unionpay19 = luhn_number("62", '5', 19);
        for number in [visa19.as_str(), unionpay19.as_str()] {
            assert!(valid_bank_card(number.as_bytes()), "{number}");
            for text in [
                format!("订单号 {number} 已发货"),
                format!("淘宝订单号：{number}"),
                format!("交易流水号 {number}"),
                format!("Order #: {number}"),
            ] {
                assert_eq!(dets(&text), vec![], "{text}");
                let why = &rejected_runs(&text)[0].2;
                assert!(why.contains("labels a code"), "{text}: {why}");
            }
            for text in [
                // no label, or the card named beside it
                format!("打到 {number} 就行"),
                format!("订单号 {number} 的退款退回卡号"),
                format!("退款银行卡 订单号 {number}"),
                // a label after the number, or more than ten characters before
                format!("{number} 的订单号我晚点发你"),
                format!("订单号的事明天再说，先打到 {number}"),
            ] {
                assert_eq!(dets(&text), vec![(Detector::BankCard, number)], "{text}");
            }
        }
        // money's words precede an account to pay into as often
        let card = luhn_number("6222", '1', 16);
        assert_eq!(
            dets(&format!("合同款打到 {card}")),
            vec![(Detector::BankCard, card.as_str())]
        );
    }

    proptest::proptest! {
        /// A card by the networks' ranges passes Luhn, and was a card by
        /// the first digit 3-6 the detector asked for before, or is one of
        /// Mastercard's and Mir's numbers starting 2: the ranges only ever
        /// take cards away, but there.
        #[test]
        fn card_networks_only_narrow_the_first_digits(d in "[0-9]{13,19}") {
            let b = d.as_bytes();
            if valid_bank_card(b) {
                proptest::prop_assert!(luhn(b));
                proptest::prop_assert!((b'3'..=b'6').contains(&b[0]) || b[0] == b'2', "{}", d);
            }
        }
    }

    /// A dash between spaces between a number's groups, and digits spelled
    /// out one at a time between one evasion separator; controls: an
    /// address, a version, mixed separators, a list, table columns two
    /// spaces apart, paths and tags, two dashes.
    #[test]
    fn separators_between_groups_and_between_single_digits() {
        use Detector::{BankCard, CnMobile};
        finds_each_and_no_control(
            &[
                (
                    "电话 138 - 1234 - 5678 谢谢",
                    (CnMobile, "138 - 1234 - 5678"),
                ),
                ("电话 138 -1234- 5678", (CnMobile, "138 -1234- 5678")),
                ("1*3*8*1*2*3*4*5*6*7*8", (CnMobile, "1*3*8*1*2*3*4*5*6*7*8")),
                (
                    "加我1.3.8.1.2.3.4.5.6.7.8吧",
                    (CnMobile, "1.3.8.1.2.3.4.5.6.7.8"),
                ),
                (
                    "一*三*八*一*二*三*四*五*六*七*八",
                    (CnMobile, "一*三*八*一*二*三*四*五*六*七*八"),
                ),
                (
                    "卡号4_1_1_1_1_1_1_1_1_1_1_1_1_1_1_1",
                    (BankCard, "4_1_1_1_1_1_1_1_1_1_1_1_1_1_1_1"),
                ),
            ],
            &[
                "服务器 139.196.12.240",
                "版本 1.3.8.1.2.3.4.5.6.7",
                "1*3*8*1*2*3*4.5*6*7*8",
                "13*8*1*2*3*4*5*6*7*8",
                "138*1234*5678",
                "选 1,3,8,1,2,3,4,5,6,7,8",
                "138    1234 5678",
                "表格 138  6803  9503",
                "路径 /1/3/8/1/2/3/4/5/6/7/8",
                "#1#3#8#1#2#3#4#5#6#7#8",
                "138 -- 1234 -- 5678",
                "1*3*8*1*2*3*4*5*6*7",
            ],
        );
    }

    /// Phone numbers written in blocks, one after another: a range from
    /// the middle of one into the next (`5678 139 1234 5678`, 15 digits)
    /// may pass Luhn, and was taken for a card before the numbers around
    /// it; cards are written in blocks of four or more.
    #[test]
    fn phone_numbers_in_blocks_one_after_another() {
        assert_eq!(
            dets("138 1234 5678 139 1234 5678 137 1234 5678"),
            [
                (Detector::CnMobile, "138 1234 5678"),
                (Detector::CnMobile, "139 1234 5678"),
                (Detector::CnMobile, "137 1234 5678"),
            ]
        );
    }

    #[test]
    fn several_numbers_separated_by_spaces() {
        assert_eq!(
            dets("13812345678 4111111111111111"),
            vec![
                (Detector::CnMobile, "13812345678"),
                (Detector::BankCard, "4111111111111111"),
            ]
        );
    }

    /// A roster pasted from a spreadsheet is one run of numbers a space
    /// apart: every number in it is found, however many (runs over 64
    /// digits were dropped whole, so six phone numbers a space apart went
    /// unseen), and a run of thousands of groups takes linear time.
    #[test]
    fn a_long_run_of_numbers_a_space_apart() {
        let numbers: Vec<String> = (0..1000).map(|i| format!("1381234{i:04}")).collect();
        let text = numbers.join(" ");
        let found = dets(&text);
        assert_eq!(found.len(), 1000);
        assert!(found.iter().all(|(d, _)| *d == Detector::CnMobile));
        let mut seen: Vec<&str> = found.iter().map(|(_, n)| *n).collect();
        seen.sort_unstable();
        assert_eq!(seen, numbers);
        // grouped numbers among them, and an ID card
        let text = "13812345678 138 1234 5679 11010519491231002X 4111 1111 1111 1111 13812345680";
        assert_eq!(
            dets(text),
            vec![
                (Detector::CnMobile, "13812345678"),
                (Detector::CnMobile, "138 1234 5679"),
                (Detector::CnIdCard, "11010519491231002X"),
                (Detector::BankCard, "4111 1111 1111 1111"),
                (Detector::CnMobile, "13812345680"),
            ]
        );
        // 200,000 one-digit groups: none found, in 0.45 s by the release
        // build (`wordwarden scan` of this text, start-up included; 0.66 s
        // for twice as many), in seconds by this debug build, and in hours
        // were a run's groups tried against each other. Not timed here (a
        // loaded machine took 14 s where 10 had been the bound): a
        // quadratic walk would hold the suite up until it is looked at.
        let digits = "1 ".repeat(200_000);
        assert_eq!(dets(&digits), vec![]);
    }

    /// A link's digits are its post's or item's id: a card there only where
    /// a word names a card, in the link or beside it.
    #[test]
    fn ids_in_links_are_no_cards() {
        let weibo = luhn_number("49", '1', 16);
        let toutiao = luhn_number("6", '8', 19);
        for (url, number) in [
            (format!("https://weibo.com/1234567890/{weibo}"), &weibo),
            (
                format!("看这个 https://m.toutiao.com/article/{toutiao}/ 哈哈"),
                &toutiao,
            ),
            (format!("www.example.com/item?id={weibo}"), &weibo),
            (format!("m.weibo.cn/status/{weibo} 转发"), &weibo),
            (
                format!("链接:https://example.com/s?q={toutiao}&from=share"),
                &toutiao,
            ),
        ] {
            assert!(valid_bank_card(number.as_bytes()), "{number}");
            assert_eq!(dets(&url), vec![], "{url}");
            let why = &rejected_runs(&url)
                .into_iter()
                .find(|r| url[r.0..r.1] == **number)
                .map(|r| r.2)
                .unwrap_or_default();
            assert!(why.contains("in a link"), "{url}: {why}");
        }
        for text in [
            // the card named in the link, or beside it
            format!("https://pay.example.com/bind?cardNo={weibo}"),
            format!("https://a.cn/x/{weibo} 是我的银行卡"),
            // a link before, then the number on its own
            format!("https://example.com/a 卡 {weibo}"),
            format!("看 https://example.com/a，{weibo}"),
        ] {
            assert_eq!(
                dets(&text),
                vec![(Detector::BankCard, weibo.as_str())],
                "{text}"
            );
        }
        // digits after a slash that is no link's
        for text in [format!("第 3/{weibo}"), format!("v1.2/{weibo}")] {
            assert_eq!(
                dets(&text),
                vec![(Detector::BankCard, weibo.as_str())],
                "{text}"
            );
        }
        // a mobile number or an ID card in a link is still one
        assert_eq!(
            dets("https://example.com/u?phone=13812345678"),
            vec![(Detector::CnMobile, "13812345678")]
        );
    }

    /// A mobile number after China's country code with nothing between is
    /// the number without the code: masked, counted and valued so.
    #[test]
    fn mobiles_after_the_country_code_are_found() {
        for (text, number) in [
            ("我的手机+8613812345678", "13812345678"),
            ("tel:+8613812345678", "13812345678"),
            (
                "Ｔｅｌ ＋８６１３８１２３４５６７８",
                "１３８１２３４５６７８",
            ),
            ("008613812345678 是他的", "13812345678"),
            // with a separator after the code, as before
            ("+86 138 1234 5678", "138 1234 5678"),
            ("0086-13812345678", "13812345678"),
        ] {
            assert_eq!(dets(text), vec![(Detector::CnMobile, number)], "{text}");
        }
        assert_eq!(
            value(Detector::CnMobile, "１３８１２３４５６７８"),
            value(Detector::CnMobile, "13812345678")
        );
        for text in [
            // no plus sign: 13 digits of another kind
            "编号 8613812345678",
            // not a mobile after the code
            "+8612812345678",
            "+86138123456789",
        ] {
            assert_eq!(dets(text), vec![], "{text}");
        }
    }

    proptest::proptest! {
        /// The count before the scan never skips a text the scan finds a
        /// number in, and no number found ends in a numeral that touches a
        /// digit: numbers in digits, numerals and both, cut by separators,
        /// invisibles and other characters, between other text.
        #[test]
        fn the_digit_count_never_skips_a_number(
            number in proptest::sample::select(vec![
                "13812345678", "一三八一二三四五六七八", "幺三八幺二三四五六七八",
                "4111111111111111", "四一一一一一一一一一一一一一一一", "l38O0138000",
                "1三8一二3四5六7八", "4一1一1一1一1一1一1一1一",
                "1*3*8*1*2*3*4*5*6*7*8", "一.三.八.一.二.三.四.五.六.七.八",
            ]),
            cuts in proptest::collection::vec(
                (0usize..20, proptest::sample::select(vec![" ", "-", "\u{200B}", "  ", "的", "1", "一", "*", " - "])),
                0..4,
            ),
            before in proptest::sample::select(vec!["", "电话", "a", "1", "一", " "]),
            after in proptest::sample::select(vec!["", "吧", "x", "9", "九", "。"]),
        ) {
            let mut chars: Vec<String> = number.chars().map(String::from).collect();
            for (at, piece) in cuts {
                chars.insert(at % (chars.len() + 1), piece.to_string());
            }
            let text = format!("{before}{}{after}", chars.concat());
            let mut found = Vec::new();
            find_digit_runs(&text, &Detector::ALL, &mut found);
            if !found.is_empty() {
                let count = MIN_RUN_DIGITS - MAX_LETTERS_IN_A_NUMBER;
                proptest::prop_assert!(holds_digits(&text, count), "{text:?}");
            }
            // a number that ends in a numeral touches no digit there
            let numeral = |c: Option<char>| c.is_some_and(|c| CharClass::of(c).numeral);
            let digit = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit());
            for d in &found {
                let number = &text[d.start..d.end];
                let before = text[..d.start].chars().rev().find(|&c| !is_invisible(c));
                let after = text[d.end..].chars().find(|&c| !is_invisible(c));
                let numeral_touches_digit = (numeral(number.chars().next()) && digit(before))
                    || (numeral(number.chars().last()) && digit(after));
                proptest::prop_assert!(!numeral_touches_digit, "{number:?} in {text:?}");
            }
        }
    }

    /// Every detector's search, whatever the survey says.
    fn found_ungated(text: &str) -> Vec<Detection> {
        let mut out = Vec::new();
        find_digit_runs(text, &Detector::ALL, &mut out);
        emails::find_into(text, &mut out);
        letter_ids::find_into(text, &Detector::ALL, &mut out);
        permits::find_into(text, &mut out);
        credentials::find_into(text, &Detector::ALL, &mut out);
        out
    }

    proptest::proptest! {
        /// The survey of a text's bytes spares searches that would find
        /// nothing, never one that finds something: numbers with letters,
        /// in ASCII and full width, after spaces, e-mail addresses with
        /// each at-sign, permits with their names, among other text.
        #[test]
        fn the_survey_never_skips_a_detection(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "A123456(3)", "A 123456(3)", "Ａ１２３４５６（３）", "A１２３４５６(3)",
                    "E12345678", "EA1234567", "A123456789", "C12345678", "CA1234567",
                    "H1234567801", "12345678", "１２３４５６７８", "13812345678",
                    "li@example.com", "li＠example.com", "li﹫example.com",
                    "li(at)example.com", "li【at】example.cn", "li（ＡＴ）example.com",
                    "li(ａt)example.com", "(dot)com", "[at]", "at",
                    "通行证", "回乡证", "台胞证", "护照", "passport", "permit",
                    " ", "，", "的", "Q3", "a", "1", "１", "Ａ", "(", ")",
                ]),
                0..8,
            ),
        ) {
            let text = pieces.concat();
            let key = |mut found: Vec<Detection>| {
                found.sort_by_key(|d| (d.start, d.end, d.detector as u8));
                found
            };
            proptest::prop_assert_eq!(
                key(find(&text, &Detector::ALL)),
                key(found_ungated(&text)),
                "{:?}",
                text
            );
        }
    }

    #[test]
    fn never_panics_on_odd_input() {
        for t in [
            "",
            "x",
            "1",
            "1-",
            "-1",
            "1x",
            "x1",
            &"9".repeat(500),
            "1 2 3 4 5 6 7 8 9 0 1",
        ] {
            let _ = dets(t);
        }
    }
}
