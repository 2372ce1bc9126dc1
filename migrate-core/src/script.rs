//! One script of a migration as it will run: its file, its normalized text and its directives. It sits below the
//! loader and the directive expanders so both can name it without importing each other.

use crate::directive::Directives;

/// One script (up or down) as it will run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// The file, as [`crate::load::SourceFile::display`] named it.
    pub path: String,
    /// The normalized text (no BOM, LF line ends).
    pub sql: String,
    /// The `-- migrate:` directives at its top.
    pub directives: Directives,
}
