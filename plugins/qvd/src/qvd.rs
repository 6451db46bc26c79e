//! The QVD format, written: an XML header as Qlik writes it, `\r\n\0`, each field's symbol table,
//! then one bit-packed record per row holding each field's symbol index.
//!
//! Streaming: the header comes first and needs every symbol table's length, and the record
//! layout (each field's bias and bit width) is known only when the last row is in. So:
//! - each field's **dictionary** (symbol bytes and a lookup from value to index) grows in memory
//!   while the table's dictionaries fit in a budget ([`TableWriter::create`], 256 MB by default
//!   in the plugin). Fields of few distinct values (currencies, dates, articles) learn them early
//!   and stay there;
//! - once the budget is used, a field's dictionary is frozen: a value it does not know goes to one
//!   of [`PARTS`] **partition files** on disk, chosen by a hash of the value, so equal values meet
//!   in the same partition. At the end each partition is deduplicated on its own (a 64th of the
//!   spilled values in memory at a time) into the field's remaining symbols;
//! - every row's indices (or, for a spilled value, its partition) are **held in memory** while
//!   they fit in the budget beside the dictionaries; past it they go (all of them, then every
//!   further batch) to a **row spill file**, read back once to pack the records. Rows leave
//!   memory before values do: they are cheap to write out and read back, values are not.
//!
//! Memory is bounded by the budget, one batch and one partition's distinct values, whatever the
//! number of rows. The temporary files (4 bytes per cell once the rows are spilled, plus the
//! values past the budget and their indices) sit beside the output and are removed at the end.
//!
//! The dictionaries' lookups are open-addressing tables (`slots.rs`) whose entries
//! hold what a lookup needs, and a column's texts are hashed before any is looked up: on tables
//! of many distinct values the lookups miss the cache, and these keep more of them in flight.
//!
//! NULLs follow the convention of Qlik's own files, which every reader accepts: a field with a
//! NULL gets `Bias` −2, stores 0 for NULL and `i + 2` for symbol `i`.

use std::fs::File;
use std::hash::BuildHasher;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

use bexio_bi_plugin_sdk::files::FileWriter;
use hashbrown::{HashMap, HashTable};

use crate::slots::{self, Table, hash_fixed};

/// What a field holds, for its header (number format and tags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// Whole numbers.
    Integer,
    /// Floating-point numbers.
    Real,
    /// Exact decimals with this many places (duals: the number and its exact text).
    Fixed(u8),
    /// Dates (duals: Qlik's day number and `YYYY-MM-DD`).
    Date,
    /// Points in time (duals: Qlik's fractional day and `YYYY-MM-DD hh:mm:ss`).
    Timestamp,
    /// Text.
    Text,
}

/// Partitions the values that do not fit in memory are spread over.
pub const PARTS: u32 = 64;
/// A row's cell before the layout is known: a symbol index below [`SPILLED`], `SPILLED + p` for a
/// value spilled to partition `p`, or [`NULL`].
const NULL: u32 = u32::MAX;
const SPILLED: u32 = NULL - PARTS;

/// A value to store, borrowed.
#[derive(Debug, Clone, Copy)]
pub enum Symbol<'a> {
    /// 0x01: a 32-bit integer.
    Int(i32),
    /// 0x02: a double.
    Double(f64),
    /// 0x04: text (NUL characters are dropped: the format ends text with one).
    Text(&'a str),
    /// 0x05: an integer with its text.
    DualInt(i32, &'a str),
    /// 0x06: a double with its text.
    DualDouble(f64, &'a str),
}

impl Symbol<'_> {
    /// Appends the symbol as the format stores it: a type byte, then the payload.
    pub fn encode(&self, out: &mut Vec<u8>) {
        fn text(out: &mut Vec<u8>, s: &str) {
            if s.as_bytes().contains(&0) {
                out.extend(s.bytes().filter(|&b| b != 0));
            } else {
                out.extend_from_slice(s.as_bytes());
            }
            out.push(0);
        }
        match *self {
            Symbol::Int(v) => {
                out.push(1);
                out.extend_from_slice(&v.to_le_bytes());
            }
            Symbol::Double(v) => {
                out.push(2);
                out.extend_from_slice(&v.to_le_bytes());
            }
            Symbol::Text(s) => {
                out.push(4);
                text(out, s);
            }
            Symbol::DualInt(v, s) => {
                out.push(5);
                out.extend_from_slice(&v.to_le_bytes());
                text(out, s);
            }
            Symbol::DualDouble(v, s) => {
                out.push(6);
                out.extend_from_slice(&v.to_le_bytes());
                text(out, s);
            }
        }
    }
}

/// A text's place in its table, from the top 32 bits of its hash.
#[inline(always)]
fn text_hash(tag: u32) -> u64 {
    u64::from(tag) << 32
}

/// The mixing step of the hashes: a 64×64→128-bit product folded to 64 bits (one multiply
/// natively, and in WebAssembly with `wide-arithmetic`).
#[inline(always)]
fn fold(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// Odd constants from the digits of π (nothing up the sleeve).
const PI: [u64; 3] = [
    0x243f_6a88_85a3_08d3,
    0x1319_8a2e_0370_7344,
    0xa409_3822_299f_31d0,
];

/// The hash of a text keyed by `seed`, small enough to inline into the lookup loop: texts of up
/// to 16 bytes are read as two (overlapping) words and mixed once; longer ones 16 bytes a step.
#[inline(always)]
fn hash_text(key: &[u8], seed: u64) -> u64 {
    let n = key.len();
    let word = |at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&key[at..at + 8]);
        u64::from_le_bytes(w)
    };
    let half = |at: usize| {
        let mut w = [0u8; 4];
        w.copy_from_slice(&key[at..at + 4]);
        u64::from(u32::from_le_bytes(w))
    };
    let h = seed ^ (n as u64).wrapping_mul(PI[0]);
    if n <= 16 {
        let (x, y) = match n {
            8.. => (word(0), word(n - 8)),
            4.. => (half(0), half(n - 4)),
            1.. => (
                u64::from(key[0]) | u64::from(key[n / 2]) << 8 | u64::from(key[n - 1]) << 16,
                0,
            ),
            0 => (0, 0),
        };
        return fold(x ^ h, y ^ PI[1] ^ seed.rotate_left(23));
    }
    // 17 to 32 bytes (most article texts and descriptions): the loop's one step, unrolled (a
    // loop in WebAssembly also costs a deadline check); the same hash as the loop gives.
    if n <= 32 {
        let h = fold(h ^ word(0), word(8) ^ PI[1]);
        return fold(h ^ word(n - 16), word(n - 8) ^ PI[2]);
    }
    let mut h = h;
    let mut at = 0;
    while n - at > 16 {
        h = fold(h ^ word(at), word(at + 8) ^ PI[1]);
        at += 16;
    }
    fold(h ^ word(n - 16), word(n - 8) ^ PI[2])
}

