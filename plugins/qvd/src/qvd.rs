//! The QVD format, written: an XML header as Qlik writes it, `\r\n\0`, each field's symbol table,
//! then one bit-packed record per row holding each field's symbol index.
//!
//! Streaming: a row's indices are known as soon as its values are looked up in the fields'
//! dictionaries, but the bias and bit width of a field (and so the record layout) only when the
//! last row is in, and the header, which comes first, needs every symbol table's length. So
//! symbols stay in memory (they grow with the *distinct* values of a field, as in Qlik itself),
//! while the rows' indices go to a spill file beside the output, read back once to pack the
//! records. Memory does not grow with the number of rows.
//!
//! NULLs follow the convention of Qlik's own files, which every reader accepts: a field with a
//! NULL gets `Bias` −2, stores 0 for NULL and `i + 2` for symbol `i`.

use std::fs::File;
use std::hash::BuildHasher;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use hashbrown::HashTable;

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

/// Index of NULL in a row before the layout is known.
const NULL: u32 = u32::MAX;

/// One field being collected.
struct Field {
    name: String,
    kind: FieldType,
    /// The symbol table, serialized (type byte + payload), in first-occurrence order.
    symbols: Vec<u8>,
    /// Where each distinct symbol starts in `symbols`, and its index, by hash of its bytes.
    lookup: HashTable<(usize, u32, u32)>,
    count: u32,
    nulls: bool,
    /// Every text symbol is ASCII (the `$ascii` tag).
    ascii: bool,
    /// Symbol index by raw value, for fixed-width columns.
    by_raw: hashbrown::HashMap<u128, u32>,
}

