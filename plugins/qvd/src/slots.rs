//! The dictionaries' lookups: open addressing with linear probing over entries that hold what a
//! lookup needs, so that finding a value touches one cache line of the table.
//!
//! A large table's distinct values (keys, amounts, timestamps) make lookups miss the cache;
//! hashbrown reads a control byte and then the bucket (two misses), and a text's bucket pointed
//! to its start in a third array. Here a fixed-width value's entry holds the value and its
//! index, and a text's entry holds where its symbol starts plus 32 bits of its hash, so a text
//! costs the entry and its bytes. The probe loop is a few instructions, which matters as much
//! in the WebAssembly build (compiled by Cranelift) as the misses do.

/// An entry's index when the slot is free (symbol indices stay below it: see `SPILLED`).
pub const VACANT: u32 = u32::MAX;

/// What a table holds.
pub trait Entry: Copy {
    /// A free slot.
    const FREE: Self;
    /// The symbol index, or [`VACANT`].
    fn index(&self) -> u32;
}

/// A text value: where its symbol starts in the field's symbol bytes, and the top 32 bits of its
/// hash (which also place it: the table never hashes a text again to grow).
#[derive(Clone, Copy)]
pub struct Text {
    pub start: u64,
    pub tag: u32,
    pub index: u32,
}

impl Entry for Text {
    const FREE: Text = Text {
        start: 0,
        tag: 0,
        index: VACANT,
    };
    #[inline(always)]
    fn index(&self) -> u32 {
        self.index
    }
}

/// A fixed-width value of 64 bits (its bits) and its symbol index.
#[derive(Clone, Copy)]
pub struct Fixed {
    pub key: u64,
    pub index: u32,
}

impl Entry for Fixed {
    const FREE: Fixed = Fixed {
        key: 0,
        index: VACANT,
    };
    #[inline(always)]
    fn index(&self) -> u32 {
        self.index
    }
}

