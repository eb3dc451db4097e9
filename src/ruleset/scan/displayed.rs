//! Text as it is displayed under right-to-left overrides.

use crate::fold::{ends_paragraph, POP_DIRECTIONAL_FORMATTING, RIGHT_TO_LEFT_OVERRIDE};

/// A text in the order it is displayed: each run under a right-to-left
/// override reversed, the override characters dropped.
pub(super) struct Displayed {
    pub text: String,
    /// Each character of `text`: where it is there, where it was written,
    /// and whether it was in an overridden run.
    chars: Vec<(u32, u32, u32, bool)>,
}

impl Displayed {
    /// The displayed order of `text`, or `None` when nothing is overridden.
    pub fn of(text: &str) -> Option<Displayed> {
        let mut shown = Displayed {
            text: String::with_capacity(text.len()),
            chars: Vec::new(),
        };
        let mut run: Vec<(char, u32, u32)> = Vec::new();
        let mut overriding = false;
        let mut any = false;
        let flush = |shown: &mut Displayed, run: &mut Vec<(char, u32, u32)>| {
            for (c, start, end) in run.drain(..).rev() {
                shown.push(c, start, end, true);
            }
        };
        for (pos, c) in text.char_indices() {
            let (start, end) = (pos as u32, (pos + c.len_utf8()) as u32);
            match c {
                RIGHT_TO_LEFT_OVERRIDE => {
                    (overriding, any) = (true, true);
                    continue;
                }
                POP_DIRECTIONAL_FORMATTING if overriding => {
                    flush(&mut shown, &mut run);
                    overriding = false;
                    continue;
                }
                _ if ends_paragraph(c) => {
                    flush(&mut shown, &mut run);
                    overriding = false;
                }
                _ if overriding => {
                    run.push((c, start, end));
                    continue;
                }
                _ => {}
            }
            shown.push(c, start, end, false);
        }
        flush(&mut shown, &mut run);
        any.then_some(shown)
    }

    fn push(&mut self, c: char, start: u32, end: u32, reversed: bool) {
        self.chars
            .push((self.text.len() as u32, start, end, reversed));
        self.text.push(c);
    }

    /// Where the displayed bytes `start..end` were written (the first to
    /// the last of their characters), if any of them was overridden.
    pub fn written(&self, start: u32, end: u32) -> Option<(u32, u32)> {
        let first = self.chars.partition_point(|c| c.0 < start);
        let shown = self.chars.get(first..)?.iter().take_while(|c| c.0 < end);
        let (mut lo, mut hi, mut reversed) = (u32::MAX, 0, false);
        for &(_, s, e, r) in shown {
            (lo, hi, reversed) = (lo.min(s), hi.max(e), reversed || r);
        }
        reversed.then_some((lo, hi))
    }
}
