//! The standalone `migrate` binary: the commands of [`litemigrate_runtime::cli`] over a migrations directory on disk,
//! loaded with the same rules and errors as `embed_migrations!`.
//!
//! ```text
//! cargo install --locked --path migrate-runtime --features bundled
//! migrate --db app.db --dir migrations status
//! ```

fn main() -> std::process::ExitCode {
    litemigrate_runtime::cli::main_dir()
}
