//! ecr-audit: offline audit of Amazon ECR repository policies for a Gitpod Dedicated
//! installation's pull access.
//!
//! Data flows one way: [`input`] (paths → records) → [`policy`] (text → typed model) → [`eval`]
//! (model → per-action states and findings) → [`audit`] (records → rows) → [`report`].

/// A line on standard error that never panics: `eprintln!` does when standard error is a closed
/// pipe (`2>&1 | head`), and a note is never worth a crash.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
pub(crate) use say;

pub mod audit;
pub mod catalog;
pub mod config;
pub mod diff;
pub mod eval;
pub mod evidence;
pub mod explain;
pub mod finding;
pub mod fix;
pub mod gitpod;
pub mod input;
pub mod join;
pub(crate) mod jsonscan;
pub mod message;
pub mod pipeline;
pub mod policy;
pub mod progress;
pub mod record;
pub mod report;
pub mod rules;
pub mod run;
pub mod settings;
pub mod suppress;
pub mod textcache;
