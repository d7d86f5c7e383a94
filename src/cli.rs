//! The command line (clap types only). `into_config` converts it into the library's plain,
//! validated `ScanConfig` once; nothing downstream sees clap.

use std::collections::HashMap;
use std::path::PathBuf;

use clap::parser::ValueSource;
use clap::{ArgMatches, Args, CommandFactory, Parser, Subcommand, ValueEnum};

use ecr_audit::config::{FailOn, Format, Progress, RunConfig, ScanConfig};
use ecr_audit::eval::{ContextValue, Partition, Puller};
use ecr_audit::explain::{ExplainConfig, RecordRef};
use ecr_audit::fix::FixConfig;
use ecr_audit::record::ScopeV;
use ecr_audit::settings::Settings;

const ABOUT: &str = "Offline audit of Amazon ECR repository policies: can the Gitpod \
installation's AWS account pull, and is the policy safe?";

const EXAMPLES: &str = "\
Examples:
  ecr-audit scan export/ --account 111122223333
  ecr-audit scan export/ --account 111122223333 --format csv -o verdicts.csv
  aws ecr get-repository-policy --repository-name app | ecr-audit scan - --account 111122223333";

#[derive(Debug, Parser)]
#[command(
    name = "ecr-audit",
    version,
    long_version = long_version(),
    about = ABOUT,
    after_help = EXAMPLES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Judge every repository policy found under PATH... for the Gitpod account(s).
    #[command(after_help = SCAN_EXAMPLES)]
    Scan(ScanArgs),
    /// Cross-check the images that Gitpod configurations (.gitpod.yml) use against an export.
    #[command(after_help = GITPOD_EXAMPLES)]
    Gitpod(GitpodArgs),
    /// Explain, statement by statement, why one record got its verdict.
    #[command(after_help = EXPLAIN_EXAMPLES)]
    Explain(ExplainArgs),
    /// Write the remediated policy of every repository that fails only for want of an Allow,
    /// and an apply.sh to review and run (never run by ecr-audit).
    #[command(after_help = FIX_EXAMPLES)]
    Fix(FixArgs),
    /// List every finding code with its severity and description.
    Rules(RulesArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell or elvish).
    ///
    /// Example: `ecr-audit completions bash > ~/.local/share/bash-completion/completions/ecr-audit`
    Completions(CompletionsArgs),
    /// Compare two JSON reports (`scan --format json`) of two snapshots: new, fixed, worsened,
    /// improved, removed and unchanged rows, matched by repository and account.
    #[command(after_help = DIFF_EXAMPLES)]
    Diff(DiffArgs),
    /// Print the configuration in effect (command line, environment, ecr-audit.toml, defaults)
    /// and where each value came from.
    #[command(after_help = CONFIG_EXAMPLES)]
    Config(ConfigArgs),
    /// Print the man page (roff), made from the same definitions as `--help`.
    ///
    /// Example: `ecr-audit man | man -l -`
    Man,
}

/// `--version`: the version, the commit it was built from (when built from a git checkout), and
/// what its verdicts rest on: the date of the ECR action catalog and the JSON report's schema.
pub fn long_version() -> &'static str {
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEXT.get_or_init(|| {
        let commit = match env!("ECR_AUDIT_GIT_COMMIT") {
            "" => "unknown (not built from a git checkout)",
            c => c,
        };
        format!(
            "{}\ncommit: {commit}\nECR action catalog: {}\nreport schema version: {}",
            env!("CARGO_PKG_VERSION"),
            ecr_audit::catalog::CATALOG_DATE,
            ecr_audit::report::json::SCHEMA_VERSION,
        )
    })
}

/// The completion script for `shell`, made from the same definitions as `--help`. It is made in
/// memory first: clap_complete panics on a write error, and `| head` closes the pipe.
pub fn completions(
    shell: clap_complete::Shell,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    if shell != clap_complete::Shell::Bash {
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "ecr-audit", &mut script);
        return out.write_all(&script);
    }
    // clap_complete's bash script never completes past a subcommand when the program's name has a
    // hyphen (clap-rs/clap issue 6421: the state it computes and the `case` arms it writes spell
    // the name differently). So the script is made for `ecr_audit` and registered for
    // `ecr-audit`: the function finds the program's name in its first argument, not in the text.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "ecr_audit", &mut script);
    let script = String::from_utf8_lossy(&script).replace(" ecr_audit\n", " ecr-audit\n");
    out.write_all(script.as_bytes())
}

