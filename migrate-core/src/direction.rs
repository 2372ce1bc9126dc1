//! Up or down: which script of a migration runs. One enum for the build (which script a failing statement belongs
//! to) and the runtime (plans, reports, failure records), so the two cannot spell it differently.

use std::fmt;

/// Up (apply the up script) or down (run the down script to roll back).
///
/// ```
/// use litemigrate_core::direction::Direction;
/// assert_eq!(Direction::Down.as_str(), "down");
/// assert_eq!(Direction::Up.to_string(), "up");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize), serde(rename_all = "lowercase"))]
pub enum Direction {
    /// The up script.
    Up,
    /// The down script.
    Down,
}

impl Direction {
    /// The stable lower-case name (`up`, `down`): what the history's failure records, the CLI and JSON output hold.
    pub const fn as_str(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `write_str` ignores width, as both former enums did: `{:<4}` in the report and plan texts prints `up` unpadded,
        // and those texts stay byte-for-byte what they were.
        f.write_str(self.as_str())
    }
}