/// Whether two byte strings are equal, compared eight bytes at a time: texts in dictionaries
/// are short, and a call to `memcmp` (a byte loop in WebAssembly's libc) costs more than the
/// comparison. Up to 32 bytes there is no loop (as in [`hash_text`]): up to four overlapping
/// words or two halves, or three bytes, cover the text; a loop in WebAssembly also costs its
/// deadline check.
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&s[at..at + 8]);
        u64::from_ne_bytes(w)
    };
    let half = |s: &[u8], at: usize| {
        let mut w = [0u8; 4];
        w.copy_from_slice(&s[at..at + 4]);
        u32::from_ne_bytes(w)
    };
    let n = a.len();
    match n {
        33.. => {
            let mut at = 0;
            while at + 8 < n {
                if word(a, at) != word(b, at) {
                    return false;
                }
                at += 8;
            }
            // The last eight bytes (overlapping the previous word when `n` is not a multiple
            // of 8).
            word(a, n - 8) == word(b, n - 8)
        }
        17.. => {
            word(a, 0) == word(b, 0)
                && word(a, 8) == word(b, 8)
                && word(a, n - 16) == word(b, n - 16)
                && word(a, n - 8) == word(b, n - 8)
        }
        8.. => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        4.. => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        1.. => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        0 => true,
    }
}

/// Values looked up together: their slots are loaded first, so that their cache misses
/// overlap (see `slots::prefetch`).
pub const GROUP: usize = 32;

/// A field's symbols in memory and the lookup from value to index.
#[derive(Default)]
struct Dict {
    /// Serialized symbols (type byte + payload), in index order.
    symbols: Vec<u8>,
    /// Text: where each symbol starts, by hash of the text.
    text: Table<slots::Text>,
    /// Fixed-width values that fit 64 bits, and the others: symbol index by value.
    small: Table<slots::Fixed>,
    wide: HashMap<i128, u32>,
    count: u32,
}

impl Dict {
    /// Whether the text symbol starting at `start` is `key` (text symbols are the type byte,
    /// the text without NULs, and a NUL).
    #[inline(always)]
    fn text_is(&self, start: u64, key: &[u8]) -> bool {
        let from = start as usize + 1;
        self.symbols
            .get(from..from + key.len() + 1)
            .is_some_and(|s| s[key.len()] == 0 && same(&s[..key.len()], key))
    }

    /// Bytes the lookup tables may take on top of [`Dict::memory`] while `rows` more values
    /// come in (a growing table's new slots, while its old ones are still held).
    fn growth(&self, rows: usize) -> usize {
        self.text.growth(rows) + self.small.growth(rows)
    }

    /// Bytes held, roughly: what the budget counts.
    fn memory(&self) -> usize {
        self.symbols.capacity()
            + self.text.memory()
            + self.small.memory()
            + self.wide.capacity() * 33
    }
}

/// One field being collected.
struct Field {
    name: String,
    kind: FieldType,
    dict: Dict,
    /// Its dictionary takes no more symbols: new values go to the partitions.
    frozen: bool,
    nulls: bool,
    /// Every text symbol is ASCII (the `$ascii` tag).
    ascii: bool,
    /// After the partitions are deduplicated: the symbols found there, their bytes (in the
    /// field's symbol file), and where each partition's symbols start among them.
    spilled_count: u32,
    spilled_bytes: u64,
    part_starts: Vec<u32>,
}

impl Field {
    fn count(&self) -> u64 {
        u64::from(self.dict.count) + u64::from(self.spilled_count)
    }

    fn symbol_bytes(&self) -> u64 {
        self.dict.symbols.len() as u64 + self.spilled_bytes
    }

    /// `(bias, bit width)`: with NULLs, room for NULL (0) and every symbol shifted by 2.
    fn layout(&self) -> (i32, u32) {
        let needed = if self.nulls {
            self.count() + 2
        } else {
            self.count()
        };
        let width = if needed <= 1 {
            0
        } else {
            64 - (needed - 1).leading_zeros()
        };
        (if self.nulls { -2 } else { 0 }, width)
    }
}

/// A spilled value of the batch being added, waiting to be written in row order.
struct Pending {
    cell: u32,
    field: u16,
    part: u8,
    start: u32,
    len: u32,
}

/// The temporary files of a table, beside its output.
struct Temp {
    dir: PathBuf,
    file: String,
}

impl Temp {
    fn rows(&self) -> PathBuf {
        self.dir.join(format!("{}.rows", self.file))
    }
    fn part(&self, p: usize) -> PathBuf {
        self.dir.join(format!("{}.part{p}", self.file))
    }
    fn index(&self, p: usize) -> PathBuf {
        self.dir.join(format!("{}.index{p}", self.file))
    }
    fn symbols(&self, f: usize) -> PathBuf {
        self.dir.join(format!("{}.symbols{f}", self.file))
    }
    fn output(&self) -> PathBuf {
        self.dir.join(&self.file)
    }
    fn partial(&self) -> PathBuf {
        self.dir.join(format!("{}.partial", self.file))
    }
    /// Removes every temporary file (those that exist).
    fn remove(&self, fields: usize) {
        let _ = std::fs::remove_file(self.rows());
        for p in 0..PARTS as usize {
            let _ = std::fs::remove_file(self.part(p));
            let _ = std::fs::remove_file(self.index(p));
        }
        for f in 0..fields {
            let _ = std::fs::remove_file(self.symbols(f));
        }
    }
}

/// A QVD file being written.
pub struct TableWriter {
    table: String,
    temp: Temp,
    /// The rows' cells, batch by batch (no reallocation: memory is what they hold), kept in
    /// memory while they fit in the budget beside the dictionaries; past it, all of them go to
    /// the row spill file (created then).
    held: Vec<Vec<u32>>,
    held_cells: usize,
    /// Bytes of rows that may be held ([`TableWriter::rows_expected`]).
    hold: usize,
    rows_file: Option<FileWriter>,
    fields: Vec<Field>,
    /// Keys the dictionaries' hashes (random per table).
    seed: u64,
    /// Chooses a spilled value's partition (seeded apart from the dictionaries' hasher, so that
    /// a partition's values still spread over its own table).
    parter: foldhash::fast::RandomState,
    budget: usize,
    rows: u64,
    /// Row-major cells of the batch being added.
    cells: Vec<u32>,
    /// Spilled values of the batch being added, and their bytes.
    pending: Vec<Pending>,
    arena: Vec<u8>,
    parts: Vec<Option<FileWriter>>,
    scratch: Vec<u8>,
    /// Hash tags of a column's values, computed before they are looked up.
    tags: Vec<u32>,
}

/// One column of the batch being added: [`TableWriter::column`].
pub struct Column<'a> {
    field: &'a mut Field,
    f: u16,
    cells: &'a mut [u32],
    width: usize,
    c: usize,
    seed: u64,
    parter: &'a foldhash::fast::RandomState,
    pending: &'a mut Vec<Pending>,
    arena: &'a mut Vec<u8>,
    scratch: &'a mut Vec<u8>,
    tags: &'a mut Vec<u32>,
    /// The dictionary may take new symbols.
    open: bool,
    /// The last fixed-width value looked up or added, and its symbol index: a run of equal
    /// values (one tenant, a currency, the date of an invoice's lines) is looked up once.
    last: Option<(i128, u32)>,
}