/// The hash of a 64-bit key: multiplicative (the top bits, which place entries, depend on every
/// bit of the key), keyed by a random `seed`.
#[inline(always)]
pub fn hash_fixed(key: u64, seed: u64) -> u64 {
    (key ^ seed).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Starts loading the cache line of `r` without waiting for it.
///
/// On a large dictionary almost every lookup misses the cache, and a lookup waits for its slot
/// before the next one starts: the processor overlaps only as many misses as fit in its window
/// of instructions, fewer with WebAssembly's longer code. Loading a group of slots first lets
/// their misses overlap. Natively that is a prefetch instruction; WebAssembly has none, so it is
/// a load whose value is dropped (volatile, so the compiler keeps it).
#[inline(always)]
pub fn prefetch<T>(r: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch reads nothing the program sees, and `r` is a valid reference.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(r).cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    // SAFETY: `r` is a valid reference; its first byte is read.
    unsafe {
        std::ptr::read_volatile(std::ptr::from_ref(r).cast::<u8>());
    }
}

/// The size up to which a table counts as [`Table::cached`].
const CACHED: usize = 256 << 10;

/// The most a table is filled: numerator and denominator.
const LOAD: (usize, usize) = (1, 2);

/// A free slot where a probe ended: where the value it looked for goes.
#[derive(Clone, Copy)]
pub struct Vacant(usize);

/// An open-addressing table of [`Entry`]s, placed by the top bits of a 64-bit hash.
pub struct Table<E> {
    slots: Vec<E>,
    len: usize,
    /// log2 of the number of slots.
    bits: u32,
}

impl<E: Entry> Default for Table<E> {
    fn default() -> Self {
        Table {
            slots: Vec::new(),
            len: 0,
            bits: 0,
        }
    }
}

impl<E: Entry> Table<E> {
    /// Entries held.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Bytes held.
    pub fn memory(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<E>()
    }

    /// The bytes of new slots if `more` entries would make the table grow (see `insert`), else 0.
    pub fn growth(&self, more: usize) -> usize {
        if Self::over(self.len + more, self.slots.len()) {
            // Possibly more than one doubling for a large batch into a small table.
            let mut slots = self.slots.len().max(8) * 2;
            while Self::over(self.len + more, slots) {
                slots *= 2;
            }
            slots * std::mem::size_of::<E>()
        } else {
            0
        }
    }

    /// Whether `len` entries are too many for `slots`: at most half full, so that probes stay
    /// short (a value not in the table, which every new value is, probes 2.5 slots on average
    /// at half load and 6 at 70%), and a free slot always exists.
    fn over(len: usize, slots: usize) -> bool {
        len * LOAD.1 > slots * LOAD.0
    }

    #[inline(always)]
    fn home(&self, hash: u64) -> usize {
        // `bits` ≥ 4 once there are slots; a shift by 64 never happens.
        (hash >> (64 - self.bits)) as usize
    }

    /// Whether the table is small enough to stay in the processor's cache (256 KiB), where
    /// loading slots ahead ([`Table::prefetch_homes`]) only costs instructions: most of a table's
    /// fields have few distinct values (currencies, rates, dates, articles).
    #[inline(always)]
    pub fn cached(&self) -> bool {
        self.slots.len() * std::mem::size_of::<E>() <= CACHED
    }

    /// The slot where a lookup of `hash` begins (`usize::MAX` while the table has none).
    #[inline(always)]
    pub fn home_of(&self, hash: u64) -> usize {
        if self.slots.is_empty() {
            usize::MAX
        } else {
            self.home(hash)
        }
    }

    /// Starts loading the slots `homes` (from [`Table::home_of`]; others are skipped), so that
    /// lookups starting there find them in the cache (see [`prefetch`]).
    #[inline(always)]
    pub fn prefetch_homes(&self, homes: &[usize]) {
        for &home in homes {
            if let Some(e) = self.slots.get(home) {
                prefetch(e);
            }
        }
    }

    /// The entry in the slot where a lookup of `hash` begins (maybe another's, maybe free).
    #[inline(always)]
    pub fn first(&self, hash: u64) -> Option<&E> {
        // An empty table has no slots (and `home` needs some).
        if self.slots.is_empty() {
            return None;
        }
        self.slots.get(self.home(hash))
    }

    /// The index of the entry `is` accepts, probing from `hash`'s slot.
    #[cfg(test)]
    pub fn find(&self, hash: u64, is: impl FnMut(&E) -> bool) -> Option<u32> {
        self.probe(hash, is).ok()
    }

    /// The index of the entry `is` accepts, probing from `hash`'s slot; else the free slot
    /// where the probe stopped, which is where [`Table::insert_at`] puts a new entry (so that
    /// a new value is not probed for twice).
    #[inline(always)]
    pub fn probe(&self, hash: u64, mut is: impl FnMut(&E) -> bool) -> Result<u32, Vacant> {
        if self.slots.is_empty() {
            return Err(Vacant(0));
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(hash);
        // The first slot decides most lookups; it is tried before the loop, which in
        // WebAssembly costs a deadline check on entry.
        let e = &self.slots[i];
        if e.index() == VACANT {
            return Err(Vacant(i));
        }
        if is(e) {
            return Ok(e.index());
        }
        loop {
            i = (i + 1) & mask;
            let e = &self.slots[i];
            if e.index() == VACANT {
                return Err(Vacant(i));
            }
            if is(e) {
                return Ok(e.index());
            }
        }
    }

    /// Adds `entry` (not in the table) at `hash`; `hash_of` gives an entry's hash when the table
    /// grows.
    #[cfg(test)]
    pub fn insert(&mut self, hash: u64, entry: E, hash_of: impl Fn(&E) -> u64) {
        let vacant = match self.probe(hash, |_| false) {
            Err(v) => v,
            Ok(_) => unreachable!("a probe that accepts nothing ends at a free slot"),
        };
        self.insert_at(vacant, hash, entry, hash_of);
    }

    /// Adds `entry` (not in the table) at `hash`, in the free slot `vacant` that a
    /// [`Table::probe`] for it just found (unless the table grows first); `hash_of` gives an
    /// entry's hash when the table grows.
    pub fn insert_at(&mut self, vacant: Vacant, hash: u64, entry: E, hash_of: impl Fn(&E) -> u64) {
        if Self::over(self.len + 1, self.slots.len()) {
            self.grow(&hash_of);
            self.place(hash, entry);
        } else {
            debug_assert!(self.slots[vacant.0].index() == VACANT);
            self.slots[vacant.0] = entry;
        }
        self.len += 1;
    }

    fn place(&mut self, hash: u64, entry: E) {
        let mask = self.slots.len() - 1;
        let mut i = self.home(hash);
        while self.slots[i].index() != VACANT {
            i = (i + 1) & mask;
        }
        self.slots[i] = entry;
    }

    fn grow(&mut self, hash_of: &impl Fn(&E) -> u64) {
        let bits = (self.bits + 1).max(4);
        let old = std::mem::replace(&mut self.slots, vec![E::FREE; 1 << bits]);
        self.bits = bits;
        for e in old.into_iter().filter(|e| e.index() != VACANT) {
            self.place(hash_of(&e), e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_found_and_absent_ones_are_not() {
        let seed = 0x1234_5678_9abc_def0;
        let mut t = Table::<Fixed>::default();
        // Sequential keys, keys differing only in high bits, and scattered ones.
        let keys: Vec<u64> = (0..20_000u64)
            .chain((0..2_000u64).map(|k| k << 40))
            .chain((0..2_000u64).map(|k| k.wrapping_mul(0x2545_F491_4F6C_DD1D)))
            .collect();
        let mut distinct = std::collections::HashMap::new();
        for &k in &keys {
            let h = hash_fixed(k, seed);
            match t.find(h, |e| e.key == k) {
                Some(i) => assert_eq!(distinct[&k], i),
                None => {
                    let i = distinct.len() as u32;
                    distinct.insert(k, i);
                    t.insert(h, Fixed { key: k, index: i }, |e| hash_fixed(e.key, seed));
                }
            }
        }
        assert_eq!(t.len(), distinct.len());
        for (&k, &i) in &distinct {
            assert_eq!(t.find(hash_fixed(k, seed), |e| e.key == k), Some(i));
        }
        let empty = Table::<Fixed>::default();
        assert!(empty.first(hash_fixed(7, seed)).is_none());
        assert_eq!(empty.home_of(hash_fixed(7, seed)), usize::MAX);
        empty.prefetch_homes(&[usize::MAX, 0, 3]);
        t.prefetch_homes(&[t.home_of(hash_fixed(7, seed)), usize::MAX]);
        for k in [u64::MAX, 1 << 63, 123_456_789_012] {
            assert_eq!(t.find(hash_fixed(k, seed), |e| e.key == k), None);
        }
        assert!(t.memory() * LOAD.0 / LOAD.1 >= t.len() * std::mem::size_of::<Fixed>());
    }
}