/// One man page for the whole tool: the top-level sections as clap_mangen renders them, then
/// one section per subcommand with its synopsis, description, options and examples (so that
/// `man ecr-audit` lists every option, not only the subcommands' names), then the examples and
/// the version.
pub fn man_page(out: &mut dyn std::io::Write) -> std::io::Result<()> {
    use clap_mangen::roff::{Roff, roman};
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let top = clap_mangen::Man::new(cmd.clone());
    top.render_title(out)?;
    top.render_name_section(out)?;
    top.render_synopsis_section(out)?;
    top.render_description_section(out)?;
    top.render_options_section(out)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("ecr-audit {}", sub.get_name());
        let mut head = Roff::default();
        head.control("SH", [name.to_uppercase().as_str()]);
        if let Some(about) = sub.get_long_about().or_else(|| sub.get_about()) {
            head.text([roman(about.to_string())]);
        }
        head.to_writer(out)?;
        let page = clap_mangen::Man::new(sub.clone());
        let mut body = Vec::new();
        page.render_synopsis_section(&mut body)?;
        if sub.get_arguments().any(|a| !a.is_hide_set()) {
            page.render_options_section(&mut body)?;
        }
        if sub.get_after_help().is_some() {
            page.render_extra_section(&mut body)?;
        }
        // The subcommand's sections become subsections of its own section.
        let body = String::from_utf8_lossy(&body)
            .replace(".SH EXTRA", ".SS NOTES")
            .replace(".SH ", ".SS ");
        out.write_all(body.as_bytes())?;
    }
    let mut tail = Vec::new();
    top.render_extra_section(&mut tail)?;
    top.render_version_section(&mut tail)?;
    let tail = String::from_utf8_lossy(&tail).replace(".SH EXTRA", ".SH EXAMPLES");
    out.write_all(tail.as_bytes())
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for. Example: `bash`
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

const EXPLAIN_EXAMPLES: &str = "\
Exit status: 0 the record passes or warns; 1 it fails or is an error; 2 usage error.

Examples:
  ecr-audit explain testdata/export/teams/data/spark.policy --account 111122223333
  ecr-audit explain testdata/export --record testdata/export/bulk/repositories.json:3 --account 111122223333";

const FIX_EXAMPLES: &str = "\
Exit status: 0 every failing row was remediated; 1 some rows need a person (listed); 2 usage error.

Examples:
  ecr-audit fix export/ --account 111122223333 --out-dir remediation/
  sh remediation/apply.sh   # after review; needs AWS credentials";

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The same inputs as `scan` (files, folders, `-`): the record is judged with the same joins
    /// (registry policy, inventory). Example: `export/`
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,

    /// The record to explain, as the reports name it: `SOURCE:N` (the `source` and `record`
    /// columns), or `N` when one source holds records. Not needed when the inputs hold one
    /// record. Example: `--record export/bulk/repositories.json:3`
    #[arg(long, value_name = "SOURCE:N", value_parser = parse_record, allow_hyphen_values = true)]
    pub record: Option<RecordRef>,

    #[command(flatten)]
    pub who: PullerArgs,
}

#[derive(Debug, Args)]
pub struct FixArgs {
    /// Files or folders to read, as for `scan`. Example: `export/`
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,

    #[command(flatten)]
    pub who: PullerArgs,

    /// Where to write policies/, apply.sh and needs-review.txt (created if missing).
    /// Example: `--out-dir remediation/`
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Output format. Example: `--format json`
    #[arg(long, value_enum, default_value_t = RulesFormatArg::Table)]
    pub format: RulesFormatArg,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum RulesFormatArg {
    Table,
    Json,
}

const GITPOD_EXAMPLES: &str = "\
Exit status: 0 no row at or above --fail-on (not-applicable counts as pass); 1 some row is;
2 usage error or a missing path.

Examples:
  ecr-audit gitpod testdata/gitpod --export testdata/export --account 111122223333
  ecr-audit gitpod ~/src/ --export export/ --account 111122223333 --format csv -o images.csv";

#[derive(Debug, Args)]
pub struct GitpodArgs {
    /// Folders (walked recursively for .gitpod.yml, then .gitpod, as Gitpod reads them) or
    /// configuration files.
    /// Example: `~/src/`
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,

