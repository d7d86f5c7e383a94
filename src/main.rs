//! `ecr-audit`: parse the command line, build the run configuration once, run, and map the
//! outcome to an exit status (0 pass, 1 some row at or above --fail-on, 2 usage error).

mod cli;

/// Parsing millions of small policies is allocation-bound (see README, Performance).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

use ecr_audit::run;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cli.command {
        cli::Command::Scan(args) => {
            let color = args.output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            let config = args.into_config(color);
            match run::scan(&config) {
                Ok(outcome) if outcome.failed => ExitCode::from(1),
                Ok(_) => ExitCode::SUCCESS,
                // A missing path is a usage error; so, for want of a better status, is a report
                // that cannot be written.
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            }
        }
        cli::Command::Gitpod(args) => {
            let color = args.output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            match ecr_audit::gitpod::run(&args.into_config(color)) {
                Ok(outcome) if outcome.failed => ExitCode::from(1),
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            }
        }
    }
}
