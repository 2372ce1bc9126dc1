//! [`ErrorKind`]: the class of an [`Error`] and its stable name, the one place a new failure's kind is named.

// Named by the variants' doc links.
#[allow(unused_imports)]
use super::Error;
use std::fmt;

/// The class of an [`Error`], for matching without destructuring. Serializes as its stable name,
/// [`ErrorKind::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// [`Error::InvalidTableName`].
    InvalidTableName,
    /// [`Error::Divergent`].
    Divergent,
    /// [`Error::Missing`].
    Missing,
    /// [`Error::DatabaseAhead`].
    DatabaseAhead,
    /// [`Error::OutOfOrder`].
    OutOfOrder,
    /// [`Error::CorruptHistory`].
    CorruptHistory,
    /// [`Error::Irreversible`].
    Irreversible,
    /// [`Error::UnknownTarget`].
    UnknownTarget,
    /// [`Error::RequiresNotMet`].
    RequiresNotMet,
    /// [`Error::MigrationFailed`].
    MigrationFailed,
    /// [`Error::CodeFailed`].
    CodeFailed,
    /// [`Error::ForeignKeyViolation`].
    ForeignKeyViolation,
    /// [`Error::Busy`].
    Busy,
    /// [`Error::ReadOnly`].
    ReadOnly,
    /// [`Error::DiskFull`].
    DiskFull,
    /// [`Error::Database`].
    Database,
    /// [`Error::LockFile`].
    LockFile,
    /// [`Error::HistoryNotEmpty`].
    HistoryNotEmpty,
    /// [`Error::SchemaDrift`].
    SchemaDrift,
    /// [`Error::Integrity`].
    Integrity,
    /// [`Error::Load`].
    Load,
    /// [`Error::Compile`].
    Compile,
    /// [`Error::Backup`].
    Backup,
    /// [`Error::TransactionLeft`].
    TransactionLeft,
    /// [`Error::WritesHistoryTable`].
    WritesHistoryTable,
    /// [`crate::adopt::AdoptError::ForeignHistory`]: another tool's history and none of ours; run `adopt`.
    ForeignHistory,
    /// Any other [`Error::Adopt`].
    Adopt,
    /// [`Error::SquashedBelow`].
    SquashedBelow,
    /// [`Error::Replica`].
    Replica,
    /// [`Error::WaitTimeout`].
    WaitTimeout,
}

impl ErrorKind {
    /// The kind's stable name, in snake_case: what the CLI prints as the JSON `error.kind`, and what a log line or
    /// a metric should carry. Stable: a name never changes once released (a new kind gets a new name), whatever
    /// happens to the variant's Rust spelling or its `Debug` output.
    ///
    /// ```
    /// use litemigrate_runtime::ErrorKind;
    /// assert_eq!(ErrorKind::SchemaDrift.as_str(), "schema_drift");
    /// assert_eq!(ErrorKind::Busy.to_string(), "busy");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidTableName => "invalid_table_name",
            ErrorKind::Divergent => "divergent",
            ErrorKind::Missing => "missing",
            ErrorKind::DatabaseAhead => "database_ahead",
            ErrorKind::OutOfOrder => "out_of_order",
            ErrorKind::CorruptHistory => "corrupt_history",
            ErrorKind::Irreversible => "irreversible",
            ErrorKind::UnknownTarget => "unknown_target",
            ErrorKind::RequiresNotMet => "requires_not_met",
            ErrorKind::MigrationFailed => "migration_failed",
            ErrorKind::CodeFailed => "code_failed",
            ErrorKind::ForeignKeyViolation => "foreign_key_violation",
            ErrorKind::Busy => "busy",
            ErrorKind::ReadOnly => "read_only",
            ErrorKind::DiskFull => "disk_full",
            ErrorKind::Database => "database",
            ErrorKind::LockFile => "lock_file",
            ErrorKind::HistoryNotEmpty => "history_not_empty",
            ErrorKind::SchemaDrift => "schema_drift",
            ErrorKind::Integrity => "integrity",
            ErrorKind::Load => "load",
            ErrorKind::Compile => "compile",
            ErrorKind::Backup => "backup",
            ErrorKind::TransactionLeft => "transaction_left",
            ErrorKind::WritesHistoryTable => "writes_history_table",
            ErrorKind::ForeignHistory => "foreign_history",
            ErrorKind::Adopt => "adopt",
            ErrorKind::SquashedBelow => "squashed_below",
            ErrorKind::Replica => "replica",
            ErrorKind::WaitTimeout => "wait_timeout",
        }
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for ErrorKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorKind;

    /// The names are a stable interface (the CLI's JSON `error.kind`, logs): changing one breaks scripts.
    #[test]
    fn kind_names_are_pinned() {
        for (kind, name) in [
            (ErrorKind::InvalidTableName, "invalid_table_name"),
            (ErrorKind::Divergent, "divergent"),
            (ErrorKind::DatabaseAhead, "database_ahead"),
            (ErrorKind::OutOfOrder, "out_of_order"),
            (ErrorKind::ForeignKeyViolation, "foreign_key_violation"),
            (ErrorKind::ReadOnly, "read_only"),
            (ErrorKind::SchemaDrift, "schema_drift"),
            (ErrorKind::Load, "load"),
            (ErrorKind::Backup, "backup"),
            (ErrorKind::ForeignHistory, "foreign_history"),
            (ErrorKind::Adopt, "adopt"),
            (ErrorKind::SquashedBelow, "squashed_below"),
            (ErrorKind::RequiresNotMet, "requires_not_met"),
        ] {
            assert_eq!(kind.as_str(), name);
            assert_eq!(kind.to_string(), name);
            #[cfg(feature = "serde")]
            assert_eq!(serde_json::to_value(kind).unwrap(), name);
        }
    }
}