    /// The export of repository policies, scanned as `scan` does; repeatable.
    /// Example: `--export export/`
    #[arg(long = "export", value_name = "EXPORT", required = true)]
    pub exports: Vec<String>,

    #[command(flatten)]
    pub who: PullerArgs,

    /// Report format (the scan's formats but SARIF). Example: `--format html`
    #[arg(long, default_value = "table", value_parser = formats(&GITPOD_FORMATS))]
    pub format: FormatArg,

    #[command(flatten)]
    pub run: RunArgs,
}

/// The formats `gitpod` writes (all but SARIF) and `diff` writes.
const GITPOD_FORMATS: [FormatArg; 5] = [
    FormatArg::Table,
    FormatArg::Csv,
    FormatArg::Json,
    FormatArg::Markdown,
    FormatArg::Html,
];
const DIFF_FORMATS: [FormatArg; 5] = [
    FormatArg::Table,
    FormatArg::Csv,
    FormatArg::Json,
    FormatArg::Markdown,
    FormatArg::Html,
];

/// The one report-format value type (issue 10: one `ValueEnum` per concept), narrowed to the
/// formats a command writes.
fn formats(
    allowed: &'static [FormatArg],
) -> impl clap::builder::TypedValueParser<Value = FormatArg> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(
        allowed.iter().filter_map(ValueEnum::to_possible_value),
    )
    .map(move |s| {
        allowed
            .iter()
            .copied()
            .find(|f| f.to_possible_value().is_some_and(|v| v.matches(&s, false)))
            .unwrap_or(FormatArg::Table)
    })
}

impl GitpodArgs {
    /// The validated configuration: the export is judged exactly as `scan` would judge it.
    pub fn into_config(
        self,
        color: bool,
        m: &ArgMatches,
    ) -> Result<ecr_audit::gitpod::GitpodConfig, String> {
        let mut layer = Layer::new(m, self.who.config.as_deref())?;
        Ok(ecr_audit::gitpod::GitpodConfig {
            paths: self.paths,
            exports: self.exports,
            format: self.format.into(),
            run: self.run.into_config(self.who, color, &mut layer)?,
        })
    }
}

const SCAN_EXAMPLES: &str = "\
Exit status: 0 no row at or above --fail-on; 1 some row is; 2 usage error or a missing path.

Examples:
  ecr-audit scan testdata/export --account 111122223333
  ecr-audit scan export/ policies.jsonl.gz --account 111122223333 --account 999988887777
  ecr-audit scan export/ --account 111122223333 --context aws:PrincipalOrgID=o-abc123
  ECR_AUDIT_ACCOUNT=111122223333 ecr-audit scan export/ --format json -o report.json";

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or folders to scan (folders are walked recursively); `-` reads standard input.
    /// Example: `export/ extra.jsonl.gz`
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,

    #[command(flatten)]
    pub who: PullerArgs,

    /// Report format (`html`: one self-contained page for a browser or a ticket).
    /// Example: `--format csv`
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,

    /// Add the SHA-256 of every input file, and one digest over all of them, to the JSON and
    /// Markdown reports. Example: `--format markdown --evidence`
    #[arg(long)]
    pub evidence: bool,

    #[command(flatten)]
    pub run: RunArgs,

    /// Show only rows of these statuses (comma-separated); the summary still counts every row,
    /// and the exit status still follows every row. Example: `--only fail,error`
    #[arg(long, value_enum, value_delimiter = ',', value_name = "STATUS")]
    pub only: Vec<StatusArg>,

    /// Audit only repositories whose `registry/region/name` (as reports print it) matches this
    /// glob (`*` spans `/`); repeatable. Example: `--repository '*/us-east-1/team/*'`
    #[arg(long = "repository", value_name = "GLOB")]
    pub repositories: Vec<String>,

    /// A JSON report of an earlier snapshot: mark each row new, worsened, fixed, improved or
    /// unchanged since then (matched by repository and account). Example: `--baseline last.json`
    #[arg(long, value_name = "OLD.json")]
    pub baseline: Option<PathBuf>,

    /// With --baseline: exit 1 only for new or worsened rows at or above --fail-on.
    #[arg(long, requires = "baseline")]
    pub fail_on_new: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum StatusArg {
    Pass,
    Warn,
    Fail,
    Error,
}

