//! A new migration file is picked up by the next `cargo build`, without `cargo clean`, when the crate's build.rs
//! calls `litemigrate::build::track`, or, without a build script, with the `nightly` feature (`proc_macro::tracked`).
//! Proven on scratch crates built several times by a real cargo.
//!
//! The scratch crates build into target directories outside this workspace's (`scratch_target`), so their
//! dependencies, the bundled SQLite above all, compile once per machine rather than again after every `cargo clean`:
//! that cold build was most of this file's time. The nightly test has a directory of its own: `RUSTC_BOOTSTRAP`
//! changes every crate's fingerprint, so sharing one would rebuild everything each time the other test ran. The
//! scratch crates themselves are new each run and always compiled.

use std::path::Path;
use std::process::Command;

/// A scratch target directory (`flavor` per kind of build) under `LITEMIGRATE_SCRATCH_TARGET`, or under the
/// system's temporary directory. Shared by every checkout on the machine: another checkout's `litemigrate` is another
/// path dependency with artifacts of its own, while the registry dependencies are reused.
fn scratch_target(flavor: &str) -> std::path::PathBuf {
    std::env::var_os("LITEMIGRATE_SCRATCH_TARGET")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("litemigrate-rebuild-scratch"))
        .join(flavor)
}

fn cargo(dir: &Path, target: &Path) -> std::process::Output {
    cargo_cmd(dir, target).output().unwrap()
}

fn cargo_cmd(dir: &Path, target: &Path) -> Command {
    let mut c = Command::new(env!("CARGO"));
    c.args(["run", "--quiet", "--offline"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("MIGRATE_MACRO_BASE_DIR");
    c
}

fn cargo_run(dir: &Path, target: &Path) -> String {
    let out = cargo(dir, target);
    assert!(
        out.status.success(),
        "cargo run failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A scratch crate depending on this workspace's `litemigrate` (with `features`), whose `main` prints the embedded
/// versions and names (and `OUT_DIR` on stderr when it has a build script), with one migration file.
fn scratch_crate(name: &str, features: &str, build_script: bool) -> tempfile::TempDir {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path();
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::create_dir_all(dir.join("migrations")).unwrap();
    let root = root.display().to_string();
    let build_dep = if build_script {
        format!("[build-dependencies]\nlitemigrate = {{ path = {root:?}, default-features = false }}\n\n")
    } else {
        String::new()
    };
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\n[dependencies]\n\
             litemigrate = {{ path = {root:?}, features = [{features}] }}\n\n{build_dep}[workspace]\n"
        ),
    )
    .unwrap();
    // Reuse the workspace's lock file so the scratch crate resolves the same, already downloaded, versions.
    std::fs::copy(Path::new(&root).join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    if build_script {
        std::fs::write(
            dir.join("build.rs"),
            "fn main() {\n    litemigrate::build::track(\"migrations\");\n}\n",
        )
        .unwrap();
    }
    let out_dir = if build_script {
        "    eprintln!(\"{}\", env!(\"OUT_DIR\"));\n"
    } else {
        ""
    };
    std::fs::write(
        dir.join("src/main.rs"),
        format!(
            "static M: litemigrate::Migrations = litemigrate::embed_migrations!(\"migrations\");\n\
             fn main() {{\n{out_dir}    for m in &M {{ println!(\"{{}} {{}}\", m.version(), m.name()); }}\n}}\n"
        ),
    )
    .unwrap();
    std::fs::write(dir.join("migrations/0001_first.sql"), "CREATE TABLE a(x);\n").unwrap();
    scratch
}

#[test]
fn new_file_is_seen_without_cargo_clean() {
    let scratch = scratch_crate("scratch", "\"bundled\"", true);
    let dir = scratch.path();
    let target = scratch_target("stable");

    assert_eq!(cargo_run(dir, &target), "1 first\n");

    std::fs::write(dir.join("migrations/0002_second.sql"), "CREATE TABLE b(x);\n").unwrap();
    assert_eq!(cargo_run(dir, &target), "1 first\n2 second\n");

    // An edit to an embedded file is picked up too (the macro tracks each file it read).
    std::fs::write(dir.join("migrations/0002_second.sql"), "CREATE TABLE b(x, y);\n").unwrap();
    std::fs::rename(
        dir.join("migrations/0002_second.sql"),
        dir.join("migrations/0002_renamed.sql"),
    )
    .unwrap();
    assert_eq!(cargo_run(dir, &target), "1 first\n2 renamed\n");

    // With a build script there is an OUT_DIR, and the macro keeps its validated result there...
    let stderr = String::from_utf8(cargo(dir, &target).stderr).unwrap();
    // The program's line comes last; cargo may print (replayed) compiler warnings of the path dependencies before it.
    let out_dir = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default();
    let cached = std::fs::read_dir(out_dir.trim())
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            name.to_string_lossy().starts_with("migrate-compiled-")
        })
        .count();
    assert_eq!(cached, 1, "no cache file in {out_dir}");
    // ...which never hides an edit: broken SQL in a file that validated before fails the next build, naming it.
    std::fs::write(
        dir.join("migrations/0002_renamed.sql"),
        "CREATE INDEX i ON missing(x);\n",
    )
    .unwrap();
    let failed = cargo(dir, &target);
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(!failed.status.success());
    assert!(
        stderr.contains("migrations/0002_renamed.sql") && stderr.contains("no such table: main.missing"),
        "{stderr}"
    );
    std::fs::write(dir.join("migrations/0002_renamed.sql"), "CREATE TABLE c(x);\n").unwrap();
    assert_eq!(cargo_run(dir, &target), "1 first\n2 renamed\n");
}

/// The `nightly` feature tracks the directory itself, so no build script is needed. The toolchain here is stable;
/// `RUSTC_BOOTSTRAP=1` lets it compile the unstable API, which also tells us when that API changes again.
#[test]
fn nightly_feature_sees_a_new_file_without_a_build_script() {
    let scratch = scratch_crate("scratch_nightly", "\"bundled\", \"nightly\"", false);
    let dir = scratch.path();
    let target = scratch_target("nightly");
    let run = || {
        let out = cargo_cmd(dir, &target).env("RUSTC_BOOTSTRAP", "1").output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(run(), "1 first\n");
    std::fs::write(dir.join("migrations/0002_second.sql"), "CREATE TABLE b(x);\n").unwrap();
    assert_eq!(run(), "1 first\n2 second\n");
}
