//! Arrow IPC streams, the form batches take across the WebAssembly boundary: the host encodes
//! each batch once and hands the same bytes to every plugin.

use arrow_array::RecordBatch;
use arrow_ipc::reader::{StreamDecoder, StreamReader};
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
    let mut buffer = arrow_buffer::Buffer::from_vec(bytes);
    // SAFETY: the caller vouches for the stream's arrays.
    let mut decoder = unsafe { StreamDecoder::new().with_skip_validation(true) };
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
}
