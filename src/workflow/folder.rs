//! A workflow's folder (`<home>/workflows/<id>/`): the one place its layout is spelled out.
//! Names are relative to the folder, as `result.json` lists them.

use std::path::{Path, PathBuf};

/// The log of everything the workflow did.
pub const LOG: &str = "log.txt";
/// The plan (and the overseer's reply).
pub const PLAN: &str = "plan.md";
/// The kept code's last test output.
pub const OUTPUT: &str = "output.txt";
/// The summary: status, files, candidates, suites, tokens, times.
pub const RESULT: &str = "result.json";
/// Where the summary is written before it is renamed into place.
pub const RESULT_PARTIAL: &str = "result.json.partial";

/// The folder of candidate `k` (counted from 1).
pub fn candidate(k: usize) -> String {
    format!("candidates/{k}")
}

/// A file of candidate `k` (counted from 1).
pub fn candidate_file(k: usize, file: &str) -> String {
    format!("candidates/{k}/{file}")
}

/// The folder of test suite `j` (counted from 1).
pub fn suite(j: usize) -> String {
    format!("suites/{j}")
}

/// A file of test suite `j` (counted from 1).
pub fn suite_file(j: usize, file: &str) -> String {
    format!("suites/{j}/{file}")
}

/// The output of candidate `c` run against suite `s` (both counted from 1).
pub fn run_file(c: usize, s: usize) -> String {
    format!("runs/c{c}-s{s}.txt")
}

/// The files of every candidate in the workflow folder `dir`, in order, as long as they exist
/// (`candidates/1/…`, `candidates/2/…`).
pub fn candidate_files<'a>(dir: &'a Path, file: &'a str) -> impl Iterator<Item = PathBuf> + 'a {
    (1..)
        .map(move |k| dir.join(candidate_file(k, file)))
        .take_while(|p| p.exists())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_are_listed_until_the_first_gap() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        for k in [1, 2, 4] {
            let path = dir.path().join(candidate_file(k, "solution.py"));
            std::fs::create_dir_all(path.parent().unwrap_or(dir.path()))
                .unwrap_or_else(|e| panic!("{e}"));
            std::fs::write(&path, "x = 1").unwrap_or_else(|e| panic!("{e}"));
        }
        let found: Vec<PathBuf> = candidate_files(dir.path(), "solution.py").collect();
        assert_eq!(
            found,
            [
                dir.path().join("candidates/1/solution.py"),
                dir.path().join("candidates/2/solution.py")
            ]
        );
    }
}
