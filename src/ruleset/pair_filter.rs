//! Which two Chinese characters follow each other in some key: the gate of
//! the reading of digits between Chinese characters as filler.

use crate::fold::is_chinese;

/// A Bloom filter (two bits a pair) of every two Chinese units that follow
/// each other in a key. A match across filler (`内1幕`) holds the units on
/// both sides of it one after the other, so a field whose runs of filler
/// all stand between two units no key holds so (`下午3点`, `共12人`: most
/// digits between Chinese characters in chat) needs no second reading.
/// Asked once a run, not once a character: the table need not stay in the
/// caches. 16 to 32 bits a pair (the bit count is a power of two; 100k
/// terms of 2-6 characters: 1 MiB), at most 2 MiB.
pub(crate) struct PairFilter {
    bits: Box<[u64]>,
    shift: u32,
}

impl PairFilter {
    /// Most bits a filter may have (2 MiB).
    const MAX_LOG2_BITS: u32 = 24;

    /// The filter of `keys`' pairs of Chinese units.
    pub fn new<'k>(keys: impl Iterator<Item = &'k str> + Clone) -> PairFilter {
        let pairs = keys.clone().flat_map(chinese_pairs).count();
        let log2 = (pairs * 16).next_power_of_two().trailing_zeros();
        let log2 = log2.clamp(9, Self::MAX_LOG2_BITS);
        let mut f = PairFilter {
            bits: vec![0u64; 1 << (log2 - 6)].into_boxed_slice(),
            shift: 64 - log2,
        };
        for (a, b) in keys.flat_map(chinese_pairs) {
            for bit in f.positions(a, b) {
                f.bits[bit >> 6] |= 1 << (bit & 63);
            }
        }
        f
    }

    /// Two bit positions of the pair `a b`.
    fn positions(&self, a: char, b: char) -> [usize; 2] {
        let pair = u64::from(a) | u64::from(b) << 21;
        let h = pair.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let g = pair.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
        [(h >> self.shift) as usize, (g >> self.shift) as usize]
    }

    /// Whether some key may hold the units `a` then `b` (folded), or a run
    /// of one unit (`a` again: a key holds its repeats as one unit).
    pub fn may_follow(&self, a: char, b: char) -> bool {
        a == b
            || self
                .positions(a, b)
                .iter()
                .all(|&bit| (self.bits[bit >> 6] >> (bit & 63)) & 1 == 1)
    }

    pub fn heap_bytes(&self) -> usize {
        self.bits.len() * 8
    }
}

/// The pairs of Chinese characters side by side in `key`.
fn chinese_pairs(key: &str) -> impl Iterator<Item = (char, char)> + '_ {
    key.chars()
        .zip(key.chars().skip(1))
        .filter(|&(a, b)| is_chinese(a) && is_chinese(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_of_the_keys_may_follow_and_others_mostly_not() {
        let keys = ["内幕消息", "老鼠仓", "qq号码", "abc"];
        let f = PairFilter::new(keys.iter().copied());
        for (a, b) in [
            ('内', '幕'),
            ('幕', '消'),
            ('消', '息'),
            ('鼠', '仓'),
            ('号', '码'),
        ] {
            assert!(f.may_follow(a, b), "{a}{b}");
        }
        // a repeat is one unit of a key
        assert!(f.may_follow('哈', '哈'));
        // the wrong way round, across a key's gap, and strangers: with six
        // pairs in 512 bits, a false "may" is a one-in-a-thousand chance
        for (a, b) in [('幕', '内'), ('内', '消'), ('午', '点'), ('共', '人')] {
            assert!(!f.may_follow(a, b), "{a}{b}");
        }
        // keys without pairs: a run of one unit still may
        let none = PairFilter::new(["abc", "哈", "q号"].iter().copied());
        assert!(none.may_follow('哈', '哈'));
        assert!(!none.may_follow('内', '幕'));
    }
}
