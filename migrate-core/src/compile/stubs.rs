//! Functions declared to exist during validation (`validate_functions = ["vec_length/1"]`, `--validate-function`):
//! an application's extension functions, which the build's in-memory SQLite does not have. Each is registered as
//! a deterministic stub returning NULL, so a `CHECK`, index or view using it compiles and everything else is still
//! validated; what the real function computes is the application's business at run time.

use std::fmt;
use std::str::FromStr;

/// One declared function: its name and the number of arguments it takes (`None`: any number).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FunctionStub {
    /// The SQL function name.
    pub name: String,
    /// Its arity; `None` accepts any number of arguments.
    pub arity: Option<u8>,
}

/// A declaration that is not `name/arity` or `name`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}`: expected `name/arity` (e.g. `vec_length/1`) or `name` for any arity; name is letters, digits and `_`")]
pub struct BadStub(pub String);

impl FromStr for FunctionStub {
    type Err = BadStub;

    /// ```
    /// use litemigrate_core::compile::FunctionStub;
    /// let f: FunctionStub = "vec_length/1".parse().unwrap();
    /// assert_eq!((f.name.as_str(), f.arity), ("vec_length", Some(1)));
    /// assert!("vec length/x".parse::<FunctionStub>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<FunctionStub, BadStub> {
        let bad = || BadStub(s.to_owned());
        let (name, arity) = match s.split_once('/') {
            Some((n, a)) => (n, Some(a.parse::<u8>().map_err(|_| bad())?)),
            None => (s, None),
        };
        let ok = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && arity.is_none_or(|a| a <= 127);
        ok.then(|| FunctionStub {
            name: name.to_owned(),
            arity,
        })
        .ok_or_else(bad)
    }
}

impl fmt::Display for FunctionStub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.arity {
            Some(a) => write!(f, "{}/{a}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// Registers the stubs on a validation connection.
pub(crate) fn register(conn: &rusqlite::Connection, stubs: &[FunctionStub]) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    for s in stubs {
        let arity = s.arity.map_or(-1, i32::from);
        // Deterministic, or SQLite refuses it in CHECK constraints and index expressions.
        let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
        conn.create_scalar_function(s.name.as_str(), arity, flags, |_| Ok(rusqlite::types::Null))?;
    }
    Ok(())
}
