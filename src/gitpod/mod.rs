//! `ecr-audit gitpod`: cross-checks the images that Gitpod configurations use against the
//! verdicts of a scanned export.

pub mod dockerfile;
pub mod image;
