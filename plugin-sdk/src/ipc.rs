//! Arrow IPC streams, the form batches take across the WebAssembly boundary: the host encodes
//! each batch once and hands the same bytes to every plugin.

use arrow_array::RecordBatch;
use arrow_buffer::{Buffer, ToByteSlice};
use arrow_data::ArrayData;
use arrow_ipc::reader::{FileDecoder, StreamDecoder, StreamReader};
use arrow_ipc::writer::StreamWriter;
use arrow_schema::{ArrowError, Schema, SchemaRef};

/// A stream holding only `schema`.
pub fn encode_schema(schema: &Schema) -> Result<Vec<u8>, ArrowError> {
    let mut w = StreamWriter::try_new(Vec::new(), schema)?;
    w.finish()?;
    w.into_inner()
}

/// A stream holding `batch` (its schema first).
///
/// Columns of flat types (numbers, decimals, dates and times, booleans, text and binary) are
/// copied once, straight into a stream of exactly the right size; arrow-ipc's writer copies
/// each buffer into the message body, the body into the stream, and grows both as it goes,
/// which at a million rows costs as much as a plugin's work. Other types take that writer.
pub fn encode_batch(batch: &RecordBatch) -> Result<Vec<u8>, ArrowError> {
    match Body::plan(batch) {
        Some(body) => body.encode(batch),
        None => encode_with_writer(batch),
    }
}

/// A stream holding `batch`, written by arrow-ipc's `StreamWriter`.
fn encode_with_writer(batch: &RecordBatch) -> Result<Vec<u8>, ArrowError> {
    let mut out = Vec::with_capacity(batch.get_array_memory_size() + 1024);
    {
        let mut w = StreamWriter::try_new(&mut out, &batch.schema())?;
        w.write(batch)?;
        w.finish()?;
    }
    Ok(out)
}

/// Where buffers in a message body start (a multiple of it; arrow-ipc's writer's default): any
/// type's alignment, so that a reader need not copy a buffer to align it.
const ALIGN: usize = 64;

/// The end of stream marker.
const END: [u8; 8] = [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0];

fn padded(n: usize) -> usize {
    n.div_ceil(ALIGN) * ALIGN
}

/// One buffer of a record batch's body: a range of an array's buffer, or bytes made for it (a
/// bitmap moved to a byte boundary, offsets made to start at 0).
enum Part {
    Shared(Buffer, std::ops::Range<usize>),
    Owned(Vec<u8>),
}

impl Part {
    fn bytes(&self) -> &[u8] {
        match self {
            Part::Shared(b, range) => &b.as_slice()[range.clone()],
            Part::Owned(v) => v,
        }
    }

    /// `len` bytes of `buffer` from `from`, if it holds them.
    fn of(buffer: &Buffer, from: usize, len: usize) -> Option<Part> {
        let end = from.checked_add(len)?;
        (end <= buffer.len()).then(|| Part::Shared(buffer.clone(), from..end))
    }
}

/// The body of a record batch message: its field nodes and buffers, in the order of the IPC
/// format.
struct Body {
    nodes: Vec<arrow_ipc::FieldNode>,
    parts: Vec<Part>,
}

impl Body {
    /// The body of `batch`, or `None` if a column's type is not one this encoder writes.
    fn plan(batch: &RecordBatch) -> Option<Body> {
        let mut body = Body {
            nodes: Vec::with_capacity(batch.num_columns()),
            parts: Vec::with_capacity(batch.num_columns() * 3),
        };
        for column in batch.columns() {
            body.column(&column.to_data())?;
        }
        Some(body)
    }

