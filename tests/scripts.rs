//! The maintainers' bash scripts (`scripts/bench.sh`, `scripts/same-output.sh`) are not run by
//! the tests (they build in release mode, time for minutes, or build another revision), so that
//! they do not rot unseen, shellcheck reads them.

mod util;

use util::{root, tool};

#[test]
fn the_maintainers_scripts_pass_shellcheck() {
    for script in ["scripts/bench.sh", "scripts/same-output.sh"] {
        let out = tool("shellcheck")
            .arg("--shell=bash")
            .arg(root().join(script))
            .output()
            .expect("shellcheck");
        assert!(
            out.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}