impl Column<'_> {
    #[inline]
    fn set(&mut self, row: usize, value: u32) {
        self.cells[row * self.width + self.c] = value;
    }

    /// Row `row` is NULL.
    #[inline]
    pub fn null(&mut self, row: usize) {
        self.field.nulls = true;
        self.set(row, NULL);
    }

    /// Row `row` holds the text `s`.
    #[inline]
    pub fn text(&mut self, row: usize, s: &str) {
        self.text_maybe_nul(row, s, s.as_bytes().contains(&0));
    }

    /// Rows `0..rows` hold the texts `value(row)` (`None`: NULL), none with a NUL character.
    ///
    /// All are hashed first, then looked up: on a large dictionary most lookups miss the cache,
    /// and a loop that does nothing but look up keeps more of those misses in flight at once
    /// (WebAssembly's longer code most of all).
    pub fn texts_without_nul<'s>(&mut self, rows: usize, value: impl Fn(usize) -> Option<&'s str>) {
        let seed = self.seed;
        let mut tags = std::mem::take(self.tags);
        tags.clear();
        tags.extend(
            (0..rows)
                .map(|row| value(row).map_or(0, |s| (hash_text(s.as_bytes(), seed) >> 32) as u32)),
        );
        let mut last: Option<(u32, &[u8], u32)> = None;
        for (group, tags_of) in tags.chunks(GROUP).enumerate() {
            let rows = group * GROUP..group * GROUP + tags_of.len();
            // The group's slots, then the texts in them that may be theirs, load at once
            // (unless the table stays in the cache anyway).
            // A run's repeats (the same tag as the row before) load nothing new.
            let dict = &self.field.dict;
            if !dict.text.cached() {
                // The slots first, then a loop of loads alone (see `prefetch_fixed`).
                let mut homes = [usize::MAX; GROUP];
                let mut before = u64::MAX;
                for (home, &tag) in homes.iter_mut().zip(tags_of) {
                    if u64::from(tag) != before {
                        *home = dict.text.home_of(text_hash(tag));
                    }
                    before = u64::from(tag);
                }
                dict.text.prefetch_homes(&homes);
                let mut before = u64::MAX;
                for &tag in tags_of {
                    if u64::from(tag) != before
                        && let Some(e) = dict.text.first(text_hash(tag))
                        && e.tag == tag
                        && let Some(b) = dict.symbols.get(e.start as usize + 1)
                    {
                        slots::prefetch(b);
                    }
                    before = u64::from(tag);
                }
            }
            for (row, &tag) in rows.zip(tags_of) {
                let Some(s) = value(row) else {
                    self.null(row);
                    continue;
                };
                debug_assert!(!s.as_bytes().contains(&0));
                let key = s.as_bytes();
                // A run of one text (a tenant, an invoice's key on its lines) is looked up once.
                if let Some((t, text, i)) = last
                    && t == tag
                    && same(text, key)
                {
                    self.set(row, i);
                    continue;
                }
                let dict = &self.field.dict;
                match dict.text.probe(text_hash(tag), |e| {
                    e.tag == tag && dict.text_is(e.start, key)
                }) {
                    Ok(i) => {
                        last = Some((tag, key, i));
                        self.set(row, i);
                    }
                    Err(vacant) => {
                        self.new_text(row, s, false, tag, vacant);
                        // Still open: the text took the next index (else it went to a
                        // partition, and a closed dictionary never opens again).
                        if self.open {
                            last = Some((tag, key, self.field.dict.count - 1));
                        }
                    }
                }
            }
        }
        *self.tags = tags;
    }

    // The lookup of every text value, inlined into the loop over a column (a call per value
    // costs more than the lookup in WebAssembly); a new value takes the out-of-line path.
    #[inline(always)]
    fn text_maybe_nul(&mut self, row: usize, s: &str, filtered: bool) {
        // The format ends text with a NUL, so NULs inside are dropped.
        let key: &[u8] = if filtered {
            self.scratch.clear();
            self.scratch.extend(s.bytes().filter(|&b| b != 0));
            self.scratch
        } else {
            s.as_bytes()
        };
        let tag = (hash_text(key, self.seed) >> 32) as u32;
        let dict = &self.field.dict;
        match dict.text.probe(text_hash(tag), |e| {
            e.tag == tag && dict.text_is(e.start, key)
        }) {
            Ok(i) => self.set(row, i),
            Err(vacant) => self.new_text(row, s, filtered, tag, vacant),
        }
    }

    /// Row `row` holds the text `s` (without its NULs when `filtered`: then in `scratch`), not
    /// in the dictionary; `tag` is its hash, `vacant` where its lookup ended.
    #[inline(never)]
    fn new_text(&mut self, row: usize, s: &str, filtered: bool, tag: u32, vacant: slots::Vacant) {
        let key: &[u8] = if filtered { self.scratch } else { s.as_bytes() };
        self.field.ascii &= s.is_ascii();
        if self.open {
            let Dict {
                symbols,
                text,
                count,
                ..
            } = &mut self.field.dict;
            let i = *count;
            let start = symbols.len() as u64;
            symbols.push(4);
            symbols.extend_from_slice(key);
            symbols.push(0);
            *count += 1;
            let entry = slots::Text {
                start,
                tag,
                index: i,
            };
            text.insert_at(vacant, text_hash(tag), entry, |e| text_hash(e.tag));
            return self.set(row, i);
        }
        let start = self.arena.len();
        self.arena.push(4);
        self.arena.extend_from_slice(key);
        self.arena.push(0);
        self.spill(row, start);
    }

    /// Whether lookups of fixed-width values gain from [`Column::prefetch_fixed`]: not while
    /// the field's table stays in the cache.
    #[inline(always)]
    pub fn prefetching_fixed(&self) -> bool {
        !self.field.dict.small.cached()
    }

    /// Starts loading what the lookups of a group of fixed-width values (at most [`GROUP`]) will
    /// read (see `slots::prefetch`), `keys` giving their keys: called before they are looked up.
    ///
    /// First every value's slot, then the loads alone: in WebAssembly a load of a slot that
    /// misses the cache holds up the loop until it arrives, and only as many loads overlap as
    /// fit in the processor's window of instructions; a loop that does nothing but load fits
    /// the whole group.
    #[inline(always)]
    pub fn prefetch_fixed(&self, keys: impl ExactSizeIterator<Item = i128>) {
        debug_assert!(keys.len() <= GROUP);
        let table = &self.field.dict.small;
        let mut homes = [usize::MAX; GROUP];
        for (home, key) in homes.iter_mut().zip(keys) {
            if let Ok(k) = i64::try_from(key) {
                *home = table.home_of(hash_fixed(k as u64, self.seed));
            }
        }
        table.prefetch_homes(&homes);
    }

    /// Row `row` holds the fixed-width value `key` (its bits, as an integer: equal keys are
    /// equal values), whose symbol `symbol` appends when it is new.
    #[inline(always)]
    pub fn fixed(&mut self, row: usize, key: i128, symbol: impl FnOnce(&mut Vec<u8>)) {
        if let Some((last, i)) = self.last
            && last == key
        {
            return self.set(row, i);
        }
        let dict = &self.field.dict;
        let (found, small) = match i64::try_from(key) {
            Ok(k) => {
                let k = k as u64;
                match dict.small.probe(hash_fixed(k, self.seed), |e| e.key == k) {
                    Ok(i) => (Some(i), None),
                    Err(vacant) => (None, Some((k, vacant))),
                }
            }
            Err(_) => (dict.wide.get(&key).copied(), None),
        };
        if let Some(i) = found {
            self.last = Some((key, i));
            return self.set(row, i);
        }
        self.new_fixed(row, key, small, symbol);
    }

    /// Row `row` holds the fixed-width value `key`, not in the dictionary; `small`: the key as
    /// 64 bits and where its lookup ended, when it fits them.
    #[inline(never)]
    fn new_fixed(
        &mut self,
        row: usize,
        key: i128,
        small: Option<(u64, slots::Vacant)>,
        symbol: impl FnOnce(&mut Vec<u8>),
    ) {
        let dict = &mut self.field.dict;
        if self.open {
            let i = dict.count;
            symbol(&mut dict.symbols);
            match small {
                Some((k, vacant)) => {
                    let seed = self.seed;
                    dict.small.insert_at(
                        vacant,
                        hash_fixed(k, seed),
                        slots::Fixed { key: k, index: i },
                        |e| hash_fixed(e.key, seed),
                    );
                }
                None => {
                    dict.wide.insert(key, i);
                }
            }
            dict.count += 1;
            self.last = Some((key, i));
            return self.set(row, i);
        }
        let start = self.arena.len();
        symbol(self.arena);
        self.spill(row, start);
    }

    /// The value serialized at `arena[start..]` goes to its partition.
    fn spill(&mut self, row: usize, start: usize) {
        self.field.frozen = true;
        self.open = false;
        let bytes = &self.arena[start..];
        let part = (self.parter.hash_one(bytes) % u64::from(PARTS)) as u8;
        self.pending.push(Pending {
            cell: (row * self.width + self.c) as u32,
            field: self.f,
            part,
            start: start as u32,
            len: bytes.len() as u32,
        });
        self.set(row, SPILLED + u32::from(part));
    }
}

