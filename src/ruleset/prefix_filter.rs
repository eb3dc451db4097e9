//! Where keys may start: the filter that gates the automaton walks.

/// A Bloom filter (two bits a key) of the first three units of every key of
/// one automaton (all of a key shorter than three): a run of units that
/// starts like no key cannot hold one, and testing that reads two bits of a
/// cache-sized table where stepping the automaton reads its states, a likely
/// cache miss a unit. Blocked by cache line: the last two tested units pick
/// one 64-byte block and both the pair and the triple test read it, so a unit
/// costs one miss at most. The walks step an automaton only from a unit where
/// some key may start until it is back within two units of its root
/// (`GatedLane` in `scan/walk.rs`). 32-64 bits a key (the block count is a power of
/// two; 100k keys: 512 KiB) up to 2 MiB; larger lists share the 2 MiB (1M
/// terms: about 30 keys a block, more false "may start"s, still faster than
/// stepping throughout).
pub(crate) struct PrefixFilter {
    blocks: Box<[[u64; 8]]>,
    shift: u32,
    /// Key lengths present below three units.
    singles: bool,
    pairs: bool,
    triples: bool,
}

impl PrefixFilter {
    /// Most blocks a filter may have (2 MiB): an unblocked 8 MiB filter fell
    /// out of the caches and measured slower than stepping the automaton; 1M
    /// keys in 2 MiB measured faster than in 8.
    const MAX_LOG2_BLOCKS: u32 = 15;

    /// The filter of `keys`, or none for none (or a key holding `'\0'`,
    /// which the walks' window uses for "no unit").
    pub fn new<'k>(keys: impl ExactSizeIterator<Item = &'k str> + Clone) -> Option<PrefixFilter> {
        let count = keys.len();
        // '\0' stands for "no unit" in the walk's window
        if count == 0 || keys.clone().any(|k| k.contains('\0')) {
            return None;
        }
        // 32 bits a key: sixteen keys a 512-bit block on average. In the
        // engine, beside librdkafka's message buffers, 100k keys in 512 KiB
        // cost 5% less CPU a message than in 1 MiB (pipeline bench, six and
        // seven alternating runs); alone (`wordwarden bench`) no difference
        let log2 = (count / 16 + 1).next_power_of_two().trailing_zeros().max(7);
        let log2 = log2.min(Self::MAX_LOG2_BLOCKS);
        let mut f = PrefixFilter {
            blocks: vec![[0u64; 8]; 1 << log2].into_boxed_slice(),
            shift: 64 - log2,
            singles: false,
            pairs: false,
            triples: false,
        };
        for k in keys {
            let mut cs = k.chars();
            let (a, b, c) = (cs.next(), cs.next(), cs.next());
            match (a, b, c) {
                (Some(a), None, _) => {
                    f.singles = true;
                    f.insert('\0', a, Self::key1(a));
                }
                (Some(a), Some(b), None) => {
                    f.pairs = true;
                    f.insert(a, b, Self::key2(a, b));
                }
                (Some(a), Some(b), Some(c)) => {
                    f.triples = true;
                    f.insert(b, c, Self::key3(a, b, c));
                }
                _ => {}
            }
        }
        Some(f)
    }

    // one, two or three 21-bit characters, tagged by their count
    #[inline(always)]
    fn key1(a: char) -> u64 {
        u64::from(a) | (1 << 63)
    }
    #[inline(always)]
    fn key2(a: char, b: char) -> u64 {
        u64::from(a) | u64::from(b) << 21 | (1 << 62)
    }
    #[inline(always)]
    fn key3(a: char, b: char, c: char) -> u64 {
        u64::from(a) | u64::from(b) << 21 | u64::from(c) << 42
    }

    /// The block of the two units `a b` (`a` is `'\0'` for a single unit).
    #[inline(always)]
    fn block(&self, a: char, b: char) -> usize {
        let pair = u64::from(a) | u64::from(b) << 21;
        (pair.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// Two bit positions in a 512-bit block.
    #[inline(always)]
    fn bits(key: u64) -> (usize, usize) {
        let h = key.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
        ((h >> 55) as usize, ((h >> 46) & 511) as usize)
    }

    fn insert(&mut self, a: char, b: char, key: u64) {
        let block = self.block(a, b);
        let (p, q) = Self::bits(key);
        let words = &mut self.blocks[block];
        words[p >> 6] |= 1 << (p & 63);
        words[q >> 6] |= 1 << (q & 63);
    }

    #[inline(always)]
    fn contains(words: &[u64; 8], key: u64) -> bool {
        let (p, q) = Self::bits(key);
        (words[p >> 6] >> (p & 63)) & (words[q >> 6] >> (q & 63)) & 1 == 1
    }

    /// Whether a key may start at one of the units `u2 u1 u0` (`'\0'` for
    /// none), by the units up to the last.
    #[inline(always)]
    pub fn may_start(&self, u2: char, u1: char, u0: char) -> bool {
        if self.singles && Self::contains(&self.blocks[self.block('\0', u0)], Self::key1(u0)) {
            return true;
        }
        if u1 == '\0' {
            return false;
        }
        let words = &self.blocks[self.block(u1, u0)];
        (self.pairs && Self::contains(words, Self::key2(u1, u0)))
            || (self.triples && u2 != '\0' && Self::contains(words, Self::key3(u2, u1, u0)))
    }

    pub fn heap_bytes(&self) -> usize {
        self.blocks.len() * 64
    }
}