/// Who pulls: the audited accounts and what is known about their requests (scan, gitpod, fix).
#[derive(Debug, Args)]
pub struct PullerArgs {
    /// The 12-digit AWS account of the Gitpod installation. Repeatable: one verdict per
    /// repository and account; also ECR_AUDIT_ACCOUNT, comma-separated.
    /// Example: `--account 111122223333`
    #[arg(
        long = "account",
        value_name = "ID",
        env = "ECR_AUDIT_ACCOUNT",
        value_delimiter = ',',
        value_parser = parse_account
    )]
    pub accounts: Vec<String>,

    /// A fact about the pulling principal's requests, for condition evaluation; repeatable;
    /// `KEY=` says the key is absent. Example: `--context aws:PrincipalOrgID=o-abc123`
    #[arg(long = "context", value_name = "KEY=VALUE", value_parser = parse_context)]
    pub context: Vec<(String, String)>,

    /// ARN partition of the account principal. Example: `--partition aws-cn`
    #[arg(long, value_enum, default_value_t = PartitionArg::Aws)]
    pub partition: PartitionArg,

    /// ECR's registry policy scope (`aws ecr get-account-setting --name
    /// REGISTRY_POLICY_SCOPE`) of every registry whose setting the export does not hold: `v2`
    /// the registry policy applies to pulls, `v1` it does not. Unset: unknown, and a pull that
    /// rests on a registry policy alone is a warning. Example: `--registry-policy-scope v2`
    #[arg(long, value_enum, value_name = "SCOPE")]
    pub registry_policy_scope: Option<ScopeArg>,

    /// The configuration file (default: `ecr-audit.toml` in the working directory, if there is
    /// one). The command line and the environment take precedence over it; see
    /// docs/configuration.md. Example: `--config ci/ecr-audit.toml`
    #[arg(long, value_name = "FILE", env = "ECR_AUDIT_CONFIG")]
    pub config: Option<PathBuf>,
}

/// `--registry-policy-scope`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ScopeArg {
    V1,
    V2,
}

impl PullerArgs {
    /// The pullers and the registry policy scope: the command line and the environment over
    /// the configuration file (`layer`). No account anywhere is a usage error.
    fn split(mut self, layer: &mut Layer) -> Result<(Vec<Puller>, Option<ScopeV>), String> {
        let file = layer.file.clone();
        let file = file.as_ref();
        self.accounts = layer.pick(
            "accounts",
            "accounts",
            self.accounts,
            file.and_then(|f| f.accounts.clone()),
            |a| format!("{a:?}"),
        );
        // `[context]` is a table of separate facts: a key given with `--context` replaces that
        // key's value in the file, and the file's other keys still hold.
        if !self.context.is_empty() {
            if let Some(from_file) = file.and_then(|f| f.context.as_ref()) {
                let given: Vec<String> = self
                    .context
                    .iter()
                    .map(|(k, _)| k.to_ascii_lowercase())
                    .collect();
                let mut merged: Vec<(String, String)> = from_file
                    .value
                    .iter()
                    .filter(|(k, _)| !given.contains(&k.to_ascii_lowercase()))
                    .cloned()
                    .collect();
                merged.append(&mut self.context);
                self.context = merged;
            }
        }
        self.context = layer.pick(
            "context",
            "context",
            self.context,
            file.and_then(|f| f.context.clone()),
            |c| {
                let pairs: Vec<String> = c.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("{pairs:?}")
            },
        );
        let partition = layer.pick(
            "partition",
            "partition",
            match self.partition {
                PartitionArg::Aws => Partition::Aws,
                PartitionArg::AwsCn => Partition::AwsCn,
                PartitionArg::AwsUsGov => Partition::AwsUsGov,
            },
            file.and_then(|f| f.partition.clone()),
            |p| {
                match p {
                    Partition::Aws => "aws",
                    Partition::AwsCn => "aws-cn",
                    Partition::AwsUsGov => "aws-us-gov",
                }
                .to_owned()
            },
        );
        let scope = layer.pick(
            "registry_policy_scope",
            "registry-policy-scope",
            self.registry_policy_scope.map(|s| match s {
                ScopeArg::V1 => ScopeV::V1,
                ScopeArg::V2 => ScopeV::V2,
            }),
            file.and_then(|f| {
                f.registry_policy_scope
                    .clone()
                    .map(|a| ecr_audit::settings::At {
                        value: Some(a.value),
                        line: a.line,
                    })
            }),
            |s| match s {
                Some(ScopeV::V1) => "v1".to_owned(),
                Some(ScopeV::V2) => "v2".to_owned(),
                None => "unknown".to_owned(),
            },
        );
        if self.accounts.is_empty() && layer.need_account {
            return Err(format!(
                "no account to audit: give --account ID, ECR_AUDIT_ACCOUNT, or `accounts` in {}",
                file.map_or(ecr_audit::settings::FILE_NAME, |f| f.path.as_str())
            ));
        }
        Ok((pullers(self.accounts, self.context, partition), scope))
    }
}