impl TableWriter {
    /// Starts `<dir>/<file>`, keeping at most about `budget` bytes of dictionaries in memory.
    /// Temporary files go beside it (`<file>.rows`, `<file>.part…`); the output is written to
    /// `<file>.partial` and renamed when complete.
    pub fn create(
        dir: &Path,
        file: &str,
        table: &str,
        fields: Vec<(String, FieldType)>,
        budget: usize,
    ) -> std::io::Result<TableWriter> {
        let temp = Temp {
            dir: dir.to_owned(),
            file: file.to_owned(),
        };
        Ok(TableWriter {
            table: table.to_owned(),
            temp,
            held: Vec::new(),
            held_cells: 0,
            hold: budget / 4,
            rows_file: None,
            fields: fields
                .into_iter()
                .map(|(name, kind)| Field {
                    name,
                    kind,
                    dict: Dict::default(),
                    frozen: false,
                    nulls: false,
                    ascii: true,
                    spilled_count: 0,
                    spilled_bytes: 0,
                    part_starts: Vec::new(),
                })
                .collect(),
            seed: foldhash::fast::RandomState::default().hash_one(0x5eed_u64),
            parter: foldhash::fast::RandomState::default(),
            budget,
            rows: 0,
            cells: Vec::new(),
            pending: Vec::new(),
            arena: Vec::new(),
            parts: (0..PARTS).map(|_| None).collect(),
            scratch: Vec::new(),
            tags: Vec::new(),
        })
    }

    /// Says how many rows the table will have, when known: if their cells take at most half the
    /// budget they stay in memory, else they go to the row spill file from the first batch
    /// (memory taken and then given up is not given back to the system by a WebAssembly
    /// component). Without it, rows are held up to a quarter of the budget.
    pub fn rows_expected(mut self, rows: Option<u64>) -> TableWriter {
        let row = self.fields.len() as u64 * 4;
        self.hold = match rows {
            Some(rows) if rows.saturating_mul(row) <= self.budget as u64 / 2 => self.budget / 2,
            Some(_) => 0,
            None => self.budget / 4,
        };
        self
    }

    /// Rows added so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Starts a batch of `rows` rows: then [`TableWriter::column`] for every field, then
    /// [`TableWriter::end_batch`].
    pub fn begin_batch(&mut self, rows: usize) {
        self.cells.clear();
        self.cells.resize(rows * self.fields.len(), NULL);
        self.pending.clear();
        self.arena.clear();
    }

