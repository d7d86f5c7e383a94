//! The IAM policy model and its validation: raw JSON text in, a typed [`Policy`] that cannot hold
//! an invalid policy out, or every problem found (not only the first) as error findings.

use crate::finding::Finding;

/// A validated repository policy document.
#[derive(Clone, Debug)]
pub struct Policy {
    // Owned by the policy helper: statements, version, ...
}

/// Parses and validates a policy document.
///
/// Errors are findings with code `invalid-json` (not JSON, too deep) or `invalid-policy` (every
/// problem found, each with its statement where it has one).
pub fn parse(_text: &str) -> Result<Policy, Vec<Finding>> {
    todo!("policy helper")
}