    fn column(&mut self, data: &ArrayData) -> Option<()> {
        use arrow_schema::DataType;
        let (offset, len) = (data.offset(), data.len());
        let nulls = data.nulls().filter(|n| n.null_count() > 0);
        self.nodes.push(arrow_ipc::FieldNode::new(
            i64::try_from(len).ok()?,
            i64::try_from(nulls.map_or(0, |n| n.null_count())).ok()?,
        ));
        // The validity bitmap; none when nothing is NULL.
        self.parts.push(match nulls {
            Some(n) => bits(n.buffer(), n.offset(), len)?,
            None => Part::Owned(Vec::new()),
        });
        let buffers = data.buffers();
        match data.data_type() {
            DataType::Boolean => self.parts.push(bits(buffers.first()?, offset, len)?),
            DataType::Utf8 | DataType::Binary => self.text::<i32>(buffers, offset, len)?,
            DataType::LargeUtf8 | DataType::LargeBinary => {
                self.text::<i64>(buffers, offset, len)?
            }
            t => {
                let width = match t {
                    DataType::FixedSizeBinary(n) => usize::try_from(*n).ok()?,
                    // Other types (nested, dictionaries, views) take arrow-ipc's writer.
                    t => t.primitive_width()?,
                };
                if buffers.len() != 1 {
                    return None;
                }
                self.parts
                    .push(Part::of(&buffers[0], offset * width, len * width)?);
            }
        }
        Some(())
    }

    /// A text or binary column's offsets (made to start at 0) and the values they span.
    fn text<O: arrow_array::OffsetSizeTrait>(
        &mut self,
        buffers: &[Buffer],
        offset: usize,
        len: usize,
    ) -> Option<()> {
        let [offsets, values] = buffers else {
            return None;
        };
        let offsets: &[O] = offsets.typed_data::<O>().get(offset..=offset + len)?;
        let (first, last) = (offsets[0], offsets[len]);
        if first.as_usize() == 0 {
            let size = std::mem::size_of::<O>();
            self.parts
                .push(Part::of(&buffers[0], offset * size, (len + 1) * size)?);
        } else {
            let mut rebased = Vec::with_capacity(std::mem::size_of_val(offsets));
            for &o in offsets {
                rebased.extend_from_slice((o - first).to_byte_slice());
            }
            self.parts.push(Part::Owned(rebased));
        }
        self.parts.push(Part::of(
            values,
            first.as_usize(),
            (last - first).as_usize(),
        )?);
        Some(())
    }

    /// The stream: the schema message, the batch message, the end of stream marker.
    fn encode(self, batch: &RecordBatch) -> Result<Vec<u8>, ArrowError> {
        let mut buffers = Vec::with_capacity(self.parts.len());
        let mut at = 0;
        for p in &self.parts {
            let len = p.bytes().len();
            buffers.push(arrow_ipc::Buffer::new(at as i64, len as i64));
            at += padded(len);
        }
        let body_len = at;
        let mut fbb = flatbuffers::FlatBufferBuilder::new();
        let nodes = fbb.create_vector(&self.nodes);
        let buffers = fbb.create_vector(&buffers);
        let header = {
            let mut b = arrow_ipc::RecordBatchBuilder::new(&mut fbb);
            b.add_length(batch.num_rows() as i64);
            b.add_nodes(nodes);
            b.add_buffers(buffers);
            b.finish()
        };
        let message = {
            let mut m = arrow_ipc::MessageBuilder::new(&mut fbb);
            m.add_version(arrow_ipc::MetadataVersion::V5);
            m.add_header_type(arrow_ipc::MessageHeader::RecordBatch);
            m.add_header(header.as_union_value());
            m.add_bodyLength(body_len as i64);
            m.finish()
        };
        fbb.finish(message, None);
        let meta = fbb.finished_data();

        let schema = {
            let mut w = StreamWriter::try_new(Vec::new(), &batch.schema())?;
            w.finish()?;
            w.into_inner()?
        };
        // Drop the end marker the schema's writer put after it.
        let Some(schema) = schema.strip_suffix(&END) else {
            return Err(ArrowError::IpcError(
                "unexpected end of a schema stream".into(),
            ));
        };
        // The metadata, padded so that the body starts on a multiple of `ALIGN` in the stream.
        let meta_len = padded(schema.len() + 8 + meta.len()) - schema.len() - 8;
        // Allocated once at its final size: growing a megabyte buffer out of the schema's costs
        // a reallocation (and the allocator's bookkeeping) per batch.
        let mut out = Vec::with_capacity(schema.len() + 8 + meta_len + body_len + END.len());
        out.extend_from_slice(schema);
        out.extend_from_slice(&[0xFF; 4]);
        out.extend_from_slice(
            &i32::try_from(meta_len)
                .map_err(|_| ArrowError::IpcError("metadata too large".into()))?
                .to_le_bytes(),
        );
        out.extend_from_slice(meta);
        out.resize(out.len() + meta_len - meta.len(), 0);
        for p in &self.parts {
            let bytes = p.bytes();
            out.extend_from_slice(bytes);
            out.resize(out.len() + padded(bytes.len()) - bytes.len(), 0);
        }
        out.extend_from_slice(&END);
        Ok(out)
    }
}