    /// Field `c` of the batch, to be given a value for every row.
    pub fn column(&mut self, c: usize) -> Column<'_> {
        let used: usize = self.fields.iter().map(|f| f.dict.memory()).sum();
        let width = self.fields.len();
        let rows = self.cells.len() / width.max(1);
        let field = &mut self.fields[c];
        // A table that grows holds its old and its new slots at once, and memory a WebAssembly
        // component took once stays taken: a growth this batch may bring counts already.
        if used.saturating_add(field.dict.growth(rows)) >= self.budget {
            field.frozen = true;
        }
        let open = !field.frozen;
        Column {
            field,
            f: c as u16,
            cells: &mut self.cells,
            width,
            c,
            seed: self.seed,
            parter: &self.parter,
            pending: &mut self.pending,
            arena: &mut self.arena,
            scratch: &mut self.scratch,
            tags: &mut self.tags,
            open,
            last: None,
        }
    }

    /// Ends the batch: its cells go to the row spill, its spilled values to their partitions
    /// in row order (the order the records are packed in).
    pub fn end_batch(&mut self) -> std::io::Result<()> {
        let width = self.fields.len().max(1);
        let rows = self.cells.len() / width;
        let dictionaries: usize = self.fields.iter().map(|f| f.dict.memory()).sum();
        let holding = (self.held_cells + self.cells.len()) * 4;
        if self.rows_file.is_none()
            && holding <= self.hold
            && dictionaries.saturating_add(holding) <= self.budget
        {
            self.held_cells += self.cells.len();
            self.held.push(std::mem::take(&mut self.cells));
        } else {
            // Rows are cheap to spill (values are not): they leave memory first.
            let w = match &mut self.rows_file {
                Some(w) => w,
                slot => slot.insert(FileWriter::create(self.temp.rows())?),
            };
            let mut bytes = Vec::new();
            for cells in self.held.iter().chain([&self.cells]) {
                bytes.clear();
                bytes.extend(cells.iter().flat_map(|v| v.to_le_bytes()));
                w.write_all(&bytes)?;
            }
            self.held = Vec::new();
            self.held_cells = 0;
        }
        if !self.pending.is_empty() {
            // Columns were added one after the other; rows are read back row by row.
            self.pending.sort_unstable_by_key(|p| p.cell);
            for p in &self.pending {
                let part = usize::from(p.part);
                if self.parts[part].is_none() {
                    let file = File::create(self.temp.part(part))?;
                    self.parts[part] = Some(FileWriter::with_capacity(64 << 10, file));
                }
                let Some(w) = self.parts[part].as_mut() else {
                    continue;
                };
                w.write_all(&p.field.to_le_bytes())?;
                w.write_all(&p.len.to_le_bytes())?;
                w.write_all(&self.arena[p.start as usize..(p.start + p.len) as usize])?;
            }
        }
        self.rows += rows as u64;
        Ok(())
    }

    /// Writes the file and removes the temporary ones; returns the path and the size.
    pub fn finish(mut self, created_utc: &str) -> std::io::Result<(PathBuf, u64)> {
        let result = self.complete(created_utc);
        self.temp.remove(self.fields.len());
        if result.is_err() {
            let _ = std::fs::remove_file(self.temp.partial());
        }
        result
    }

    /// Gives up: removes the temporary files and any partial output.
    pub fn abort(self) {
        let TableWriter {
            temp,
            rows_file,
            parts,
            fields,
            ..
        } = self;
        drop(rows_file);
        drop(parts);
        temp.remove(fields.len());
        let _ = std::fs::remove_file(temp.partial());
    }

    fn complete(&mut self, created_utc: &str) -> std::io::Result<(PathBuf, u64)> {
        let rows_file = self.rows_file.take().map(FileWriter::finish).transpose()?;
        let mut spilled = false;
        for p in self.parts.iter_mut() {
            if let Some(mut w) = p.take() {
                w.flush()?;
                spilled = true;
            }
        }
        if spilled {
            self.dedup_partitions()?;
        }
        let mut held = std::mem::take(&mut self.held);
        write_file(
            &self.table,
            &self.temp,
            &self.fields,
            self.rows,
            created_utc,
            if rows_file.is_some() {
                None
            } else {
                Some(&mut held)
            },
        )
    }

    /// Deduplicates each partition on its own: its distinct values become the next symbols of
    /// their fields (appended to the fields' symbol files), and each spilled cell's index
    /// within its partition goes to the partition's index file, in row order.
    fn dedup_partitions(&mut self) -> std::io::Result<()> {
        let width = self.fields.len();
        for f in &mut self.fields {
            f.part_starts = vec![0; PARTS as usize];
        }
        let mut symbol_files: Vec<Option<FileWriter>> = (0..width).map(|_| None).collect();
        // One partition's dictionaries: per field, its symbols and their indices by hash.
        let mut seen: Vec<(Vec<u8>, Vec<u64>, HashTable<u32>)> =
            (0..width).map(|_| Default::default()).collect();
        let hasher = hashbrown::DefaultHashBuilder::default();
        let mut value = Vec::new();
        for p in 0..PARTS as usize {
            let path = self.temp.part(p);
            let file = match File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            let mut input = BufReader::with_capacity(1 << 20, file);
            let mut index = FileWriter::create(self.temp.index(p))?;
            for (f, field) in self.fields.iter_mut().enumerate() {
                field.part_starts[p] = field.spilled_count;
                let (symbols, starts, table) = &mut seen[f];
                symbols.clear();
                starts.clear();
                table.clear();
            }
            let mut head = [0u8; 6];
            loop {
                match input.read_exact(&mut head) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                    Err(e) => return Err(e),
                }
                let f = usize::from(u16::from_le_bytes([head[0], head[1]]));
                let len = u32::from_le_bytes([head[2], head[3], head[4], head[5]]) as usize;
                if f >= width {
                    return Err(std::io::Error::other(format!(
                        "a spill file of {} is damaged",
                        self.table
                    )));
                }
                value.resize(len, 0);
                input.read_exact(&mut value)?;
                let (symbols, starts, table) = &mut seen[f];
                let hash = hasher.hash_one(&value[..]);
                let at = |i: u32, symbols: &[u8], starts: &[u64]| {
                    let start = starts[i as usize] as usize;
                    let end = starts
                        .get(i as usize + 1)
                        .map_or(symbols.len(), |&e| e as usize);
                    (start, end)
                };
                let local = match table.find(hash, |&i| {
                    let (s, e) = at(i, symbols, starts);
                    symbols[s..e] == value[..]
                }) {
                    Some(&i) => i,
                    None => {
                        let i = starts.len() as u32;
                        starts.push(symbols.len() as u64);
                        symbols.extend_from_slice(&value);
                        table.insert_unique(hash, i, |&j| {
                            let (s, e) = at(j, symbols, starts);
                            hasher.hash_one(&symbols[s..e])
                        });
                        let field = &mut self.fields[f];
                        field.spilled_count += 1;
                        field.spilled_bytes += value.len() as u64;
                        let out = match &mut symbol_files[f] {
                            Some(w) => w,
                            slot => slot.insert(FileWriter::with_capacity(
                                256 << 10,
                                File::create(self.temp.symbols(f))?,
                            )),
                        };
                        out.write_all(&value)?;
                        i
                    }
                };
                index.write_all(&local.to_le_bytes())?;
            }
            index.flush()?;
            drop(input);
            let _ = std::fs::remove_file(&path);
        }
        for w in symbol_files.into_iter().flatten() {
            w.finish()?;
        }
        Ok(())
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// Number format and tags of a field, as Qlik writes them.
fn format_of(field: &Field) -> (String, Vec<&'static str>) {
    let (kind, n_dec, thou, fmt, dec, sep, mut tags) = match field.kind {
        FieldType::Integer => (
            "INTEGER",
            0,
            0,
            "###0".to_owned(),
            "",
            "",
            vec!["$numeric", "$integer"],
        ),
        FieldType::Real => ("REAL", 14, 0, String::new(), ".", "", vec!["$numeric"]),
        FieldType::Fixed(s) => (
            "FIX",
            s,
            1,
            if s == 0 {
                "#,##0".to_owned()
            } else {
                format!("#,##0.{}", "0".repeat(usize::from(s)))
            },
            ".",
            ",",
            vec!["$numeric"],
        ),
        FieldType::Date => (
            "DATE",
            0,
            0,
            "YYYY-MM-DD".to_owned(),
            "",
            "",
            vec!["$numeric", "$integer", "$timestamp", "$date"],
        ),
        FieldType::Timestamp => (
            "TIMESTAMP",
            0,
            0,
            "YYYY-MM-DD hh:mm:ss".to_owned(),
            "",
            "",
            vec!["$numeric", "$timestamp"],
        ),
        FieldType::Text => ("UNKNOWN", 0, 0, String::new(), "", "", vec!["$text"]),
    };
    if field.kind == FieldType::Text && field.ascii && field.count() > 0 {
        tags.push("$ascii");
    }
    if field.count() == 0 {
        tags.clear();
    }
    let xml = format!(
        "<NumberFormat>\r\n        <Type>{kind}</Type>\r\n        <nDec>{n_dec}</nDec>\r\n        <UseThou>{thou}</UseThou>\r\n        <Fmt>{}</Fmt>\r\n        <Dec>{dec}</Dec>\r\n        <Thou>{sep}</Thou>\r\n      </NumberFormat>",
        escape(&fmt)
    );
    (xml, tags)
}

