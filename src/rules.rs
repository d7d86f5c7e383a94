//! `ecr-audit rules`: every finding code with its severity and description, read from the one
//! catalog the reports use ([`crate::finding::Code`]).

use std::io::{self, Write};

use serde::Serialize;

use crate::finding::Code;

/// One code as `rules --format json` prints it (a public interface, like the reports).
#[derive(Serialize)]
struct RuleOut {
    code: &'static str,
    severity: &'static str,
    description: &'static str,
    help: &'static str,
}

/// A plain aligned table: code, severity, description (and what to do, indented below).
pub fn write_text(out: &mut dyn Write) -> io::Result<()> {
    let width = Code::ALL.iter().map(|c| c.id().len()).max().unwrap_or(0);
    writeln!(out, "{:<width$}  {:<8}  DESCRIPTION", "CODE", "SEVERITY")?;
    for c in Code::ALL {
        writeln!(
            out,
            "{:<width$}  {:<8}  {}",
            c.id(),
            c.severity().as_str(),
            c.description()
        )?;
        writeln!(out, "{:<width$}  {:<8}  fix: {}", "", "", c.help())?;
    }
    Ok(())
}

pub fn write_json(out: &mut dyn Write) -> io::Result<()> {
    let rules: Vec<RuleOut> = Code::ALL
        .iter()
        .map(|c| RuleOut {
            code: c.id(),
            severity: c.severity().as_str(),
            description: c.description(),
            help: c.help(),
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &rules)?;
    out.write_all(b"\n")
}
