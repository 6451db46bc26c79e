//! An exporter of interface 2.0.0: it does nothing, it only has to be refused.

wit_bindgen::generate!({ path: "wit", world: "plugin" });

struct Future;

impl exports::bexio_bi::exporter::exporter::Guest for Future {
    fn info() -> String {
        "future 2.0.0".into()
    }
    fn write_batch(_table: String, _address: u32, _length: u32) -> Result<(), String> {
        Ok(())
    }
}

export!(Future);
