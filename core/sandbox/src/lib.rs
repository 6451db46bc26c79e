//! A faithful local bexio: the same routes, encodings, paging, rate limits, OAuth realm and
//! failure modes as `api.bexio.com`, serving deterministic synthetic Swiss companies.
//!
//! The sandbox shares no code with the bexio client: the two meet only over HTTP, and both answer
//! to bexio's recorded real responses.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use bexio_bi_sandbox::{Sandbox, SandboxConfig};
//! let sandbox = Sandbox::start(SandboxConfig::default(), "127.0.0.1:0".parse()?).await?;
//! let tenant = &sandbox.ready().tenants[0];
//! println!("GET {}/2.0/kb_invoice with Bearer {}", sandbox.url(), tenant.token);
//! sandbox.stop().await;
//! # Ok(()) }
//! ```

pub mod api;
pub mod clock;
pub mod company;
pub mod model;
mod server;

pub use api::faults::FaultPlan;
pub use api::limits::Limits;
pub use server::{OAuthInfo, Ready, Sandbox, SandboxConfig, StartError, TenantInfo};
