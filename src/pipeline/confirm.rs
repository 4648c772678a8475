//! Whether code that passes every usable test may be called complete. A small model's tests
//! can be wrong and still be passed, and they can say nothing at all: measured on SmolLM2,
//! `capitalize_words("") == ""` was the only test, every candidate that loaded passed it, and
//! the chosen one was wrong. So when several candidates were asked for, passing the tests is
//! not enough: most of the candidates that return values must behave like the code on the
//! task's inputs (at least two of them). A test that other candidates fail is no substitute:
//! on a task held out of the project, three identical wrong `clamp` candidates passed the
//! model's one test, `clamp(10, 5, 2) == 10`, that three others failed. Without inputs to
//! probe with, the candidates that pass exactly the same tests are the ones that agree (a lone
//! Rust candidate passing one model test completed `rs/is_even` wrongly before Rust was probed).

use super::select::Board;

/// Why code that passes every usable test is not confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Doubt {
    /// No other candidate behaves the same on the task's inputs.
    Alone,
    /// Only `agreeing` of the `valued` candidates that return values behave like it.
    Minority { agreeing: u32, valued: u32 },
}

impl Board {
    /// What speaks against calling `c` complete among `candidates`; `None` when nothing does.
    /// When no candidate shows a behaviour on the task's inputs (there were none to probe
    /// with), the tests stand in for them: the candidates that pass exactly the tests `c`
    /// passes in `suites` agree with it, among those that load a suite.
    pub fn doubt(&self, c: usize, candidates: &[usize], suites: &[usize]) -> Option<Doubt> {
        let fits = self.fitting_probes(candidates);
        let valued = candidates
            .iter()
            .filter(|o| self.shown(**o, &fits).is_some())
            .count() as u32;
        let (agreeing, valued) = if valued > 0 {
            (self.agreeing(c, candidates, &fits), valued)
        } else {
            let usable: Vec<usize> = suites.iter().copied().filter(|s| self.usable(*s)).collect();
            let loads = |o: usize| {
                usable
                    .iter()
                    .any(|s| self.runs.get(&(o, *s)).is_some_and(|r| r.loaded))
            };
            let mine = self.passed_by(c, &usable);
            let same = candidates
                .iter()
                .filter(|o| loads(**o) && self.passed_by(**o, &usable) == mine)
                .count() as u32;
            let loading = candidates.iter().filter(|o| loads(**o)).count() as u32;
            (same, loading)
        };
        if agreeing < 2 {
            return Some(Doubt::Alone);
        }
        (agreeing * 2 <= valued).then_some(Doubt::Minority { agreeing, valued })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::Finished;
    use crate::sandbox::runner::TestReport;

    fn report(cases: &[(&str, bool)]) -> TestReport {
        TestReport {
            passed: cases.iter().filter(|c| c.1).count() as u32,
            failed: cases.iter().filter(|c| !c.1).count() as u32,
            cases: cases.iter().map(|(n, ok)| ((*n).to_owned(), *ok)).collect(),
            loaded: true,
            runner: "pytest",
            finished: Finished::default(),
        }
    }

    fn values(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    /// The `capitalize_words` workflow: one test, `capitalize_words("") == ""`, passed by all
    /// six candidates that load; the chosen one and one more agree, four others each differ.
    fn capitalize_words() -> Board {
        let mut board = Board {
            probes: values(&["f('')", "f('a b')", "f('hello world')"]),
            ..Board::default()
        };
        let behaviours: [&[&str]; 6] = [
            &["''", "'A BA B'", "'HELLO WORLDHello World'"],
            &["''", "'A B'", "'HELLO WORLD'"],
            &["''", "''", "''"],
            &["''", "'A B'", "'Hello worlHELLO WORLD'"],
            &["''", "'A B'", "'HELLO WORLD'"],
            &["''", "'a b'", "'hello world'"],
        ];
        for (c, b) in behaviours.iter().enumerate() {
            board.behaviour.insert(c, values(b));
            board.runs.insert((c, 0), report(&[("test_case_1", true)]));
        }
        // Two more that never load return nothing and fail the suite by not loading.
        for c in 6..8 {
            board.behaviour.insert(c, values(&["!SyntaxError"; 3]));
            let mut broken = report(&[]);
            broken.loaded = false;
            board.runs.insert((c, 0), broken);
        }
        board
    }

    #[test]
    fn a_pair_among_many_behaviours_is_no_confirmation() {
        let board = capitalize_words();
        let all: Vec<usize> = (0..8).collect();
        // Five show a behaviour: the third returns `''` for everything, the last two nothing.
        let minority = Some(Doubt::Minority {
            agreeing: 2,
            valued: 5,
        });
        assert_eq!(board.doubt(1, &all, &[0]), minority);
        // Nor when other candidates fail the test it passes (`clamp(10, 5, 2) == 10`).
        let mut told = board.clone();
        told.runs.insert((3, 0), report(&[("test_case_1", false)]));
        assert_eq!(told.doubt(1, &all, &[0]), minority);
    }

    #[test]
    fn most_candidates_agreeing_confirm_even_a_test_everyone_passes() {
        // `js/add`: one test, passed by all; seven of eight return the same sums.
        let mut board = capitalize_words();
        let all: Vec<usize> = (0..8).collect();
        for c in [0, 2, 3, 5, 6] {
            board
                .behaviour
                .insert(c, values(&["''", "'A B'", "'HELLO WORLD'"]));
        }
        assert_eq!(board.doubt(1, &all, &[0]), None);
        // Half is not most.
        board.behaviour.insert(7, values(&["''", "'w'", "'w'"]));
        board
            .behaviour
            .insert(6, values(&["''", "'x'", "'HELLO WORLD'"]));
        board
            .behaviour
            .insert(5, values(&["''", "'y'", "'HELLO WORLD'"]));
        board
            .behaviour
            .insert(0, values(&["''", "'z'", "'HELLO WORLD'"]));
        assert_eq!(
            board.doubt(1, &all, &[0]),
            Some(Doubt::Minority {
                agreeing: 4,
                valued: 8
            })
        );
    }

    #[test]
    fn without_behaviours_the_tests_stand_in() {
        // No input to probe with: the candidates passing exactly the same tests agree.
        let mut board = Board::default();
        let runs: [&[(&str, bool)]; 4] = [
            &[("a", false), ("b", true)],
            &[("a", true), ("b", true)],
            &[("a", false), ("b", false)],
            &[("a", false), ("b", true)],
        ];
        for (c, cases) in runs.iter().enumerate() {
            board.runs.insert((c, 0), report(cases));
        }
        let all: Vec<usize> = (0..4).collect();
        // `rs/is_even`: the one passing every test is alone in doing so.
        assert_eq!(board.doubt(1, &all, &[0]), Some(Doubt::Alone));
        assert_eq!(
            board.doubt(0, &all, &[0]),
            Some(Doubt::Minority {
                agreeing: 2,
                valued: 4
            })
        );
        // Three of the four that load: most.
        board
            .runs
            .insert((2, 0), report(&[("a", false), ("b", true)]));
        assert_eq!(board.doubt(0, &all, &[0]), None);
        // A candidate that loads no suite does not count.
        let mut broken = report(&[]);
        broken.loaded = false;
        for c in [2, 3] {
            board.runs.insert((c, 0), broken.clone());
        }
        assert_eq!(board.doubt(1, &all, &[0]), Some(Doubt::Alone));
        board
            .runs
            .insert((0, 0), report(&[("a", true), ("b", true)]));
        assert_eq!(board.doubt(1, &all, &[0]), None);
    }

    #[test]
    fn code_no_other_candidate_backs_is_alone() {
        let board = capitalize_words();
        let all: Vec<usize> = (0..8).collect();
        assert_eq!(board.doubt(0, &all, &[0]), Some(Doubt::Alone));
    }
}
