//! Imports the sandbox cannot satisfy: left out of a Python candidate when nothing needs them.

use super::StageContext;
use super::pool::Pool;
use crate::language::Language;
use crate::pipeline::plan::Plan;
use crate::sandbox::runner;
use crate::workflow::Failure;
use crate::workflow::folder;

impl StageContext<'_> {
    /// Candidates not checked yet lose the imports that fail in the sandbox and that nothing
    /// needs (`import numpy as np` never used, `from math import max`): one such line kept a
    /// candidate from loading at all, whatever its functions did. Python only; a candidate
    /// without an import statement is not run for it.
    pub(super) async fn leave_out_failing_imports(
        &self,
        plan: &Plan,
        pool: &mut Pool,
    ) -> Result<(), Failure> {
        let settings = &self.host.config().pipeline;
        let todo: Vec<usize> = (pool.imports_checked..pool.candidates.len())
            .filter(|c| has_import(plan.language, &pool.candidates[*c].code.text))
            .collect();
        pool.imports_checked = pool.candidates.len();
        for c in todo {
            let code = &pool.candidates[c].code.text;
            let lines = runner::failing_imports(
                plan.language,
                code,
                self.tools(),
                &settings.limits,
                self.cancel,
            )
            .await
            .map_err(|e| Failure::Sandbox(format!("checking the code's imports: {e}")))?;
            if lines.is_empty() {
                continue;
            }
            let (text, removed) = without_lines(code, &lines);
            self.log.line(&format!(
                "candidate {}: {} cannot be imported here and nothing needs it: left out",
                c + 1,
                removed
                    .iter()
                    .map(|r| format!("`{r}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            self.write_file(&folder::candidate_file(c + 1, &plan.code_file), &text)?;
            let candidate = &mut pool.candidates[c].code;
            candidate.text = text;
            candidate.dropped.extend(removed);
        }
        Ok(())
    }
}

/// Whether `code` has an import its language's check could find failing.
fn has_import(language: Language, code: &str) -> bool {
    (language.rules().imports_check).is_some_and(|check| (check.worth_checking)(code))
}

/// `text` without the 1-based, inclusive line `ranges`, and each range's text on one line.
/// Blank lines left at the top go too.
fn without_lines(text: &str, ranges: &[(usize, usize)]) -> (String, Vec<String>) {
    let mut kept = String::with_capacity(text.len());
    let mut removed: Vec<String> = Vec::new();
    let mut current = None;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let n = i + 1;
        match ranges.iter().position(|(a, b)| (*a..=*b).contains(&n)) {
            Some(r) => {
                match removed.last_mut() {
                    Some(last) if current == Some(r) => {
                        last.push(' ');
                        last.push_str(line.trim());
                    }
                    _ => removed.push(line.trim().to_owned()),
                }
                current = Some(r);
            }
            None => {
                current = None;
                if !(kept.is_empty() && line.trim().is_empty()) {
                    kept.push_str(line);
                }
            }
        }
    }
    (kept, removed)
}

#[cfg(test)]
mod tests {
    use super::{has_import, without_lines};
    use crate::language::Language;

    #[test]
    fn failing_import_lines_are_taken_out_whole() {
        let code = "import numpy as np\nfrom itertools import (\n    intersperse,\n)\n\ndef f(x):\n    return max(x)\n";
        let (kept, removed) = without_lines(code, &[(1, 1), (2, 4)]);
        assert_eq!(kept, "def f(x):\n    return max(x)\n");
        assert_eq!(
            removed,
            [
                "import numpy as np",
                "from itertools import ( intersperse, )"
            ]
        );
        let (kept, removed) = without_lines(code, &[]);
        assert_eq!((kept.as_str(), removed.len()), (code, 0));
    }

    #[test]
    fn only_python_code_with_a_real_import_is_checked() {
        assert!(has_import(
            Language::Python,
            "from math import max\ndef f(): pass\n"
        ));
        assert!(has_import(
            Language::Python,
            "def f(): pass\nimport numpy\n"
        ));
        assert!(!has_import(
            Language::Python,
            "from typing import List\ndef f(): pass\n"
        ));
        assert!(!has_import(Language::Python, "def f():\n    import os\n"));
        assert!(!has_import(Language::Javascript, "import x from 'y';\n"));
    }
}
