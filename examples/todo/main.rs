//! A small todo app that embeds its migrations and brings its database up to date on every launch.
//!
//! ```text
//! cargo run --example todo                 # uses ./todo.db
//! cargo run --example todo -- /tmp/t.db add "write the docs"
//! ```
//!
//! The first launch creates the schema; later launches find nothing pending and cost one read of the file header.

use std::error::Error;

/// Validated while this example compiles: a typo in any of these files is a build error naming the file and line.
static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("examples/todo/migrations");

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| "todo.db".to_owned());
    let mut conn = rusqlite::Connection::open(&path)?;

    let report = MIGRATIONS.migrate(&mut conn)?;
    println!("{path}: {report}");

    match (args.next().as_deref(), args.next()) {
        (Some("add"), Some(title)) => {
            conn.execute("INSERT INTO todos (title) VALUES (?1)", [&title])?;
            println!("added: {title}");
        }
        (Some("done"), Some(id)) => {
            conn.execute("UPDATE todos SET done = 1 WHERE id = ?1", [&id])?;
        }
        (None, _) => {}
        _ => return Err("usage: todo [DB] [add TITLE | done ID]".into()),
    }

    let mut stmt = conn.prepare("SELECT id, title, done FROM todos ORDER BY id")?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, bool>(2)?))
    })?;
    for row in rows {
        let (id, title, done) = row?;
        println!("  [{}] {id}: {title}", if done { "x" } else { " " });
    }
    Ok(())
}
