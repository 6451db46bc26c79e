//! Arrow IPC streams, the form batches take across the WebAssembly boundary: the host encodes
//! each batch once and hands the same bytes to every plugin.

use arrow_array::RecordBatch;
use arrow_ipc::reader::StreamReader;
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
