//! An application that carries the `migrate` commands over its compiled-in migrations, so an operator runs
//! `todo-admin migrate status` on a server without the source tree or the standalone binary.
//!
//! ```text
//! cargo run --example cli_embedded -- migrate --db todo.db status
//! cargo run --example cli_embedded -- migrate --db todo.db up
//! cargo run --example cli_embedded -- migrate --db todo.db --json history
//! cargo run --example cli_embedded -- list --db todo.db
//! ```
//!
//! An application enables the facade's `cli` feature (`litemigrate = { version = "0.1", features = ["cli"] }`) and
//! adds `litemigrate::cli::Cli` as one variant of its own clap command. `--dir` and `new` are refused: the set is the
//! one compiled into this binary, validated when it was built.

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("examples/todo/migrations");

#[derive(Parser)]
#[command(name = "todo-admin", about = "Administration of the todo example")]
enum App {
    /// Print the todos.
    List {
        /// The database.
        #[arg(long, default_value = "todo.db")]
        db: PathBuf,
    },
    /// Database migrations: status, up, down, verify, history, backup, backups, restore, fts, schema.
    // Boxed: the whole command line is large next to `List`, and clap parses a `Box<Cli>` the same way.
    Migrate(Box<litemigrate::cli::Cli>),
}

fn main() -> ExitCode {
    match App::parse() {
        App::Migrate(cli) => litemigrate::cli::run(litemigrate::cli::Source::Embedded(&MIGRATIONS), *cli),
        App::List { db } => match list(&db) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
    }
}

fn list(db: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    let conn = rusqlite::Connection::open(db)?;
    // Refuse to read a database the binary does not match, rather than fail on a missing column later.
    let status = MIGRATIONS.status(&conn)?;
    if !status.is_up_to_date() {
        return Err(format!(
            "{} is not up to date: run `todo-admin migrate --db {} up`",
            db.display(),
            db.display()
        )
        .into());
    }
    let mut stmt = conn.prepare("SELECT id, title, done FROM todos ORDER BY id")?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, bool>(2)?))
    })?;
    for row in rows {
        let (id, title, done) = row?;
        println!("[{}] {id}: {title}", if done { "x" } else { " " });
    }
    Ok(())
}
