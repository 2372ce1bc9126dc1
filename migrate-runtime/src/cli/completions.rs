//! `completions <shell>`: the shell completion script for this command line, from clap's own model of it (so it
//! cannot drift from the options).

use super::Cli;
use super::output::Outcome;
use clap::CommandFactory;
use serde_json::json;

/// The script for `shell`, printed as is (with `--json`, as `data.script`). Completion is for the standalone binary's
/// name, `migrate`.
pub(super) fn completions(shell: clap_complete::Shell) -> Outcome {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "migrate", &mut script);
    let script = String::from_utf8_lossy(&script).into_owned();
    Outcome::new(json!({ "shell": shell.to_string(), "script": script }), script)
}
