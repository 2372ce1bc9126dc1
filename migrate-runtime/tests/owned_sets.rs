//! Sets built at run time own their data: building and dropping one many times leaves nothing behind.
//!
//! A global allocator that counts live bytes, so this binary holds one test: another test running beside it would
//! move the count.

use litemigrate_core::CodeMigration;
use litemigrate_core::compile::{CompileOptions, compile};
use litemigrate_core::load::{Entry, SourceFile, add_code_migrations, load_files};
use litemigrate_runtime::{CodeError, Migrations};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged; the counter only observes sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's obligations are `System::alloc`'s.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn up(_: &rusqlite::Transaction<'_>) -> Result<(), CodeError> {
    Ok(())
}

/// Twenty migrations with a few hundred bytes of SQL each, and one code migration: several kilobytes a set, so a
/// leak shows after a few rounds.
fn sources() -> Vec<litemigrate_core::MigrationSource> {
    let files = (1..=20)
        .map(|v| SourceFile {
            file_name: format!("{v:04}_table_{v}.sql"),
            display: format!("migrations/{v:04}_table_{v}.sql"),
            contents: Entry::File(
                format!(
                    "CREATE TABLE t{v}(id INTEGER PRIMARY KEY{});",
                    (0..12)
                        .map(|c| format!(", padding_column_{c} TEXT"))
                        .collect::<String>()
                )
                .into_bytes(),
            ),
        })
        .collect();
    let mut set = load_files(files).unwrap();
    let code = CodeMigration {
        version: 100,
        name: "backfill".into(),
        path: "app::backfill".into(),
        reversible: false,
    };
    add_code_migrations(&mut set, &[code]).unwrap();
    set
}

/// One round of everything that builds a set at run time.
fn round() -> usize {
    let mut set = Migrations::from_sources("default", sources());
    assert!(set.set_code(100, up, None));
    let clone = set.clone().with_set_name("other");
    let compiled = Migrations::from_compiled("default", compile(sources(), &CompileOptions::default()).unwrap());
    let total: usize = set
        .iter()
        .chain(&clone)
        .chain(&compiled)
        .map(|m| m.up_sql().map_or(0, str::len))
        .sum();
    assert!(total > 3 * 20 * 200, "the sets hold their SQL");
    total
}

#[test]
fn building_and_dropping_run_time_sets_frees_their_data() {
    // Warm up: lazily initialised statics (SQLite, std) allocate once and keep it.
    for _ in 0..3 {
        round();
    }
    let before = LIVE.load(Ordering::Relaxed);
    let mut built = 0;
    for _ in 0..200 {
        built += round();
    }
    let grown = LIVE.load(Ordering::Relaxed) - before;
    // A leaked set would keep at least its SQL: `built` bytes over the 200 rounds.
    assert!(
        grown < 16 * 1024,
        "live heap grew by {grown} bytes over 200 rounds (the sets held {built} bytes of SQL)"
    );
}
