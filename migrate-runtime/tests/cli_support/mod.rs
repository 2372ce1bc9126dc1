//! Helpers for the CLI tests: a temporary project (migrations directory + database path) and the real `migrate`
//! binary run in it, with colour off and no MIGRATE_* or DATABASE_URL variables leaking in from the environment.
#![allow(dead_code)]

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

pub const USERS_UP: &str = "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n";
pub const USERS_DOWN: &str = "DROP TABLE users;\n";
pub const POSTS_UP: &str =
    "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), body TEXT NOT NULL);\n";
pub const POSTS_DOWN: &str = "DROP TABLE posts;\n";
pub const SEARCH_UP: &str = "-- migrate:fts5 posts_fts content=posts content_rowid=id columns=body\n";
pub const SEARCH_DOWN: &str = "-- generated\n";

pub struct Project {
    pub tmp: TempDir,
}

impl Project {
    /// Three reversible migrations: users, posts, an FTS5 index over posts.
    pub fn new() -> Project {
        let p = Project::empty();
        p.write("0001_users.up.sql", USERS_UP);
        p.write("0001_users.down.sql", USERS_DOWN);
        p.write("0002_posts.up.sql", POSTS_UP);
        p.write("0002_posts.down.sql", POSTS_DOWN);
        p.write("0003_search.up.sql", SEARCH_UP);
        p.write("0003_search.down.sql", SEARCH_DOWN);
        p
    }

    /// An empty migrations directory.
    pub fn empty() -> Project {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("migrations")).unwrap();
        Project { tmp }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    pub fn db(&self) -> PathBuf {
        self.path("app.db")
    }

    pub fn write(&self, file: &str, sql: &str) {
        std::fs::write(self.path("migrations").join(file), sql).unwrap();
    }

    /// `migrate` in the project directory, without --db/--dir.
    pub fn bare(&self) -> Command {
        let mut c = assert_cmd::cargo::cargo_bin_cmd!("migrate");
        c.current_dir(self.tmp.path())
            .env_remove("MIGRATE_DB")
            .env_remove("MIGRATE_DIR")
            .env_remove("DATABASE_URL")
            .env("NO_COLOR", "1")
            .env_remove("CLICOLOR_FORCE");
        c
    }

    /// `migrate --db app.db --dir migrations <args>`.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = self.bare();
        c.args(["--db", "app.db", "--dir", "migrations"]).args(args);
        c
    }

    /// Runs with `--json`; returns the parsed envelope and the exit code. Asserts the envelope's invariants.
    pub fn json(&self, args: &[&str]) -> (Value, i32) {
        let out = self.cmd(args).arg("--json").output().unwrap();
        let code = out.status.code().unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert_eq!(stdout.lines().count(), 1, "one JSON line on stdout, got: {stdout}");
        let v: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(v["exit_code"], code, "{v}");
        assert_eq!(v["ok"], code == 0, "{v}");
        if code != 0 {
            assert!(v["error"]["kind"].is_string(), "{v}");
            assert!(v["error"]["message"].is_string(), "{v}");
        }
        (v, code)
    }

    /// Runs `up` and checks it worked.
    pub fn up(&self) {
        self.cmd(&["up", "--no-backup"]).assert().success();
    }

    pub fn conn(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.db()).unwrap()
    }

    pub fn tables(&self) -> Vec<String> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
                 AND name NOT LIKE 'posts_fts_%' ORDER BY name",
            )
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }
}

pub fn exists(p: &Path) -> bool {
    p.exists()
}
