//! What a language reader says a test checks, and how assignments carry a checked value back
//! to what it was computed from; the judging is `extract::checks`.

use std::ops::Range;

/// What one test or helper asserts: for each assertion, the names its checked value is read
/// from (variables already traced back to what they were computed from).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Checks {
    pub sites: Vec<Vec<String>>,
    /// The function's own parameters (a helper `check(got, want)` asserts on them).
    pub params: Vec<String>,
    /// Names it calls, to find the asserting helpers it uses.
    pub calls: Vec<String>,
}

/// One test method of a test class, with where its text sits in the class.
pub(crate) struct Method {
    pub name: String,
    pub range: Range<usize>,
    pub checks: Checks,
}

/// Assignments as a language reader found them: the names bound, and the names read on the
/// right-hand side. A call of the code with a variable as argument binds that variable too.
pub(crate) type Flow = Vec<(Vec<String>, Vec<String>)>;

/// Each site's names, with every variable replaced by everything it was computed from
/// (transitively; order is ignored, so a later assignment counts too — erring on keeping).
pub(crate) fn traced(sites: Vec<Vec<String>>, flow: &Flow) -> Vec<Vec<String>> {
    sites
        .into_iter()
        .map(|site| {
            let mut seen: Vec<String> = Vec::new();
            let mut stack = site;
            while let Some(name) = stack.pop() {
                if seen.contains(&name) {
                    continue;
                }
                for (targets, reads) in flow {
                    if targets.contains(&name) {
                        stack.extend(reads.iter().cloned());
                    }
                }
                seen.push(name);
            }
            seen
        })
        .collect()
}