/// The `len` bits of `buffer` from bit `offset`, moved to start at a byte boundary if they
/// do not.
fn bits(buffer: &Buffer, offset: usize, len: usize) -> Option<Part> {
    if offset.is_multiple_of(8) {
        Part::of(buffer, offset / 8, len.div_ceil(8))
    } else {
        let end = offset.checked_add(len)?;
        (end.div_ceil(8) <= buffer.len())
            .then(|| Part::Owned(buffer.bit_slice(offset, len).as_slice().to_vec()))
    }
}

/// The schema of a stream.
pub fn decode_schema(bytes: &[u8]) -> Result<SchemaRef, ArrowError> {
    Ok(StreamReader::try_new(bytes, None)?.schema())
}

/// The one batch of a stream written by [`encode_batch`].
pub fn decode_batch(bytes: &[u8]) -> Result<RecordBatch, ArrowError> {
    let mut r = StreamReader::try_new(bytes, None)?;
    match r.next() {
        Some(b) => b,
        None => Err(ArrowError::IpcError("the stream holds no batch".into())),
    }
}

/// The one batch of a stream written by [`encode_batch`], taking the bytes over: the arrays are
/// views into them (no copy, except a buffer that is not aligned for its type), and the
/// values are not validated again.
///
/// # Safety
/// `bytes` must be a stream [`encode_batch`] wrote from a valid batch (as the host's are): a
/// stream of invalid arrays (say, text that is not UTF-8) is undefined behaviour later on.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub(crate) unsafe fn decode_trusted_batch(bytes: Vec<u8>) -> Result<RecordBatch, ArrowError> {
    let buffer = arrow_buffer::Buffer::from_vec(bytes);
    let damaged =
        |what: &str| ArrowError::IpcError(format!("the batch's stream is damaged: {what}"));
    let mut schema: Option<SchemaRef> = None;
    let mut at = 0;
    // Encapsulated messages: [0xFFFFFFFF] <metadata length: i32> <Message flatbuffer> <body>.
    // `StreamDecoder` would validate every value of the batch whatever it is told (arrow-ipc
    // 58 does not pass its skip-validation flag on to record batches); `FileDecoder` does not.
    loop {
        let rest = &buffer.as_slice()[at..];
        let word = |i: usize| {
            rest.get(i..i + 4)
                .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        };
        let (prefix, len) = match word(0) {
            Some(-1) => (8, word(4)),
            Some(n) => (4, Some(n)),
            None => (0, None),
        };
        let len = match len {
            Some(n) if n > 0 => n as usize,
            _ => return Err(ArrowError::IpcError("the stream holds no batch".into())),
        };
        let meta = prefix + len;
        let message = arrow_ipc::root_as_message(
            rest.get(prefix..meta)
                .ok_or_else(|| damaged("short metadata"))?,
        )
        .map_err(|e| damaged(&e.to_string()))?;
        let body = usize::try_from(message.bodyLength()).map_err(|_| damaged("body length"))?;
        if rest.len() < meta + body {
            return Err(damaged("short body"));
        }
        match message.header_type() {
            arrow_ipc::MessageHeader::Schema => {
                let fb = message
                    .header_as_schema()
                    .ok_or_else(|| damaged("schema"))?;
                schema = Some(std::sync::Arc::new(arrow_ipc::convert::fb_to_schema(fb)));
            }
            arrow_ipc::MessageHeader::RecordBatch => {
                let schema = schema.ok_or_else(|| damaged("a batch before its schema"))?;
                let block = arrow_ipc::Block::new(0, meta as i32, body as i64);
                // SAFETY: the caller vouches for the stream's arrays.
                let decoder = unsafe {
                    FileDecoder::new(schema, message.version()).with_skip_validation(true)
                };
                return decoder
                    .read_record_batch(&block, &buffer.slice_with_length(at, meta + body))?
                    .ok_or_else(|| damaged("an empty batch message"));
            }
            // Dictionaries (not in the host's streams): the general decoder.
            _ => return decode_stream(buffer),
        }
        at += meta + body;
    }
}

