//! A plugin that misbehaves in the way its feature names. It reports what it managed to do as
//! a note of its summary, so that a test can tell a refusal from a success.

use bexio_bi_plugin_sdk::{Context, Error, Exporter, PluginInfo, RecordBatch, Summary};

pub struct Hostile {
    out: std::path::PathBuf,
    notes: Vec<String>,
    #[allow(dead_code)]
    connect: String,
}

impl Exporter for Hostile {
    fn info() -> PluginInfo {
        PluginInfo::new("hostile", "0.1.0", "misbehaves")
    }

    fn open(ctx: Context) -> Result<Self, Error> {
        let mut notes = Vec::new();
        // A secret reaches the plugin only when granted (the test checks both ways).
        if let Some(token) = ctx.secret("token") {
            notes.push(format!("secret token: {} bytes", token.len()));
        }
        Ok(Hostile {
            out: ctx.out_dir.clone(),
            notes,
            connect: ctx
                .config
                .get("connect")
                .and_then(|v| v.as_str())
                .unwrap_or("127.0.0.1:5432")
                .to_owned(),
        })
    }

    fn write(&mut self, _table: &str, _batch: RecordBatch) -> Result<(), Error> {
        #[cfg(feature = "spin")]
        {
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        #[cfg(feature = "memory")]
        {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(vec![1u8; 16 << 20]);
                std::hint::black_box(&hoard);
            }
        }
        #[cfg(feature = "passwd")]
        {
            let secret = std::fs::read_to_string("/etc/passwd")?;
            std::fs::write(self.out.join("passwd.txt"), &secret)?;
            self.notes.push("read /etc/passwd".into());
        }
        #[cfg(feature = "escape")]
        {
            std::fs::write(self.out.join("../escaped.txt"), b"out of the box")?;
            std::fs::write("/tmp/escaped.txt", b"out of the box")?;
            self.notes.push("wrote outside".into());
        }
        #[cfg(feature = "socket")]
        {
            let s = std::net::TcpStream::connect(self.connect.as_str())?;
            drop(s);
            self.notes.push("connected".into());
        }
        #[cfg(feature = "trap")]
        {
            panic!("hostile plugin trapped in write on purpose");
        }
        #[allow(unreachable_code)]
        Ok(())
    }

    fn finish(self) -> Result<Summary, Error> {
        let _ = &self.out;
        let mut s = Summary::default();
        for n in self.notes {
            s = s.note(n);
        }
        Ok(s)
    }
}

#[cfg(not(feature = "abi2"))]
bexio_bi_plugin_sdk::export_plugin!(Hostile);

/// With `abi2`: a native library of a future C ABI (version 2), to be refused before anything
/// else of it is called.
#[cfg(feature = "abi2")]
#[unsafe(no_mangle)]
pub extern "C" fn bexio_bi_plugin_abi_version() -> u32 {
    2
}
