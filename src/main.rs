//! `ecr-audit`: parse the command line, build the run configuration once, run, and map the
//! outcome to an exit status (0 pass, 1 some row at or above --fail-on, 2 usage error).

mod cli;

/// Parsing millions of small policies is allocation-bound (see README, Performance).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use ecr_audit::finding::Status;
use ecr_audit::{explain, fix, gitpod, rules, run};

fn main() -> ExitCode {
    let matches = <cli::Cli as clap::CommandFactory>::command().get_matches();
    let cli = match <cli::Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    // The size of a document held whole, from the environment: refused before any reading.
    if let Err(e) = ecr_audit::input::max_document_setting() {
        return usage(e);
    }
    let sub = matches
        .subcommand()
        .map(|(_, m)| m.clone())
        .unwrap_or_default();
    match cli.command {
        cli::Command::Scan(args) => {
            let color = color(args.run.to_stdout());
            let config = match args.into_config(color, &sub) {
                Ok(c) => c,
                Err(e) => return usage(e),
            };
            match run::scan(&config) {
                Ok(outcome) if outcome.failed => ExitCode::from(1),
                Ok(_) => ExitCode::SUCCESS,
                // A missing path is a usage error; so, for want of a better status, is a report
                // that cannot be written.
                Err(e) => usage(e),
            }
        }
        cli::Command::Gitpod(args) => {
            let color = color(args.run.to_stdout());
            let config = match args.into_config(color, &sub) {
                Ok(c) => c,
                Err(e) => return usage(e),
            };
            match gitpod::run(&config) {
                Ok(outcome) if outcome.failed => ExitCode::from(1),
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => usage(e),
            }
        }
        cli::Command::Explain(args) => {
            let mut out = std::io::stdout().lock();
            let config = match args.into_config(&sub) {
                Ok(c) => c,
                Err(e) => return usage(e),
            };
            match explain::run(&config, &mut out) {
                Ok(status) if status >= Status::Fail => ExitCode::from(1),
                Ok(_) => ExitCode::SUCCESS,
                // `| head` closed the pipe: the reader has what it wanted.
                Err(explain::ExplainError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                    ExitCode::SUCCESS
                }
                Err(e) => usage(e),
            }
        }
        cli::Command::Fix(args) => {
            let mut out = std::io::stdout().lock();
            let config = match args.into_config(&sub) {
                Ok(c) => c,
                Err(e) => return usage(e),
            };
            match fix::run(&config, &mut out) {
                Ok(outcome) if outcome.needs_person() => ExitCode::from(1),
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => usage(e),
            }
        }
        cli::Command::Rules(args) => {
            let mut out = std::io::stdout().lock();
            let res = match args.format {
                cli::RulesFormatArg::Table => rules::write_text(&mut out),
                cli::RulesFormatArg::Json => rules::write_json(&mut out),
            };
            match res {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => usage(e),
                _ => ExitCode::SUCCESS,
            }
        }
        cli::Command::Completions(args) => {
            let mut out = std::io::stdout().lock();
            match cli::completions(args.shell, &mut out) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => usage(e),
                _ => ExitCode::SUCCESS,
            }
        }
        cli::Command::Diff(args) => match ecr_audit::diff::run(&args.into_config()) {
            Ok(true) => ExitCode::from(1),
            Ok(false) => ExitCode::SUCCESS,
            Err(e) => usage(e),
        },
        cli::Command::Config(args) => {
            let mut out = std::io::stdout().lock();
            match args.print(&sub, &mut out) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => usage(e),
            }
        }
        cli::Command::Man => {
            let mut out = std::io::stdout().lock();
            match cli::man_page(&mut out) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => usage(e),
                _ => ExitCode::SUCCESS,
            }
        }
    }
}

/// Colour only a report that goes to a terminal, and never when `NO_COLOR` is set.
fn color(to_stdout: bool) -> bool {
    to_stdout
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// A usage error, a missing path, or output that cannot be written: exit 2.
fn usage(e: impl std::fmt::Display) -> ExitCode {
    // Never a panic, even with standard error closed.
    let _ = writeln!(std::io::stderr(), "error: {e}");
    ExitCode::from(2)
}
