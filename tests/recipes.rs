//! The CI recipes (`recipes/`) and the pre-commit hooks (`.pre-commit-hooks.yaml`), each checked
//! by its own linter or tried for real: the GitHub Actions workflow with `actionlint`, the GitLab
//! CI job as YAML against the keys it needs, the hooks with `pre-commit try-repo` in a test
//! repository. Every `ecr-audit` command in a recipe is also run on the sample export, so a
//! recipe cannot name an option the tool does not have.
//!
//! `actionlint`, `pre-commit` and `git` must be installed (`.ci/run` installs them): a missing
//! tool fails these tests.

mod util;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use util::{ACCOUNT, documented_policy, root, tool};

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn yaml(rel: &str) -> Value {
    let text = std::fs::read_to_string(root().join(rel)).expect(rel);
    yaml_serde::from_str(&text).expect(rel)
}

/// A folder with the built `ecr-audit` in it, to put first on a PATH.
fn bin_dir(dir: &Path) -> PathBuf {
    let bin = dir.join(".bin");
    std::fs::create_dir_all(&bin).expect("bin");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_ecr-audit"), bin.join("ecr-audit"))
        .expect("link");
    bin
}

fn path_with(bin: &Path) -> String {
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Runs each `ecr-audit …` line of a recipe's shell script on the sample export (as `export`),
/// with `reports/` made: each must exit 0 or 1 and write what it says.
fn run_recipe_scans(script: &str) -> usize {
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = bin_dir(dir.path());
    std::os::unix::fs::symlink(root().join("testdata/export"), dir.path().join("export"))
        .expect("link export");
    std::fs::create_dir(dir.path().join("reports")).expect("reports");
    let mut n = 0;
    for line in script.lines().map(str::trim) {
        let line = line.strip_prefix("- ").unwrap_or(line);
        if !line.starts_with("ecr-audit ") {
            continue;
        }
        let line = line.trim_end_matches(" || status=$?");
        let out = Command::new("sh")
            .args(["-c", line])
            .current_dir(dir.path())
            .env("PATH", path_with(&bin))
            .env("ECR_AUDIT_ACCOUNT", ACCOUNT)
            .env("NO_COLOR", "1")
            .output()
            .expect("sh");
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "`{line}`: {}",
            text(&out)
        );
        if line.contains("--fail-on never") {
            assert_eq!(out.status.code(), Some(0), "`{line}` never fails");
        }
        let file = line.rsplit_once("-o ").expect("writes a file").1.trim();
        assert!(
            std::fs::metadata(dir.path().join(file)).is_ok_and(|m| m.len() > 0),
            "`{line}` wrote {file}"
        );
        n += 1;
    }
    n
}

const WORKFLOW: &str = "recipes/github-actions/ecr-audit.yml";

fn actionlint(file: &Path) -> Output {
    tool("actionlint")
        .args(["-no-color", "-oneline"])
        .arg(file)
        .output()
        .expect("actionlint")
}

#[test]
fn github_workflow_passes_actionlint() {
    let out = actionlint(&root().join(WORKFLOW));
    assert!(out.status.success(), "{}", text(&out));
    // actionlint does check: a misspelt step id in an expression, or a shell script fault
    // (through shellcheck, which .ci/run installs), is reported.
    let original = std::fs::read_to_string(root().join(WORKFLOW)).expect("workflow");
    let dir = tempfile::tempdir().expect("tempdir");
    for (from, to) in [
        ("steps.scan.outputs.status", "steps.scna.outputs.status"),
        ("if [ \"$STATUS\" != 0 ]; then", "if [ $STATUS != 0 ]; then"),
    ] {
        assert!(original.contains(from), "{from}");
        let broken = dir.path().join("broken.yml");
        std::fs::write(&broken, original.replace(from, to)).expect("write");
        let out = actionlint(&broken);
        assert!(!out.status.success(), "actionlint missed `{to}`");
    }
}

