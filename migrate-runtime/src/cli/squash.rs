//! `squash --to V`: one migration replacing every migration up to V (see `litemigrate_core::squash`). Written to
//! stdout, to `--out`, or with `--replace` into the directory in place of the files it replaces.

use super::commands::{CmdResult, migrations_dir};
use super::output::{EXIT_FAILED, Outcome, Problem};
use super::{GlobalArgs, Source};
use crate::error::Error;
use litemigrate_core::compile::{CompileOptions, compile};
use litemigrate_core::squash::generate::squash as generate;
use serde_json::json;
use std::path::{Path, PathBuf};

pub(super) fn squash(source: Source<'_>, g: &GlobalArgs, to: u64, out: Option<&Path>, replace: bool) -> CmdResult {
    if let Source::Embedded(_) = source {
        return Err(Problem::usage(
            "`squash` reads and writes the migration files; this program carries its migrations compiled in",
        )
        .hint("run the standalone binary in the crate: `migrate --dir migrations squash --to <V>`"));
    }
    let dir = migrations_dir(g);
    let mut opts = CompileOptions::default();
    if let Some(steps) = g.validation_steps {
        opts.max_steps = steps;
    }
    let sources = litemigrate_core::load::load_dir(&dir).map_err(|e| Problem::runtime(Error::Load(e)))?;
    let compiled = compile(sources, &opts).map_err(|e| Problem::runtime(Error::Compile(e)))?;
    let s = generate(&compiled, to).map_err(|e| Problem::new("squash", e.to_string(), EXIT_FAILED))?;
    let written: Option<PathBuf> = if replace {
        Some(replace_files(&dir, &s.file_name, &s.text, &s.replaced)?)
    } else if let Some(path) = out {
        std::fs::write(path, &s.text).map_err(|e| io(format!("cannot write {}: {e}", path.display())))?;
        Some(path.to_owned())
    } else {
        None
    };
    let human = match &written {
        Some(p) if replace => format!(
            "wrote {} and deleted the {} file(s) it replaces (versions {}..={}); databases at {} or later continue \
             with the next version\n",
            p.display(),
            s.replaced.len(),
            s.directive.first,
            s.directive.last,
            s.directive.last
        ),
        Some(p) => format!(
            "wrote {}: it replaces {} file(s) (versions {}..={}); name it {} in the directory and delete them\n",
            p.display(),
            s.replaced.len(),
            s.directive.first,
            s.directive.last,
            s.file_name
        ),
        None => s.text.clone(),
    };
    let data = json!({
        "version": to,
        "file_name": s.file_name,
        "written": written.as_ref().map(|p| p.display().to_string()),
        "replaced": s.replaced,
        "chain": s.directive.chain.to_hex(),
        "schema_hash": s.directive.schema.to_hex(),
        "data_hash": s.directive.data.to_hex(),
        "text": written.is_none().then_some(&s.text),
    });
    Ok(Outcome::new(data, human))
}

/// Writes the squash beside the files, then deletes them: the new file is complete on disk before anything is
/// deleted, and it is renamed into place last, so an interrupted run leaves either the old files or the squash
/// (plus at worst a hidden `.tmp` file, which the loader ignores), never neither.
fn replace_files(dir: &Path, file_name: &str, text: &str, replaced: &[String]) -> Result<PathBuf, Problem> {
    let tmp = dir.join(format!(".{file_name}.tmp"));
    std::fs::write(&tmp, text).map_err(|e| io(format!("cannot write {}: {e}", tmp.display())))?;
    for file in replaced {
        let path = dir.join(file.rsplit(['/', '\\']).next().unwrap_or(file));
        std::fs::remove_file(&path).map_err(|e| io(format!("cannot delete {}: {e}", path.display())))?;
    }
    let target = dir.join(file_name);
    std::fs::rename(&tmp, &target).map_err(|e| io(format!("cannot rename {}: {e}", tmp.display())))?;
    Ok(target)
}

fn io(message: String) -> Problem {
    Problem::new("io", message, EXIT_FAILED)
}
