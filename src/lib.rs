//! # wordwarden
//!
//! Streaming sensitive-word detection for archived enterprise chat.
//!
//! The crate is a pure detection core — [`fold`] (evasion-resistant text
//! folding with an offset map), [`lists`] (the word-list format),
//! [`ruleset`] (compiled matching), [`detect`] (validated personal-data
//! detectors), [`alert`] (the alert contract), [`envelope`] (message decoding,
//! WeCom archive records included), [`encoding`] (lists and messages in
//! GB18030, Big5 or UTF-16), [`split`] (terms sent a few characters
//! a message), [`tally`] (a list's values sent a few a message),
//! [`withdrawn`] (alerting messages their senders took back) and
//! [`lint`] — plus, behind the default
//! `engine` feature, the Kafka streaming engine around it.
//!
//! ```
//! use wordwarden::lists::WordListSet;
//! use wordwarden::ruleset::Ruleset;
//!
//! let lists = WordListSet::from_sources(vec![
//!     ("finance/insider.txt".into(), "#! severity: high\n内幕消息\n".into()),
//! ]);
//! let ruleset = Ruleset::builder().build(&lists).unwrap();
//! for text in ["内*幕*消*息", "內幕消息", "内 幕 消 息", "内\u{200B}幕消息", "neimuxiaoxi"] {
//!     assert_eq!(ruleset.find(text).len(), 1, "{text}");
//! }
//! assert!(ruleset.find("内部的消息").is_empty());
//! ```
#![warn(missing_docs)]

pub mod alert;
pub mod audience;
pub mod cases;
pub mod detect;
pub mod diff;
pub mod encoding;
pub mod envelope;
pub mod evasion;
pub mod fold;
pub mod judge;
pub mod lint;
pub mod lists;
pub mod people;
pub mod pseudonym;
pub mod ruleset;
pub mod split;
pub mod tally;
pub mod withdrawn;

#[cfg(feature = "engine")]
pub mod engine;