/// The configuration in effect, layer by layer: what the user gave (command line or
/// environment) over the configuration file over the defaults, with where each value came from
/// (for `ecr-audit config`).
pub struct Layer<'a> {
    matches: &'a ArgMatches,
    pub file: Option<Settings>,
    /// (key, value, origin), in the order they were decided.
    pub origins: Vec<(&'static str, String, String)>,
    need_account: bool,
}

impl<'a> Layer<'a> {
    /// Reads the configuration file `explicit` names (or `ecr-audit.toml` in the working
    /// directory, if there is one).
    pub fn new(
        matches: &'a ArgMatches,
        explicit: Option<&std::path::Path>,
    ) -> Result<Self, String> {
        let file = match ecr_audit::settings::locate(explicit) {
            Some(p) => Some(ecr_audit::settings::load(&p).map_err(|e| e.to_string())?),
            None => None,
        };
        Ok(Layer {
            matches,
            file,
            origins: Vec::new(),
            need_account: true,
        })
    }

    /// The value of the argument `id`: the user's when they gave it, else the file's, else the
    /// default (`given`, which clap filled in).
    fn pick<T>(
        &mut self,
        id: &str,
        key: &'static str,
        given: T,
        file: Option<ecr_audit::settings::At<T>>,
        show: impl Fn(&T) -> String,
    ) -> T {
        // An id the command does not have (`config` has no `--only`) is not the user's.
        let source = match self.matches.try_get_raw(id) {
            Ok(Some(_)) => self.matches.value_source(id),
            _ => None,
        };
        let (value, origin) = match (source, file) {
            (Some(ValueSource::CommandLine), _) => (given, "command line".to_owned()),
            (Some(ValueSource::EnvVariable), _) => (given, "environment".to_owned()),
            (_, Some(f)) => {
                let path = self.file.as_ref().map_or("", |s| s.path.as_str());
                (f.value, format!("{path}:{}", f.line))
            }
            _ => (given, "default".to_owned()),
        };
        self.origins.push((key, show(&value), origin));
        value
    }
}
/// How a report run goes: where the report goes, when it fails, workers, progress (scan, gitpod).
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Write the report to FILE (atomically: a temporary file, then rename) instead of standard
    /// output; `-` is standard output. Example: `-o verdicts.csv`
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Exit 1 when some row's status is at or above this (`error` rows count as `fail`; for
    /// gitpod, `not-applicable` as `pass`). Example: `--fail-on warn`
    #[arg(long, value_enum, default_value_t = FailOnArg::Fail)]
    pub fail_on: FailOnArg,

    /// Worker threads (default: all cores). Example: `-j 4`
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,

    /// Progress bar on standard error; `auto` shows it only on a terminal.
    /// Example: `--progress never`
    #[arg(long, value_enum, default_value_t = ProgressArg::Auto)]
    pub progress: ProgressArg,

    /// No summary line on standard error (it is printed when the report goes to a file, or is
    /// not the table). Example: `--format json -o report.json --quiet`
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

