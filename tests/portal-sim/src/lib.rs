//! # portal-sim: a local China Single Window declaration portal
//!
//! The real portal (`swapp.singlewindow.cn`) needs an enterprise IC card, so
//! development, tests and benchmarks run against this simulator instead. It
//! serves the same paths, parameters, encodings, envelopes, session
//! behaviour and limits that public scrapers of the real portal rely on
//! (`shared/reference/portal-api.md`), so an adapter written against it
//! should need only a different base URL. Every behaviour that the
//! reference marks as a guess carries a `GUESS:` comment at the place it
//! is implemented.
//!
//! ## Pieces
//!
//! * [`generate()`]: the deterministic synthetic enterprise ([`Dataset`]);
//!   [`generate_world()`]: several enterprises, brokers among them ([`World`]).
//! * [`query`]: the `cusQuery` parameter decoding and filtering, pure.
//! * [`render`]: the JSON and HTML the portal sends.
//! * [`faults`]: the fault-spec language and its deterministic decisions.
//! * [`session`]: `JSESSIONID`, CAS tickets, the card PINs; a session belongs
//!   to the enterprise whose PIN opened it and sees only what that enterprise
//!   sees (its own declarations; a broker also its clients' it declared).
//! * [`pdf`]: the declaration print (a small deterministic PDF) and its SHA-256.
//! * [`start()`] / [`RunningSim`]: the HTTP server on 127.0.0.1.
//! * [`client`]: a minimal keep-alive HTTP/1.1 client for tests and the
//!   benchmark.
//!
//! ## In-process use
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use portal_sim::{start, SimConfig};
//! let sim = start(SimConfig { admin: true, ..SimConfig::default() }).await?;
//! println!("portal at {}", sim.base_url());
//! let truth = sim.truth();
//! assert_eq!(truth.declarations.len(), 700);
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

pub mod catalog;
pub mod client;
pub mod codec;
pub mod config;
pub mod date;
pub mod faults;
pub mod generate;
pub mod model;
pub mod pdf;
pub mod query;
pub mod render;
pub mod rng;
pub mod server;
pub mod session;

pub use config::{EnterpriseSpec, RateLimitAnswer, SimConfig};
pub use date::{Date, DateTime};
pub use faults::FaultSpec;
pub use generate::{generate, generate_world, World};
pub use model::{
    Attachment, Dataset, Declaration, Enterprise, EnterpriseTruth, GoodsLine, Truth,
    TruthDeclaration,
};
pub use server::{initial_truth, start, DocumentStats, RunningSim, StartError, Stats};