#[test]
fn github_workflow_exports_with_oidc_scans_uploads_then_gates() {
    let wf = yaml(WORKFLOW);
    assert_eq!(wf["permissions"]["id-token"], "write", "OIDC");
    assert_eq!(
        wf["permissions"]["security-events"], "write",
        "SARIF upload"
    );
    let steps = wf["jobs"]["audit"]["steps"]
        .as_array()
        .expect("steps")
        .clone();
    let position = |pred: &dyn Fn(&Value) -> bool, what: &str| {
        steps
            .iter()
            .position(pred)
            .unwrap_or_else(|| panic!("no step {what}"))
    };
    let uses = |name: &'static str| {
        move |s: &Value| s["uses"].as_str().is_some_and(|u| u.starts_with(name))
    };
    let runs = |needle: &'static str| {
        move |s: &Value| s["run"].as_str().is_some_and(|r| r.contains(needle))
    };
    let creds = position(
        &uses("aws-actions/configure-aws-credentials@"),
        "credentials",
    );
    let export = position(&runs("scripts/export-ecr.sh"), "export");
    let scan = position(&runs("ecr-audit scan export --format sarif"), "scan");
    let sarif = position(&uses("github/codeql-action/upload-sarif@"), "SARIF upload");
    let artifact = position(&uses("actions/upload-artifact@"), "artifact upload");
    let gate = position(&runs("exit 1"), "gate");
    assert!(creds < export && export < scan && scan < sarif && sarif < gate);
    assert!(scan < artifact && artifact < gate);
    assert_eq!(
        gate,
        steps.len() - 1,
        "the gate comes last, after the uploads"
    );
    assert!(
        steps[creds]["with"]["role-to-assume"].is_string(),
        "a role through OIDC, no stored keys"
    );
    for upload in [sarif, artifact] {
        assert!(
            steps[upload]["if"]
                .as_str()
                .is_some_and(|c| c.contains("always()")),
            "uploads also when the verdict fails"
        );
    }
    assert_eq!(
        steps[sarif]["with"]["sarif_file"],
        "reports/ecr-audit.sarif"
    );
    assert!(
        steps[gate]["env"]["STATUS"]
            .as_str()
            .is_some_and(|s| s.contains("steps.scan.outputs.status"))
    );
    let script = steps[scan]["run"].as_str().expect("run");
    assert!(script.contains("--format sarif --fail-on never"));
    assert_eq!(run_recipe_scans(script), 3);
}

#[test]
fn gitlab_job_has_the_keys_it_needs() {
    let doc = yaml("recipes/gitlab-ci/ecr-audit.gitlab-ci.yml");
    let job = &doc["ecr-audit"];
    assert!(job.is_object(), "one job, ecr-audit");
    for key in [
        "stage",
        "image",
        "rules",
        "id_tokens",
        "variables",
        "before_script",
        "script",
        "artifacts",
    ] {
        assert!(!job[key].is_null(), "job lacks `{key}`");
    }
    // OIDC: a token for STS, read by the AWS CLI as web identity credentials.
    assert_eq!(job["id_tokens"]["AWS_ID_TOKEN"]["aud"], "sts.amazonaws.com");
    assert!(job["variables"]["AWS_ROLE_ARN"].is_string());
    assert!(job["variables"]["AWS_WEB_IDENTITY_TOKEN_FILE"].is_string());
    assert!(
        job["rules"]
            .as_array()
            .expect("rules")
            .iter()
            .any(|r| r["if"].as_str().is_some_and(|c| c.contains("schedule"))),
        "runs from a schedule"
    );
    // Reports kept also when the job fails.
    assert_eq!(job["artifacts"]["when"], "always");
    assert!(
        job["artifacts"]["paths"]
            .as_array()
            .expect("paths")
            .contains(&Value::from("reports/"))
    );
    let script: Vec<&str> = job["script"]
        .as_array()
        .expect("script")
        .iter()
        .map(|l| l.as_str().expect("a script line is a string"))
        .collect();
    let export = script
        .iter()
        .position(|l| l.contains("scripts/export-ecr.sh"))
        .expect("export");
    let sarif = script
        .iter()
        .position(|l| l.contains("--format sarif"))
        .expect("SARIF");
    assert!(export < sarif);
    let last = script.last().expect("a script");
    assert!(
        last.starts_with("ecr-audit scan") && !last.contains("--fail-on never"),
        "the job's status is the verdict: {last}"
    );
    assert_eq!(
        run_recipe_scans(&script.iter().map(|l| format!("{l}\n")).collect::<String>()),
        3
    );
}