impl RunArgs {
    /// Whether the report goes to standard output (no `-o`, or `-o -`).
    pub fn to_stdout(&self) -> bool {
        self.output
            .as_deref()
            .is_none_or(|o| o == std::path::Path::new("-"))
    }

    /// The run configuration both report commands share.
    fn into_config(
        self,
        who: PullerArgs,
        color: bool,
        layer: &mut Layer,
    ) -> Result<RunConfig, String> {
        let (pullers, registry_scope) = who.split(layer)?;
        let file = layer.file.clone();
        let file = file.as_ref();
        let fail_on = layer.pick(
            "fail_on",
            "fail-on",
            self.fail_on(),
            file.and_then(|f| f.fail_on.clone()),
            |f| format!("{f:?}").to_lowercase(),
        );
        let progress = layer.pick(
            "progress",
            "progress",
            self.progress(),
            file.and_then(|f| f.progress.clone()),
            |p| format!("{p:?}").to_lowercase(),
        );
        let jobs = layer.pick(
            "jobs",
            "jobs",
            self.jobs.map(usize::from),
            file.and_then(|f| {
                f.jobs.clone().map(|j| ecr_audit::settings::At {
                    value: Some(j.value),
                    line: j.line,
                })
            }),
            |j| j.map_or("all cores".to_owned(), |n| n.to_string()),
        );
        Ok(RunConfig {
            pullers,
            registry_scope,
            fail_on,
            progress,
            jobs,
            output: self.output,
            color,
            quiet: self.quiet,
            suppress: file.map(|f| f.suppress.clone()).unwrap_or_default(),
        })
    }

    fn fail_on(&self) -> FailOn {
        match self.fail_on {
            FailOnArg::Fail => FailOn::Fail,
            FailOnArg::Warn => FailOn::Warn,
            FailOnArg::Never => FailOn::Never,
        }
    }

