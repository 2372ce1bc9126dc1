//! An embedded set stays what it was before run-time sets learned to own their data: a `static` that is read
//! without touching the heap (lookups, iteration, the accessors the launch check uses).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

static TODO: litemigrate::Migrations = litemigrate::embed_migrations!("examples/todo/migrations");

thread_local! {
    // Per thread, so the other tests of this binary running alongside do not count.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

struct Counting;

// SAFETY: every call is forwarded to `System` unchanged; the counter only observes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // `try_with`: the thread-local may already be gone while a thread exits.
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's obligations are `System::alloc`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn reading_an_embedded_set_does_not_allocate() {
    let before = allocations();
    let mut seen = 0u64;
    for m in &TODO {
        seen += m.version() + m.name().len() as u64 + m.up_sql().map_or(0, |s| s.len() as u64);
        seen += u64::from(m.chain().as_bytes()[0]) + u64::from(m.is_reversible());
    }
    let latest = TODO.latest().unwrap();
    let chain = TODO.get(latest.version()).map(|m| m.chain());
    let missing = TODO.get(9999).is_none();
    assert_eq!(allocations(), before, "reading a static table allocated");
    assert!(seen > 0 && chain == Some(latest.chain()) && missing && TODO.latest_version() == 3);
}