/// The first batch of a stream through `StreamDecoder` (values validated).
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
fn decode_stream(mut buffer: arrow_buffer::Buffer) -> Result<RecordBatch, ArrowError> {
    let mut decoder = StreamDecoder::new();
    while !buffer.is_empty() {
        if let Some(batch) = decoder.decode(&mut buffer)? {
            return Ok(batch);
        }
    }
    Err(ArrowError::IpcError("the stream holds no batch".into()))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Decimal128Array, StringArray};

    use super::*;

    #[test]
    fn a_trusted_batch_comes_back_as_written() {
        let batch = RecordBatch::try_from_iter([
            (
                "text",
                Arc::new(StringArray::from(vec![Some("Müller €"), None, Some("")])) as _,
            ),
            (
                "total",
                Arc::new(
                    Decimal128Array::from(vec![Some(12_345), Some(-5), None])
                        .with_precision_and_scale(18, 2)
                        .expect("decimal"),
                ) as _,
            ),
        ])
        .expect("batch");
        let bytes = encode_batch(&batch).expect("encode");
        assert_eq!(decode_batch(&bytes).expect("checked"), batch);
        // SAFETY: written just above from a valid batch.
        let trusted = unsafe { decode_trusted_batch(bytes) }.expect("trusted");
        assert_eq!(trusted, batch);
        let schema_only = encode_schema(&batch.schema()).expect("schema");
        // SAFETY: as above.
        assert!(unsafe { decode_trusted_batch(schema_only) }.is_err());
    }

    /// Columns of every type the direct encoder writes, and two it leaves to arrow-ipc.
    fn every_type(rows: usize) -> RecordBatch {
        use arrow_array::{
            ArrayRef, BinaryArray, BooleanArray, Date32Array, FixedSizeBinaryArray, Float64Array,
            Int8Array, Int64Array, LargeStringArray, TimestampMicrosecondArray, UInt16Array,
        };
        let n = |i: usize, k: usize| (!i.is_multiple_of(k)).then_some(i);
        let texts: Vec<Option<String>> = (0..rows)
            .map(|i| n(i, 3).map(|i| format!("Zürich €{i} {}", "ß".repeat(i % 5))))
            .collect();
        let columns: Vec<(&str, ArrayRef)> = vec![
            (
                "i8",
                Arc::new(Int8Array::from_iter(
                    (0..rows).map(|i| n(i, 4).map(|i| i as i8)),
                )),
            ),
            (
                "u16",
                Arc::new(UInt16Array::from_iter_values((0..rows).map(|i| i as u16))),
            ),
            (
                "i64",
                Arc::new(Int64Array::from_iter(
                    (0..rows).map(|i| n(i, 7).map(|i| -(i as i64) << 40)),
                )),
            ),
            (
                "f64",
                Arc::new(Float64Array::from_iter(
                    (0..rows).map(|i| n(i, 5).map(|i| i as f64 / 3.0)),
                )),
            ),
            (
                "money",
                Arc::new(
                    Decimal128Array::from_iter(
                        (0..rows).map(|i| n(i, 6).map(|i| i as i128 * 1_000_003 - 7)),
                    )
                    .with_precision_and_scale(38, 2)
                    .expect("decimal"),
                ),
            ),
            (
                "day",
                Arc::new(Date32Array::from_iter(
                    (0..rows).map(|i| n(i, 9).map(|i| 19_000 + i as i32)),
                )),
            ),
            (
                "at",
                Arc::new(
                    TimestampMicrosecondArray::from_iter(
                        (0..rows).map(|i| n(i, 8).map(|i| i as i64 * 1_000_000)),
                    )
                    .with_timezone("Europe/Zurich"),
                ),
            ),
            (
                "flag",
                Arc::new(BooleanArray::from_iter(
                    (0..rows).map(|i| n(i, 4).map(|i| i % 3 == 0)),
                )),
            ),
            (
                "flag_all",
                Arc::new(BooleanArray::from_iter((0..rows).map(|i| Some(i % 2 == 0)))),
            ),
            ("text", Arc::new(StringArray::from(texts.clone()))),
            ("large", Arc::new(LargeStringArray::from(texts))),
            (
                "bin",
                Arc::new(BinaryArray::from_iter(
                    (0..rows).map(|i| n(i, 2).map(|i| vec![i as u8; i % 4])),
                )),
            ),
            (
                "fixed",
                Arc::new(
                    FixedSizeBinaryArray::try_from_sparse_iter_with_size(
                        (0..rows).map(|i| n(i, 3).map(|i| [i as u8, 1, 2])),
                        3,
                    )
                    .expect("fixed"),
                ),
            ),
            ("nothing", Arc::new(Int64Array::from(vec![None; rows]))),
        ];
        RecordBatch::try_from_iter(columns).expect("batch")
    }

    /// What arrow-ipc's own writer makes of `batch`, read back by its validating reader.
    fn as_arrow_writes(batch: &RecordBatch) -> RecordBatch {
        decode_batch(&encode_with_writer(batch).expect("arrow-ipc")).expect("decoded")
    }

    #[test]
    fn the_direct_encoder_writes_what_arrow_reads_back_for_every_slice() {
        let batch = every_type(100);
        assert!(Body::plan(&batch).is_some(), "every column is a flat type");
        // Slices at odd offsets: bitmaps off byte boundaries, offsets not starting at 0.
        for (from, len) in [
            (0, 100),
            (1, 98),
            (3, 17),
            (8, 16),
            (13, 0),
            (99, 1),
            (0, 0),
        ] {
            let part = batch.slice(from, len);
            let bytes = encode_batch(&part).expect("encode");
            // arrow-ipc's reader validates every value.
            let decoded = decode_batch(&bytes).expect("arrow reads it");
            assert_eq!(decoded, part, "slice {from}+{len}");
            assert_eq!(decoded, as_arrow_writes(&part));
            // SAFETY: encoded just above from a valid batch.
            let trusted = unsafe { decode_trusted_batch(bytes.clone()) }.expect("trusted");
            assert_eq!(trusted, part);
            // The body starts on a 64-byte boundary of the stream: no buffer needs realigning.
            let word = |at: usize| i32::from_le_bytes(bytes[at..at + 4].try_into().expect("4"));
            let batch_at = 8 + word(4) as usize;
            assert_eq!((batch_at + 8 + word(batch_at + 4) as usize) % ALIGN, 0);
        }
    }

    #[test]
    fn other_types_take_arrow_ipcs_writer() {
        use arrow_array::types::Int32Type;
        use arrow_array::{DictionaryArray, ListArray};
        let list = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
            Some(vec![Some(1), None]),
            None,
            Some(vec![]),
        ]);
        let dict: DictionaryArray<Int32Type> =
            vec![Some("a"), None, Some("a")].into_iter().collect();
        let batch = RecordBatch::try_from_iter([
            ("list", Arc::new(list) as _),
            ("dict", Arc::new(dict) as _),
        ])
        .expect("batch");
        assert!(Body::plan(&batch).is_none());
        let bytes = encode_batch(&batch).expect("encode");
        assert_eq!(decode_batch(&bytes).expect("decoded"), batch);
    }

    #[test]
    fn a_cut_stream_is_an_error_and_dictionaries_still_decode() {
        let batch = RecordBatch::try_from_iter([(
            "text",
            Arc::new(StringArray::from(vec![
                Some("Zürich"),
                None,
                Some("Genève"),
            ])) as _,
        )])
        .expect("batch");
        let bytes = encode_batch(&batch).expect("encode");
        let whole = bytes.len() - 8; // without the end-of-stream marker
        for n in 0..whole {
            // SAFETY: a prefix of a valid stream: every message is checked for its length.
            assert!(
                unsafe { decode_trusted_batch(bytes[..n].to_vec()) }.is_err(),
                "{n}"
            );
        }
        let keys = arrow_array::DictionaryArray::<arrow_array::types::Int32Type>::from_iter([
            "CHF", "EUR", "CHF",
        ]);
        let dict = RecordBatch::try_from_iter([("currency", Arc::new(keys) as _)]).expect("batch");
        let bytes = encode_batch(&dict).expect("encode");
        // SAFETY: written just above from a valid batch.
        assert_eq!(
            unsafe { decode_trusted_batch(bytes) }.expect("decodes"),
            dict
        );
    }
}