    fn progress(&self) -> Progress {
        match self.progress {
            ProgressArg::Auto => Progress::Auto,
            ProgressArg::Always => Progress::Always,
            ProgressArg::Never => Progress::Never,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FormatArg {
    Table,
    Csv,
    Json,
    Markdown,
    Sarif,
    /// One self-contained HTML page (inline style, charts and filter; no network).
    Html,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Table => Format::Table,
            FormatArg::Csv => Format::Csv,
            FormatArg::Json => Format::Json,
            FormatArg::Markdown => Format::Markdown,
            FormatArg::Sarif => Format::Sarif,
            FormatArg::Html => Format::Html,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FailOnArg {
    Fail,
    Warn,
    Never,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum PartitionArg {
    Aws,
    AwsCn,
    AwsUsGov,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ProgressArg {
    Auto,
    Always,
    Never,
}

fn parse_account(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_owned())
    } else if s.is_empty() {
        // Most often a CI variable that is set but empty.
        Err("an empty account id; give a 12-digit AWS account id (if ECR_AUDIT_ACCOUNT is set but empty, unset it or give it the account)".to_owned())
    } else {
        Err(format!("`{s}` is not a 12-digit AWS account id"))
    }
}

fn parse_context(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => {
            let k = k.trim();
            // A misspelt key would be accepted and change nothing (issue 11).
            ecr_audit::eval::keys::check(k).map_err(|e| {
                let hint = e
                    .suggestion
                    .map(|s| format!(" (did you mean {s}?)"))
                    .unwrap_or_default();
                format!(
                    "`{k}` is not an IAM global condition key or an ecr: key{hint}; see docs/judgement.md for the list"
                )
            })?;
            // `KEY=` (absent) takes no value to check.
            if !v.is_empty() {
                ecr_audit::eval::keys::check_value(k, v)?;
            }
            Ok((k.to_owned(), v.to_owned()))
        }
        _ => Err(format!(
            "`{s}` is not KEY=VALUE (e.g. aws:PrincipalOrgID=o-abc123, or aws:SourceVpce= for an absent key)"
        )),
    }
}

/// One puller per account (duplicates removed, order kept), each with the same context facts.
fn pullers(
    accounts: Vec<String>,
    context_args: Vec<(String, String)>,
    partition: Partition,
) -> Vec<Puller> {
    let mut context: HashMap<String, ContextValue> = HashMap::new();
    for (key, value) in context_args {
        let key = key.to_ascii_lowercase();
        if value.is_empty() {
            context.insert(key, ContextValue::Absent);
            continue;
        }
        // A key given several times is multi-valued (e.g. aws:PrincipalOrgPaths).
        match context.entry(key).or_insert(ContextValue::Absent) {
            ContextValue::Values(v) => v.push(value),
            slot => *slot = ContextValue::Values(vec![value]),
        }
    }
    let mut accounts = accounts;
    let mut seen = std::collections::HashSet::new();
    accounts.retain(|a| seen.insert(a.clone()));
    accounts
        .into_iter()
        .map(|account| Puller {
            account,
            partition,
            context: context.clone(),
        })
        .collect()
}

impl ExplainArgs {
    pub fn into_config(self, m: &ArgMatches) -> Result<ExplainConfig, String> {
        let mut layer = Layer::new(m, self.who.config.as_deref())?;
        let (pullers, registry_scope) = self.who.split(&mut layer)?;
        Ok(ExplainConfig {
            paths: self.paths,
            record: self.record,
            pullers,
            jobs: None,
            registry_scope,
        })
    }
}

fn parse_record(s: &str) -> Result<RecordRef, String> {
    RecordRef::parse(s)
}

impl FixArgs {
    pub fn into_config(self, m: &ArgMatches) -> Result<FixConfig, String> {
        let mut layer = Layer::new(m, self.who.config.as_deref())?;
        let (pullers, registry_scope) = self.who.split(&mut layer)?;
        Ok(FixConfig {
            paths: self.paths,
            pullers,
            out_dir: self.out_dir,
            registry_scope,
        })
    }
}

impl ScanArgs {
    /// The validated run configuration. `color` is decided by the caller (terminal, NO_COLOR).
    pub fn into_config(self, color: bool, m: &ArgMatches) -> Result<ScanConfig, String> {
        let mut layer = Layer::new(m, self.who.config.as_deref())?;
        self.layered(color, &mut layer)
    }

    /// The configuration and the layer it was decided in (for `ecr-audit config`).
    fn layered(self, color: bool, layer: &mut Layer) -> Result<ScanConfig, String> {
        let file = layer.file.clone();
        let file = file.as_ref();
        let format = layer.pick(
            "format",
            "format",
            self.format.into(),
            file.and_then(|f| f.format.clone()),
            |f| format!("{f:?}").to_lowercase(),
        );
        let evidence = layer.pick(
            "evidence",
            "evidence",
            self.evidence,
            file.and_then(|f| f.evidence.clone()),
            bool::to_string,
        );
        let only = layer.pick(
            "only",
            "only",
            self.only
                .iter()
                .map(|s| match s {
                    StatusArg::Pass => ecr_audit::finding::Status::Pass,
                    StatusArg::Warn => ecr_audit::finding::Status::Warn,
                    StatusArg::Fail => ecr_audit::finding::Status::Fail,
                    StatusArg::Error => ecr_audit::finding::Status::Error,
                })
                .collect::<Vec<_>>(),
            file.and_then(|f| f.only.clone()),
            |o| {
                let names: Vec<&str> = o.iter().map(|s| s.as_str()).collect();
                format!("{names:?}")
            },
        );
        let repositories = layer.pick(
            "repositories",
            "repositories",
            self.repositories,
            file.and_then(|f| f.repositories.clone()),
            |r| format!("{r:?}"),
        );
        Ok(ScanConfig {
            paths: self.paths,
            format,
            evidence,
            run: self.run.into_config(self.who, color, layer)?,
            only,
            repositories,
            baseline: self.baseline,
            fail_on_new: self.fail_on_new,
        })
    }
}

const CONFIG_EXAMPLES: &str = "\
Examples:
  ecr-audit config
  ecr-audit config --config ci/ecr-audit.toml --fail-on warn";

#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(flatten)]
    pub who: PullerArgs,

    /// Report format, as for `scan`. Example: `--format json`
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,

    /// As for `scan`.
    #[arg(long)]
    pub evidence: bool,

    #[command(flatten)]
    pub run: RunArgs,
}

impl ConfigArgs {
    /// Writes the configuration `scan` would run with, one `key = value  # origin` line each,
    /// then the suppressions.
    pub fn print(self, m: &ArgMatches, out: &mut dyn std::io::Write) -> Result<(), String> {
        let mut layer = Layer::new(m, self.who.config.as_deref())?;
        layer.need_account = false;
        let scan = ScanArgs {
            paths: Vec::new(),
            who: self.who,
            format: self.format,
            evidence: self.evidence,
            run: self.run,
            only: Vec::new(),
            repositories: Vec::new(),
            baseline: None,
            fail_on_new: false,
        };
        let cfg = scan.layered(false, &mut layer)?;
        let io = |e: std::io::Error| e.to_string();
        match &layer.file {
            Some(f) => writeln!(out, "# configuration file: {}", f.path).map_err(io)?,
            None => writeln!(
                out,
                "# configuration file: none ({} not found in the working directory)",
                ecr_audit::settings::FILE_NAME
            )
            .map_err(io)?,
        }
        let width = layer
            .origins
            .iter()
            .map(|(k, v, _)| k.len() + v.len())
            .max()
            .unwrap_or(0)
            + 3;
        for (key, value, origin) in &layer.origins {
            let line = format!("{key} = {value}");
            writeln!(out, "{line:<width$}  # {origin}").map_err(io)?;
        }
        let today = ecr_audit::suppress::today();
        for s in &cfg.run.suppress {
            let code = match s.which {
                ecr_audit::suppress::Which::All => "*".to_owned(),
                ecr_audit::suppress::Which::Code(c) => c.id().to_owned(),
            };
            let state = match s.expires {
                Some(d) if d < today => format!(" (expired {d})"),
                Some(d) => format!(" (until {d})"),
                None => String::new(),
            };
            writeln!(
                out,
                "suppress {code} repository={} account={} reason={:?}{state}  # {}",
                s.repository.as_deref().unwrap_or("*"),
                s.account.as_deref().unwrap_or("*"),
                s.reason,
                s.source
            )
            .map_err(io)?;
        }
        Ok(())
    }
}

const DIFF_EXAMPLES: &str = "\
Exit status: 0, or with --fail-on-new 1 when a new or worsened row is at or above --fail-on;
2 usage error or a report that cannot be read.

Examples:
  ecr-audit diff last-quarter.json today.json
  ecr-audit diff old.json new.json --format json -o changes.json
  ecr-audit diff old.json new.json --fail-on-new";

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The older JSON report. Example: `last-quarter.json`
    #[arg(value_name = "OLD.json")]
    pub old: PathBuf,

    /// The newer JSON report. Example: `today.json`
    #[arg(value_name = "NEW.json")]
    pub new: PathBuf,

    /// Output format. Example: `--format csv`
    #[arg(long, default_value = "table", value_parser = formats(&DIFF_FORMATS))]
    pub format: FormatArg,

    /// Write the diff to FILE (atomically) instead of standard output. Example: `-o changes.json`
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Exit 1 when some new or worsened row is at or above --fail-on.
    #[arg(long)]
    pub fail_on_new: bool,

    /// The level --fail-on-new gates at. Example: `--fail-on warn`
    #[arg(long, value_enum, default_value_t = FailOnArg::Fail)]
    pub fail_on: FailOnArg,
}

impl DiffArgs {
    pub fn into_config(self) -> ecr_audit::diff::DiffConfig {
        ecr_audit::diff::DiffConfig {
            old: self.old,
            new: self.new,
            format: self.format.into(),
            output: self.output,
            fail_on: match self.fail_on {
                FailOnArg::Fail => FailOn::Fail,
                FailOnArg::Warn => FailOn::Warn,
                FailOnArg::Never => FailOn::Never,
            },
            fail_on_new: self.fail_on_new,
        }
    }
}