/// Packs rows of cells into records, a field at a time: a field's bits sit at the same place in
/// every record, so its loop over the rows is a load, an add, a shift and a read-modify-write
/// of eight bytes, with no branch on the layout (a row at a time, every cell took a trip
/// through the layout and a branch on the bits pending: twice the time in WebAssembly).
struct Packer {
    record: usize,
    /// Per field with bits: its column, the byte of the record its bits start in, their shift
    /// within that byte, and what is added to an index (−bias).
    fields: Vec<(usize, usize, u32, u64)>,
}

impl Packer {
    fn new(layouts: &[(i32, u32)], record: usize) -> Packer {
        let mut bit = 0usize;
        let mut fields = Vec::new();
        for (c, &(bias, width)) in layouts.iter().enumerate() {
            if width > 0 {
                fields.push((c, bit / 8, (bit % 8) as u32, (-i64::from(bias)) as u64));
            }
            bit += width as usize;
        }
        Packer { record, fields }
    }

    /// The records of `cells` (rows of `width` cells, each a symbol index or `NULL`, every
    /// index within its field's width) into `packed`.
    fn pack(&self, cells: &[u32], width: usize, packed: &mut Vec<u8>) {
        let rows = cells.len().checked_div(width).unwrap_or(0);
        let bytes = rows * self.record;
        packed.clear();
        // Eight bytes past the last record: every field's window is eight bytes wide (at most
        // 33 bits shifted by at most 7), read and written whole.
        packed.resize(bytes + 8, 0);
        let record = self.record;
        for &(c, at, shift, add) in &self.fields {
            // One cell into its record at byte `i` (the windows of neighbouring records may
            // overlap: each is written before the next is read).
            let put = |packed: &mut [u8], i: usize, cell: u32| {
                let stored = if cell == NULL {
                    0
                } else {
                    u64::from(cell) + add
                };
                if let Some(w) = packed.get_mut(i..).and_then(|p| p.first_chunk_mut::<8>()) {
                    *w = (u64::from_le_bytes(*w) | stored << shift).to_le_bytes();
                }
            };
            let (mut i, mut j) = (at, c);
            // Four rows a step: in WebAssembly a loop's every turn also checks the deadline
            // and moves its state through the stack.
            for _ in 0..rows / 4 {
                put(packed, i, cells[j]);
                put(packed, i + record, cells[j + width]);
                put(packed, i + 2 * record, cells[j + 2 * width]);
                put(packed, i + 3 * record, cells[j + 3 * width]);
                i += 4 * record;
                j += 4 * width;
            }
            for _ in 0..rows % 4 {
                put(packed, i, cells[j]);
                i += record;
                j += width;
            }
        }
        packed.truncate(bytes);
    }
}

