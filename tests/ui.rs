//! Compile-time errors of `embed_migrations!`: each case's expected message is committed next to it as `.stderr`.
//! Regenerate after an intended change with `TRYBUILD=overwrite cargo test --test ui` and review the diff.

#[test]
fn ui() {
    // trybuild compiles each case in a scratch crate under `target/`; point the macro at this crate's directory
    // so the fixtures resolve. This process's environment is inherited by the cargo and rustc that trybuild runs.
    // SAFETY: set before any other thread of this test process exists that reads the environment.
    unsafe { std::env::set_var("MIGRATE_MACRO_BASE_DIR", env!("CARGO_MANIFEST_DIR")) };
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