/// A QVD file being written: symbols in memory, row indices spilled.
pub struct TableWriter {
    table: String,
    path: PathBuf,
    spill_path: PathBuf,
    spill: BufWriter<File>,
    fields: Vec<Field>,
    hasher: hashbrown::DefaultHashBuilder,
    rows: u64,
    /// Row-major indices of the batch being added.
    scratch: Vec<u32>,
}

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
    fn encode(&self, out: &mut Vec<u8>) {
        fn text(out: &mut Vec<u8>, s: &str) {
            out.extend(s.bytes().filter(|&b| b != 0));
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

/// One column of a batch, as the writer takes it: `symbol(row)` is `None` for NULL.
pub trait ColumnValues {
    /// Rows in the column.
    fn rows(&self) -> usize;
    /// Calls `f` with the symbol of `row`, or `None` for NULL.
    fn with_symbol(&self, row: usize, scratch: &mut String, f: &mut dyn FnMut(Option<Symbol<'_>>));
    /// The raw value of `row` when the column is one of fixed-width values and `row` is not
    /// NULL: rows with equal raw values have equal symbols, so a repeated value is found
    /// without building its symbol (dates, timestamps and decimals are costly to format).
    fn raw(&self, _row: usize) -> Option<u128> {
        None
    }
}

impl TableWriter {
    /// Starts `<dir>/<file>`; the spill file is `<file>.rows` beside it, the output is written to
    /// `<file>.partial` and renamed when complete.
    pub fn create(
        dir: &Path,
        file: &str,
        table: &str,
        fields: Vec<(String, FieldType)>,
    ) -> std::io::Result<TableWriter> {
        let spill_path = dir.join(format!("{file}.rows"));
        let spill = BufWriter::with_capacity(1 << 20, File::create(&spill_path)?);
        Ok(TableWriter {
            table: table.to_owned(),
            path: dir.join(file),
            spill_path,
            spill,
            fields: fields
                .into_iter()
                .map(|(name, kind)| Field {
                    name,
                    kind,
                    symbols: Vec::new(),
                    lookup: HashTable::new(),
                    count: 0,
                    nulls: false,
                    ascii: true,
                    by_raw: hashbrown::HashMap::new(),
                })
                .collect(),
            hasher: hashbrown::DefaultHashBuilder::default(),
            rows: 0,
            scratch: Vec::new(),
        })
    }

    /// Rows added so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Adds the rows of a batch, one column per field.
    pub fn add(&mut self, columns: &[&dyn ColumnValues]) -> std::io::Result<()> {
        let n = columns.first().map_or(0, |c| c.rows());
        let width = self.fields.len();
        self.scratch.clear();
        self.scratch.resize(n * width, 0);
        let mut key = Vec::with_capacity(64);
        let mut text = String::new();
        for (c, (column, field)) in columns.iter().zip(self.fields.iter_mut()).enumerate() {
            let hasher = &self.hasher;
            for row in 0..n {
                let raw = column.raw(row);
                if let Some(&i) = raw.and_then(|r| field.by_raw.get(&r)) {
                    self.scratch[row * width + c] = i;
                    continue;
                }
                let mut index = NULL;
                column.with_symbol(row, &mut text, &mut |symbol| {
                    let Some(symbol) = symbol else {
                        field.nulls = true;
                        return;
                    };
                    key.clear();
                    symbol.encode(&mut key);
                    index = field.intern(&key, hasher);
                    if let Symbol::Text(s) | Symbol::DualInt(_, s) | Symbol::DualDouble(_, s) =
                        symbol
                    {
                        field.ascii &= s.is_ascii();
                    }
                });
                if let (Some(r), true) = (raw, index != NULL) {
                    field.by_raw.insert(r, index);
                }
                self.scratch[row * width + c] = index;
            }
        }
        let mut bytes = Vec::with_capacity(self.scratch.len() * 4);
        for v in &self.scratch {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        self.spill.write_all(&bytes)?;
        self.rows += n as u64;
        Ok(())
    }

    /// Writes the file and removes the spill; returns the path and the size.
    pub fn finish(self, created_utc: &str) -> std::io::Result<(PathBuf, u64)> {
        let TableWriter {
            table,
            path,
            spill_path,
            spill,
            fields,
            rows,
            ..
        } = self;
        let spill = spill.into_inner().map_err(|e| e.into_error())?;
        drop(spill);
        let result = write_file(&table, &path, &spill_path, &fields, rows, created_utc);
        let _ = std::fs::remove_file(&spill_path);
        result
    }

    /// Gives up: removes the spill and any partial output.
    pub fn abort(self) {
        let partial = partial(&self.path);
        drop(self.spill);
        let _ = std::fs::remove_file(&self.spill_path);
        let _ = std::fs::remove_file(partial);
    }
}

fn partial(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".partial");
    PathBuf::from(p)
}

impl Field {
    /// The index of the symbol `key` (serialized), adding it when new.
    fn intern(&mut self, key: &[u8], hasher: &hashbrown::DefaultHashBuilder) -> u32 {
        let hash = hasher.hash_one(key);
        let symbols = &self.symbols;
        if let Some(&(_, _, i)) = self
            .lookup
            .find(hash, |&(at, len, _)| &symbols[at..at + len as usize] == key)
        {
            return i;
        }
        let i = self.count;
        let at = self.symbols.len();
        self.symbols.extend_from_slice(key);
        self.count += 1;
        let symbols = &self.symbols;
        self.lookup
            .insert_unique(hash, (at, key.len() as u32, i), |&(at, len, _)| {
                hasher.hash_one(&symbols[at..at + len as usize])
            });
        i
    }

    /// `(bias, bit width)`: with NULLs, room for NULL (0) and every symbol shifted by 2.
    fn layout(&self) -> (i32, u32) {
        let needed = if self.nulls {
            u64::from(self.count) + 2
        } else {
            u64::from(self.count)
        };
        let width = if needed <= 1 {
            0
        } else {
            64 - (needed - 1).leading_zeros()
        };
        (if self.nulls { -2 } else { 0 }, width)
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
    if field.kind == FieldType::Text && field.ascii && field.count > 0 {
        tags.push("$ascii");
    }
    if field.count == 0 {
        tags.clear();
    }
    let xml = format!(
        "<NumberFormat>\r\n        <Type>{kind}</Type>\r\n        <nDec>{n_dec}</nDec>\r\n        <UseThou>{thou}</UseThou>\r\n        <Fmt>{}</Fmt>\r\n        <Dec>{dec}</Dec>\r\n        <Thou>{sep}</Thou>\r\n      </NumberFormat>",
        escape(&fmt)
    );
    (xml, tags)
}

fn write_file(
    table: &str,
    path: &Path,
    spill_path: &Path,
    fields: &[Field],
    rows: u64,
    created_utc: &str,
) -> std::io::Result<(PathBuf, u64)> {
    let layouts: Vec<(i32, u32)> = fields.iter().map(Field::layout).collect();
    let total_bits: u64 = layouts.iter().map(|&(_, w)| u64::from(w)).sum();
    // A record of at least one byte: with every field constant (no bits at all) pyqvd could
    // not step through the rows; the unused bits are zero, as the format wants.
    let record = total_bits.div_ceil(8).max(u64::from(rows > 0));
    let symbol_bytes: u64 = fields.iter().map(|f| f.symbols.len() as u64).sum();

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
        x.push_str(&format!("      <NoOfSymbols>{}</NoOfSymbols>\r\n", f.count));
        x.push_str(&format!("      <Offset>{offset}</Offset>\r\n"));
        x.push_str(&format!("      <Length>{}</Length>\r\n", f.symbols.len()));
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
        offset += f.symbols.len() as u64;
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

    let partial = partial(path);
    let mut out = BufWriter::with_capacity(1 << 20, File::create(&partial)?);
    out.write_all(x.as_bytes())?;
    out.write_all(&[0])?;
    for f in fields {
        out.write_all(&f.symbols)?;
    }

    // The records: each field's stored value (index − bias, NULL → 0) packed LSB first.
    let width = fields.len();
    let mut input = BufReader::with_capacity(1 << 20, File::open(spill_path)?);
    let rows_per_chunk: usize = 1 << 16;
    let mut raw = vec![0u8; rows_per_chunk * width * 4];
    let mut packed = Vec::with_capacity(rows_per_chunk * record as usize);
    let mut left = rows;
    while left > 0 {
        let n = left.min(rows_per_chunk as u64) as usize;
        let bytes = &mut raw[..n * width * 4];
        input.read_exact(bytes)?;
        packed.clear();
        for row in bytes.chunks_exact(width * 4) {
            let mut acc: u64 = 0;
            let mut have: u32 = 0;
            let start = packed.len();
            for (cell, &(bias, w)) in row.chunks_exact(4).zip(&layouts) {
                if w == 0 {
                    continue;
                }
                let index = u32::from_le_bytes([cell[0], cell[1], cell[2], cell[3]]);
                let stored = if index == NULL {
                    0
                } else {
                    (i64::from(index) - i64::from(bias)) as u64
                };
                acc |= stored << have;
                have += w;
                while have >= 8 {
                    packed.push(acc as u8);
                    acc >>= 8;
                    have -= 8;
                }
            }
            if have > 0 {
                packed.push(acc as u8);
            }
            packed.resize(start + record as usize, 0);
        }
        out.write_all(&packed)?;
        left -= n as u64;
    }
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all().ok();
    drop(file);
    std::fs::rename(&partial, path)?;
    let size = std::fs::metadata(path)?.len();
    Ok((path.to_owned(), size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_leave_room_for_null() {
        let f = |count, nulls| Field {
            name: String::new(),
            kind: FieldType::Text,
            symbols: Vec::new(),
            lookup: HashTable::new(),
            count,
            nulls,
            ascii: true,
            by_raw: hashbrown::HashMap::new(),
        };
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
    }
}
