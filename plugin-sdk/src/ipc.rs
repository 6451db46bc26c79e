//! Arrow IPC streams, the form batches take across the WebAssembly boundary: the host encodes
//! each batch once and hands the same bytes to every plugin.

use arrow_array::RecordBatch;
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
pub fn encode_batch(batch: &RecordBatch) -> Result<Vec<u8>, ArrowError> {
    let mut out = Vec::with_capacity(batch.get_array_memory_size() + 1024);
    {
        let mut w = StreamWriter::try_new(&mut out, &batch.schema())?;
        w.write(batch)?;
        w.finish()?;
    }
    Ok(out)
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
