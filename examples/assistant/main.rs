//! A desktop assistant with five databases in one data directory: knowledge (composite index, FTS5), task memory,
//! workflow history (FTS5), agent performance and system actions. `cargo run --example assistant [data-dir]`.
//!
//! The catalog is `examples/assistant/migrations/`, one subdirectory per database. This run plays two releases:
//! release 1 had four databases and kept the user's notes in knowledge.db; release 2 adds the system-actions
//! database (created on its first launch) and moves the notes into the task memory (`tasks/0002_move_notes.sql`,
//! `-- migrate:attach knowledge`), in one transaction across both files.

use litemigrate::backup::BackupPolicy;
use litemigrate::rusqlite::{Connection, params};
use litemigrate::{Databases, Target};
use std::error::Error;
use std::path::{Path, PathBuf};

static DATABASES: Databases = litemigrate::embed_databases!(
    "examples/assistant/migrations",
    actions(file = "system_actions.db"),
    performance(file = "agent_performance.db"),
);

fn main() -> Result<(), Box<dyn Error>> {
    let given = std::env::args_os().nth(1).map(PathBuf::from);
    let scratch = std::env::temp_dir().join(format!("litemigrate-assistant-{}", std::process::id()));
    let data = given.clone().unwrap_or(scratch);
    if !data.exists() {
        release_1(&data)?;
        println!(
            "release 1 left {} with four databases and 3 notes in knowledge.db",
            data.display()
        );
    }

    // Release 2 launches: this one call is all the application does about its schemas.
    let report = DATABASES.migrate_all(&data)?;
    print!("launch:\n{report}");

    let knowledge = Connection::open(data.join("knowledge.db"))?;
    knowledge.execute(
        "INSERT INTO entries(domain, title, body, confidence) VALUES (?1, ?2, ?3, ?4)",
        params![
            "rust",
            "Borrowing",
            "References borrow a value without taking ownership",
            0.9
        ],
    )?;
    let hit: String = knowledge.query_row(
        "SELECT title FROM entries_fts WHERE entries_fts MATCH 'ownership' ORDER BY rank LIMIT 1",
        [],
        |r| r.get(0),
    )?;
    println!("knowledge search 'ownership': {hit}");
    let best: String = knowledge.query_row(
        // Served by the composite index entries_by_domain_confidence.
        "SELECT title FROM entries WHERE domain = 'rust' ORDER BY confidence DESC LIMIT 1",
        [],
        |r| r.get(0),
    )?;
    println!("best rust entry: {best}");

    let tasks = Connection::open(data.join("tasks.db"))?;
    tasks.execute("INSERT INTO tasks(title) VALUES ('summarise the meeting')", [])?;
    let notes: i64 = tasks.query_row("SELECT count(*) FROM task_notes", [], |r| r.get(0))?;
    println!("notes now in tasks.db: {notes}");

    let workflows = Connection::open(data.join("workflows.db"))?;
    workflows.execute(
        "INSERT INTO runs(workflow, output) VALUES ('daily-digest', 'sent 4 summaries to the inbox')",
        [],
    )?;
    let found: i64 = workflows.query_row(
        "SELECT count(*) FROM runs_fts WHERE runs_fts MATCH 'summaries'",
        [],
        |r| r.get(0),
    )?;
    println!("workflow runs mentioning 'summaries': {found}");

    Connection::open(data.join("agent_performance.db"))?.execute(
        "INSERT INTO calls(agent, latency_ms, ok) VALUES ('planner', 182, 1)",
        [],
    )?;
    Connection::open(data.join("system_actions.db"))?.execute(
        "INSERT INTO actions(kind, detail, task_id) VALUES ('open-file', 'notes.md', 1)",
        [],
    )?;

    // The next launch: one cheap check per file, nothing written.
    let again = DATABASES.migrate_all(&data)?;
    assert!(again.is_noop());
    print!("status:\n{}", DATABASES.status_all(&data)?);
    for run in litemigrate::catalog::list_runs(&data)? {
        println!("backup run {} ({} files)", run.id, run.files.len());
    }
    if given.is_none() {
        std::fs::remove_dir_all(&data)?;
    }
    Ok(())
}

/// What release 1 of the app left behind: each database at the version that release embedded, with some data.
fn release_1(data: &Path) -> Result<(), Box<dyn Error>> {
    std::fs::create_dir_all(data)?;
    for (name, version) in [("knowledge", 3), ("tasks", 1), ("workflows", 2), ("performance", 1)] {
        let db = DATABASES.get(name).ok_or("no such database")?;
        let mut conn = Connection::open(db.path_in(data))?;
        db.migrations()
            .migrator()
            .target(Target::Version(version))
            .backup(BackupPolicy::Off)
            .run(&mut conn)?;
    }
    let knowledge = Connection::open(data.join("knowledge.db"))?;
    knowledge.execute_batch(
        "INSERT INTO entries(domain, title, body, confidence) VALUES
             ('rust', 'Ownership', 'Each value has one owner', 0.8);
         INSERT INTO notes(body, topic) VALUES ('call the bank', 'errands'), ('buy milk', 'errands'),
             ('read the RFC', 'work');",
    )?;
    Ok(())
}