fn write_file(
    table: &str,
    temp: &Temp,
    fields: &[Field],
    rows: u64,
    created_utc: &str,
    held: Option<&mut [Vec<u32>]>,
) -> std::io::Result<(PathBuf, u64)> {
    let layouts: Vec<(i32, u32)> = fields.iter().map(Field::layout).collect();
    let total_bits: u64 = layouts.iter().map(|&(_, w)| u64::from(w)).sum();
    // A record of at least one byte: with every field constant (no bits at all) pyqvd could
    // not step through the rows; the unused bits are zero, as the format wants.
    let record = total_bits.div_ceil(8).max(u64::from(rows > 0));
    let symbol_bytes: u64 = fields.iter().map(Field::symbol_bytes).sum();

    let mut x = String::with_capacity(4096);
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\r\n");
    x.push_str("<QvdTableHeader>\r\n");
    // The build number of the Qlik files this layout was checked against.
    x.push_str("  <QvBuildNo>50640</QvBuildNo>\r\n");
    x.push_str(&format!(
        "  <CreatorDoc>bexio-bi {}</CreatorDoc>\r\n",
        env!("CARGO_PKG_VERSION")
    ));
    x.push_str(&format!(
        "  <CreateUtcTime>{}</CreateUtcTime>\r\n",
        escape(created_utc)
    ));
    x.push_str("  <SourceCreateUtcTime></SourceCreateUtcTime>\r\n");
    x.push_str("  <SourceFileUtcTime></SourceFileUtcTime>\r\n");
    x.push_str("  <SourceFileSize>-1</SourceFileSize>\r\n");
    x.push_str("  <StaleUtcTime></StaleUtcTime>\r\n");
    x.push_str(&format!("  <TableName>{}</TableName>\r\n", escape(table)));
    x.push_str("  <Fields>\r\n");
    let (mut offset, mut bit) = (0u64, 0u32);
    for (f, &(bias, width)) in fields.iter().zip(&layouts) {
        let (number_format, tags) = format_of(f);
        x.push_str("    <QvdFieldHeader>\r\n");
        x.push_str(&format!(
            "      <FieldName>{}</FieldName>\r\n",
            escape(&f.name)
        ));
        x.push_str(&format!("      <BitOffset>{bit}</BitOffset>\r\n"));
        x.push_str(&format!("      <BitWidth>{width}</BitWidth>\r\n"));
        x.push_str(&format!("      <Bias>{bias}</Bias>\r\n"));
        x.push_str(&format!("      {number_format}\r\n"));
        x.push_str(&format!(
            "      <NoOfSymbols>{}</NoOfSymbols>\r\n",
            f.count()
        ));
        x.push_str(&format!("      <Offset>{offset}</Offset>\r\n"));
        x.push_str(&format!("      <Length>{}</Length>\r\n", f.symbol_bytes()));
        x.push_str("      <Comment></Comment>\r\n");
        if tags.is_empty() {
            x.push_str("      <Tags></Tags>\r\n");
        } else {
            x.push_str("      <Tags>\r\n");
            for t in tags {
                x.push_str(&format!("        <String>{t}</String>\r\n"));
            }
            x.push_str("      </Tags>\r\n");
        }
        x.push_str("    </QvdFieldHeader>\r\n");
        offset += f.symbol_bytes();
        bit += width;
    }
    x.push_str("  </Fields>\r\n");
    x.push_str("  <Compression></Compression>\r\n");
    x.push_str(&format!("  <RecordByteSize>{record}</RecordByteSize>\r\n"));
    x.push_str(&format!("  <NoOfRecords>{rows}</NoOfRecords>\r\n"));
    x.push_str(&format!("  <Offset>{symbol_bytes}</Offset>\r\n"));
    x.push_str(&format!("  <Length>{}</Length>\r\n", rows * record));
    x.push_str("  <Lineage>\r\n    <LineageInfo>\r\n");
    x.push_str(&format!(
        "      <Discriminator>bexio-bi:{}</Discriminator>\r\n",
        escape(table)
    ));
    x.push_str("      <Statement></Statement>\r\n    </LineageInfo>\r\n  </Lineage>\r\n");
    x.push_str("  <Comment></Comment>\r\n");
    x.push_str("  <EncryptionInfo></EncryptionInfo>\r\n");
    x.push_str("</QvdTableHeader>\r\n");

    let partial = temp.partial();
    let mut out = FileWriter::create(&partial)?;
    out.write_all(x.as_bytes())?;
    out.write_all(&[0])?;
    for (i, f) in fields.iter().enumerate() {
        out.write_all(&f.dict.symbols)?;
        if f.spilled_bytes > 0 {
            let copied = std::io::copy(&mut File::open(temp.symbols(i))?, &mut out)?;
            if copied != f.spilled_bytes {
                return Err(std::io::Error::other(format!(
                    "the spilled symbols of {table}.{} are incomplete",
                    f.name
                )));
            }
        }
    }

    // The spilled cells' indices within their partitions, read in row order.
    let mut indices: Vec<Option<BufReader<File>>> = (0..PARTS).map(|_| None).collect();
    let mut next_index = |p: usize| -> std::io::Result<u32> {
        let r = match &mut indices[p] {
            Some(r) => r,
            slot => slot.insert(BufReader::with_capacity(
                64 << 10,
                File::open(temp.index(p))?,
            )),
        };
        let mut b = [0u8; 4];
        r.read_exact(&mut b)?;
        Ok(u32::from_le_bytes(b))
    };

    // The records: each field's stored value (index − bias, NULL → 0) packed LSB first.
    let width = fields.len();
    let spilled = fields.iter().any(|f| !f.part_starts.is_empty());
    let packer = Packer::new(&layouts, record as usize);
    let mut packed = Vec::new();
    let mut pack = |chunk: &mut [u32], out: &mut FileWriter| -> std::io::Result<()> {
        if spilled {
            // A spilled cell's index is the next one of its partition's index file, which
            // holds them in row order: resolved row by row before the columns are packed.
            for row in chunk.chunks_exact_mut(width) {
                for (c, cell) in row.iter_mut().enumerate() {
                    if *cell >= SPILLED && *cell != NULL {
                        // Read even for a field without bits: the stream must stay in step.
                        let p = (*cell - SPILLED) as usize;
                        let field = &fields[c];
                        *cell = field.dict.count + field.part_starts[p] + next_index(p)?;
                    }
                }
            }
        }
        packer.pack(chunk, width, &mut packed);
        out.write_all(&packed)
    };
    // The cells: held in memory batch by batch, or read back from the row spill.
    if width == 0 {
        // No fields: every record is its one zero byte.
        let zeros = vec![0u8; 1 << 16];
        let mut left = rows * record;
        while left > 0 {
            let n = left.min(zeros.len() as u64) as usize;
            out.write_all(&zeros[..n])?;
            left -= n as u64;
        }
    } else if let Some(held) = held {
        let cells: usize = held.iter().map(Vec::len).sum();
        if cells as u64 != rows * width as u64 {
            return Err(std::io::Error::other(format!(
                "the rows of {table} are incomplete"
            )));
        }
        for chunk in held {
            pack(chunk, &mut out)?;
        }
    } else {
        let mut input = BufReader::with_capacity(1 << 20, File::open(temp.rows())?);
        let rows_per_chunk: u64 = 1 << 16;
        let (mut raw, mut cells) = (Vec::new(), Vec::new());
        let mut left = rows;
        while left > 0 {
            let n = left.min(rows_per_chunk) as usize;
            raw.resize(n * width * 4, 0);
            input.read_exact(&mut raw)?;
            cells.clear();
            cells.extend(
                raw.chunks_exact(4)
                    .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            );
            pack(&mut cells, &mut out)?;
            left -= n as u64;
        }
    }
    let file = out.finish()?;
    file.sync_all().ok();
    drop(file);
    let path = temp.output();
    std::fs::rename(&partial, &path)?;
    let size = std::fs::metadata(&path)?.len();
    Ok((path, size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_of_17_to_32_bytes_hash_as_the_loop_does() {
        // The general loop, for texts longer than 16 bytes.
        fn looped(key: &[u8], seed: u64) -> u64 {
            let word = |at: usize| u64::from_le_bytes(key[at..at + 8].try_into().expect("8"));
            let n = key.len();
            let mut h = seed ^ (n as u64).wrapping_mul(PI[0]);
            let mut at = 0;
            while n - at > 16 {
                h = fold(h ^ word(at), word(at + 8) ^ PI[1]);
                at += 16;
            }
            fold(h ^ word(n - 16), word(n - 8) ^ PI[2])
        }
        for n in 17..=64usize {
            let key: Vec<u8> = (0..n).map(|i| (i as u8).wrapping_mul(37) ^ 0x5a).collect();
            for seed in [0, 1, 0x9E37_79B9_7F4A_7C15] {
                assert_eq!(hash_text(&key, seed), looped(&key, seed), "length {n}");
            }
        }
    }

    #[test]
    fn same_compares_every_byte_of_every_length() {
        for n in 0..=40usize {
            let a: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
            assert!(same(&a, &a.clone()), "length {n}");
            for at in 0..n {
                let mut b = a.clone();
                b[at] ^= 0x20;
                assert!(!same(&a, &b), "length {n}, byte {at} differs");
            }
            assert!(!same(&a, &a[..n.saturating_sub(1)]) || n == 0);
        }
    }

    fn field(count: u32, nulls: bool) -> Field {
        Field {
            name: String::new(),
            kind: FieldType::Text,
            dict: Dict {
                count,
                ..Dict::default()
            },
            frozen: false,
            nulls,
            ascii: true,
            spilled_count: 0,
            spilled_bytes: 0,
            part_starts: Vec::new(),
        }
    }

    /// The packer against the format's definition, bit by bit: random layouts (fields without
    /// bits, with NULLs, up to 33 bits wide), records of one byte to many.
    #[test]
    fn records_pack_as_the_format_defines_them() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for _ in 0..300 {
            let width = rng.random_range(1..12usize);
            let layouts: Vec<(i32, u32)> = (0..width)
                .map(|_| {
                    let bits = match rng.random_range(0..4) {
                        0 => 0,
                        1 => rng.random_range(1..4),
                        2 => rng.random_range(1..34),
                        _ => 33,
                    };
                    (
                        if bits >= 2 && rng.random_bool(0.5) {
                            -2
                        } else {
                            0
                        },
                        bits,
                    )
                })
                .collect();
            let total: u64 = layouts.iter().map(|&(_, w)| u64::from(w)).sum();
            let record = total.div_ceil(8).max(1) as usize;
            let rows = rng.random_range(0..40usize);
            let cells: Vec<u32> = (0..rows * width)
                .map(|i| {
                    let (bias, bits) = layouts[i % width];
                    let room = (1u64 << bits) - if bias < 0 { 2 } else { 0 };
                    if bias < 0 && rng.random_bool(0.2) {
                        NULL
                    } else if room == 0 || bits == 0 {
                        0
                    } else {
                        rng.random_range(0..room.min(u64::from(SPILLED))) as u32
                    }
                })
                .collect();
            let mut packed = Vec::new();
            Packer::new(&layouts, record).pack(&cells, width, &mut packed);
            // The definition: field after field, LSB first, each record on its own bytes.
            let mut expected = vec![0u8; rows * record];
            for r in 0..rows {
                let mut bit = r * record * 8;
                for (c, &(bias, bits)) in layouts.iter().enumerate() {
                    let cell = cells[r * width + c];
                    let stored = if cell == NULL {
                        0
                    } else {
                        u64::from(cell) + (-i64::from(bias)) as u64
                    };
                    for b in 0..bits as usize {
                        if stored >> b & 1 == 1 {
                            expected[(bit + b) / 8] |= 1 << ((bit + b) % 8);
                        }
                    }
                    bit += bits as usize;
                }
            }
            assert_eq!(packed, expected, "layouts {layouts:?}, {rows} rows");
        }
    }

    #[test]
    fn widths_leave_room_for_null() {
        let f = field;
        assert_eq!(f(1, false).layout(), (0, 0));
        assert_eq!(f(2, false).layout(), (0, 1));
        assert_eq!(f(3, false).layout(), (0, 2));
        assert_eq!(f(256, false).layout(), (0, 8));
        assert_eq!(f(257, false).layout(), (0, 9));
        assert_eq!(f(0, true).layout(), (-2, 1));
        assert_eq!(f(1, true).layout(), (-2, 2));
        assert_eq!(f(2, true).layout(), (-2, 2));
        assert_eq!(f(3, true).layout(), (-2, 3));
        assert_eq!(f(0, false).layout(), (0, 0));
        let mut spilled = field(200, false);
        spilled.spilled_count = 100;
        assert_eq!(spilled.layout(), (0, 9), "spilled symbols count too");
    }

    /// Writes `values` (and their lengths as a second field) in batches of `batch` rows, the
    /// texts one at a time or, `hashed`, a batch at once; reads back the first field's symbols
    /// and each row's value.
    fn round_trip(
        values: &[Option<&str>],
        budget: usize,
        batch: usize,
        hashed: bool,
    ) -> (Vec<String>, Vec<Option<String>>) {
        let dir = std::env::temp_dir().join(format!(
            "bexio-bi-qvd-unit-{}-{budget}-{}-{batch}-{hashed}",
            std::process::id(),
            values.len()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let mut w = TableWriter::create(
            &dir,
            "t.qvd",
            "t",
            vec![
                ("v".into(), FieldType::Text),
                ("n".into(), FieldType::Integer),
            ],
            budget,
        )
        .expect("create");
        for chunk in values.chunks(batch) {
            w.begin_batch(chunk.len());
            let mut c = w.column(0);
            if hashed {
                c.texts_without_nul(chunk.len(), |row| chunk[row]);
            } else {
                for (row, v) in chunk.iter().enumerate() {
                    match v {
                        Some(s) => c.text(row, s),
                        None => c.null(row),
                    }
                }
            }
            let mut c = w.column(1);
            for (row, v) in chunk.iter().enumerate() {
                let n = v.map_or(0, |s| s.len() as i32);
                c.fixed(row, i128::from(n), |out| Symbol::Int(n).encode(out));
            }
            w.end_batch().expect("batch");
        }
        let (path, _) = w.finish("2026-01-01 00:00:00").expect("finish");
        let left: Vec<_> = std::fs::read_dir(&dir)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().into_string().expect("name"))
            .collect();
        assert_eq!(left, vec!["t.qvd".to_owned()], "temporary files removed");
        let bytes = std::fs::read(&path).expect("read");
        let _ = std::fs::remove_dir_all(&dir);
        let end = bytes.iter().position(|&b| b == 0).expect("header end");
        let header = std::str::from_utf8(&bytes[..end]).expect("header");
        let tag = |name: &str, nth: usize| -> i64 {
            let open = format!("<{name}>");
            let at = header.match_indices(&open).nth(nth).expect(name).0 + open.len();
            header[at..at + header[at..].find('<').expect("close")]
                .parse()
                .expect("number")
        };
        let count = tag("NoOfSymbols", 0) as usize;
        let (bias, width) = (tag("Bias", 0), tag("BitWidth", 0) as u32);
        let record = tag("RecordByteSize", 0) as usize;
        let mut symbols = Vec::new();
        let mut at = end + 1;
        for _ in 0..count {
            assert_eq!(bytes[at], 4, "a text symbol");
            let len = bytes[at + 1..].iter().position(|&b| b == 0).expect("NUL");
            symbols.push(String::from_utf8(bytes[at + 1..at + 1 + len].to_vec()).expect("utf8"));
            at += len + 2;
        }
        let records = end + 1 + tag("Offset", 2) as usize;
        let rows = (0..values.len())
            .map(|r| {
                let rec = &bytes[records + r * record..records + (r + 1) * record];
                let mut v: u64 = 0;
                for (i, b) in rec.iter().enumerate().take(8) {
                    v |= u64::from(*b) << (8 * i);
                }
                let stored = (v & ((1u64 << width) - 1)) as i64 + bias;
                (stored >= 0).then(|| symbols[stored as usize].clone())
            })
            .collect();
        (symbols, rows)
    }

    #[test]
    fn spilled_values_are_deduplicated_and_rows_keep_their_values() {
        let values: Vec<Option<String>> = (0..200)
            .map(|i| (i % 13 != 0).then(|| format!("v{}", (i * 7) % 61)))
            .collect();
        let values: Vec<Option<&str>> = values.iter().map(|v| v.as_deref()).collect();
        let distinct: std::collections::HashSet<&str> = values.iter().flatten().copied().collect();
        // All in memory, nothing in memory, and a budget used up part way.
        for budget in [usize::MAX, 0, 600] {
            let (symbols, rows) = round_trip(&values, budget, 3, false);
            assert_eq!(
                symbols.len(),
                distinct.len(),
                "budget {budget}: deduplicated"
            );
            let unique: std::collections::HashSet<&String> = symbols.iter().collect();
            assert_eq!(
                unique.len(),
                symbols.len(),
                "budget {budget}: no symbol twice"
            );
            let want: Vec<Option<String>> = values.iter().map(|v| v.map(str::to_owned)).collect();
            assert_eq!(rows, want, "budget {budget}: rows");
        }
    }

    #[test]
    fn runs_of_one_value_keep_their_symbol_across_batches_and_spills() {
        // Runs of 1 to 9 rows, NULLs inside runs, runs that cross batches, and values coming
        // back after others; hashed a batch at once and one at a time.
        let mut values: Vec<Option<String>> = Vec::new();
        for i in 0..120usize {
            let v = format!("run {}", (i * 5) % 17);
            for j in 0..(i % 9 + 1) {
                values.push((j != 3).then(|| v.clone()));
            }
        }
        let values: Vec<Option<&str>> = values.iter().map(|v| v.as_deref()).collect();
        let distinct: std::collections::HashSet<&str> = values.iter().flatten().copied().collect();
        let want: Vec<Option<String>> = values.iter().map(|v| v.map(str::to_owned)).collect();
        for budget in [usize::MAX, 0, 400] {
            for batch in [1, 7, 64, values.len()] {
                for hashed in [false, true] {
                    let (symbols, rows) = round_trip(&values, budget, batch, hashed);
                    let what = format!("budget {budget}, batch {batch}, hashed {hashed}");
                    assert_eq!(symbols.len(), distinct.len(), "{what}: deduplicated");
                    assert_eq!(rows, want, "{what}: rows");
                }
            }
        }
    }
}