#[test]
fn pre_commit_manifest_is_valid() {
    let out = tool("pre-commit")
        .args(["validate-manifest"])
        .arg(root().join(".pre-commit-hooks.yaml"))
        .output()
        .expect("pre-commit");
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn pre_commit_hook_runs_in_a_test_repository() {
    let dir = tempfile::tempdir().expect("tempdir");
    let git = |cwd: &Path, args: &[&str]| {
        let out = tool("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args([
                "-c",
                "init.defaultBranch=main",
                "-c",
                "advice.detachedHead=false",
            ])
            .args(args)
            .current_dir(cwd)
            .output()
            .expect("git");
        assert!(out.status.success(), "git {args:?}: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    // The hooks as committed: a clone of this checkout's HEAD.
    let head = git(root(), &["rev-parse", "HEAD"]);
    let hooks = dir.path().join("hooks");
    git(
        dir.path(),
        &[
            "clone",
            "-q",
            "--no-checkout",
            &root().display().to_string(),
            "hooks",
        ],
    );
    git(&hooks, &["checkout", "-q", &head]);
    assert!(
        hooks.join(".pre-commit-hooks.yaml").exists(),
        ".pre-commit-hooks.yaml is committed"
    );

    // An infrastructure repository: a CloudFormation template, a policy file, and files the
    // hook leaves alone.
    let infra = dir.path().join("infra");
    std::fs::create_dir_all(infra.join("cloudformation")).expect("mkdir");
    std::fs::create_dir_all(infra.join("policies")).expect("mkdir");
    let template = serde_json::json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {"Images": {
            "Type": "AWS::ECR::Repository",
            "Properties": {
                "RepositoryName": "gitpod/workspace",
                "RepositoryPolicyText": serde_json::from_str::<Value>(&documented_policy(ACCOUNT))
                    .expect("policy")
            }
        }}
    });
    std::fs::write(
        infra.join("cloudformation/images.json"),
        serde_json::to_string_pretty(&template).expect("json"),
    )
    .expect("write");
    let wrong = documented_policy("999988887777");
    std::fs::write(infra.join("policies/app.policy"), &wrong).expect("write");
    std::fs::write(infra.join("package.json"), r#"{"name": "infra"}"#).expect("write");
    std::fs::write(infra.join("k8s.yaml"), "apiVersion: v1\nkind: ConfigMap\n").expect("write");
    git(&infra, &["init", "-q"]);
    git(&infra, &["add", "-A"]);

    let bin = bin_dir(dir.path());
    let try_repo = || {
        tool("pre-commit")
            .args(["try-repo", "--color", "never"])
            .arg(&hooks)
            .args(["ecr-audit-system", "--all-files", "--verbose"])
            .current_dir(&infra)
            .env("PATH", path_with(&bin))
            .env("PRE_COMMIT_HOME", dir.path().join("cache"))
            .env("ECR_AUDIT_ACCOUNT", ACCOUNT)
            .env("NO_COLOR", "1")
            .env_remove("CI")
            .output()
            .expect("pre-commit")
    };
    let out = try_repo();
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "the wrong grant fails: {said}");
    assert!(said.contains("Failed"), "{said}");
    assert!(
        said.contains("policies/app"),
        "names the failing file: {said}"
    );
    assert!(
        said.contains("gitpod/workspace"),
        "read the template: {said}"
    );
    assert!(
        !said.contains("package.json") && !said.contains("k8s.yaml"),
        "other files are not the hook's: {said}"
    );

    std::fs::write(
        infra.join("policies/app.policy"),
        documented_policy(ACCOUNT),
    )
    .expect("write");
    git(&infra, &["add", "-A"]);
    let out = try_repo();
    assert_eq!(out.status.code(), Some(0), "fixed: {}", text(&out));
    assert!(text(&out).contains("Passed"));
}
