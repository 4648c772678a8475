//! What a workflow's name is: a short, safe slug, and how it was made.

use std::fmt;

/// Longest name, in characters.
pub const MAX_LEN: usize = 40;
/// Fewest and most words in a name.
pub const MIN_WORDS: usize = 2;
pub const MAX_WORDS: usize = 5;

/// How a workflow got its name; the log says which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameSource {
    /// The model answered with a usable name.
    Model,
    /// Made from the description's keywords, because of the reason given.
    Fallback(String),
}

impl fmt::Display for NameSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Model => f.write_str("named by the veryfast model"),
            Self::Fallback(why) => write!(f, "named from the description's keywords ({why})"),
        }
    }
}

/// True for a string that is a valid workflow name.
pub fn is_valid(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
}
