//! Scoring and selection, case by case (most are workflows measured on SmolLM2).

use super::*;
use crate::sandbox::Finished;

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| (*s).to_owned()).collect()
}

fn report(cases: &[(&str, bool)], loaded: bool) -> TestReport {
    TestReport {
        passed: cases.iter().filter(|c| c.1).count() as u32,
        failed: cases.iter().filter(|c| !c.1).count() as u32,
        cases: cases.iter().map(|(n, ok)| ((*n).to_owned(), *ok)).collect(),
        loaded,
        runner: "pytest",
        finished: Finished::default(),
    }
}

#[test]
fn agreeing_candidates_outscore_a_lone_one_that_passes_more() {
    // Two candidates agree on passing a and b; one passes a, b and c alone.
    let scores = dual_agreement(&[set(&["a", "b"]), set(&["a", "b", "c"]), set(&["a", "b"])]);
    assert_eq!(scores, [4, 3, 4]);
    let standings: Vec<Standing> = scores
        .iter()
        .map(|s| Standing {
            score: *s,
            ..Standing::default()
        })
        .collect();
    assert_eq!(best(&standings), Some(0));
}

#[test]
fn ties_go_to_the_earlier_candidate() {
    let scores = dual_agreement(&[set(&["a"]), set(&["b"])]);
    assert_eq!(scores, [1, 1]);
    let standings: Vec<Standing> = scores
        .iter()
        .map(|s| Standing {
            score: *s,
            ..Standing::default()
        })
        .collect();
    assert_eq!(best(&standings), Some(0));
    assert_eq!(best(&[]), None);
}

#[test]
fn passing_nothing_scores_nothing_however_many_agree() {
    assert_eq!(
        dual_agreement(&[set(&[]), set(&[]), set(&["x"])]),
        [0, 0, 1]
    );
}

#[test]
fn a_suite_that_never_loads_is_not_counted() {
    let mut board = Board::default();
    board
        .runs
        .insert((0, 0), report(&[("t1", true), ("t2", false)], true));
    board
        .runs
        .insert((1, 0), report(&[("t1", true), ("t2", true)], true));
    board.runs.insert((0, 1), report(&[], false));
    board.runs.insert((1, 1), report(&[], false));
    assert!(board.usable(0) && !board.usable(1));
    let s = board.standings(&[0, 1], &[0, 1]);
    assert_eq!((s[0].score, s[0].passed, s[0].failed), (1, 1, 1));
    assert_eq!((s[1].score, s[1].passed, s[1].failed), (2, 2, 0));
    assert_eq!(best(&s), Some(1));
}

#[test]
fn a_candidate_that_breaks_a_usable_suite_fails_all_its_tests() {
    let mut board = Board::default();
    board
        .runs
        .insert((0, 0), report(&[("a", true), ("b", true)], true));
    board.runs.insert((1, 0), report(&[], false));
    let s = board.standings(&[0, 1], &[0]);
    assert_eq!(
        (s[1].score, s[1].passed, s[1].failed, s[1].loaded),
        (0, 0, 2, 0)
    );
}

#[test]
fn between_equal_scores_the_largest_behaviour_group_wins() {
    let mut board = Board::default();
    for c in 0..4 {
        board.runs.insert((c, 0), report(&[("a", false)], true));
    }
    let values = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    board.behaviour.insert(0, values(&["1", "2"]));
    board.behaviour.insert(1, values(&["4", "9"]));
    board
        .behaviour
        .insert(2, values(&["!NameError", "!NameError"]));
    board.behaviour.insert(3, values(&["4", "9"]));
    let s = board.standings(&[0, 1, 2, 3], &[0]);
    let agreeing: Vec<u32> = s.iter().map(|s| s.agreeing).collect();
    assert_eq!(agreeing, [1, 2, 0, 2], "errors alone are no behaviour");
    let agreement: Vec<u32> = s.iter().map(|s| s.agreement).collect();
    assert_eq!(agreement, [0, 2, 0, 2], "errors agree with nothing");
    assert_eq!(best(&s), Some(1));
    // One model-written test passed alone (score 1) does not outweigh two candidates
    // agreeing on both inputs (2)…
    board.runs.insert((0, 0), report(&[("a", true)], true));
    assert_eq!(best(&board.standings(&[0, 1, 2, 3], &[0])), Some(1));
    // …but tests passed by a group count for the whole group: the first and third now
    // agree on passing two tests (2 × 2 = 4 each), past the pair's agreement (2).
    board
        .runs
        .insert((0, 0), report(&[("a", true), ("b", true)], true));
    board
        .runs
        .insert((2, 0), report(&[("a", true), ("b", true)], true));
    let s = board.standings(&[0, 1, 2, 3], &[0]);
    assert_eq!(s[0].score, 4);
    assert_eq!(best(&s), Some(0));
}

#[test]
fn values_shared_input_by_input_outweigh_one_identical_pair() {
    // Two candidates are wrong the same way everywhere; three right ones each slip on a
    // different input. Whole-behaviour groups would pick the wrong pair.
    let mut board = Board::default();
    let values = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    board.behaviour.insert(0, values(&["1", "4", "!TypeError"]));
    board.behaviour.insert(1, values(&["1", "4", "9"]));
    board.behaviour.insert(2, values(&["1", "5", "9"]));
    board.behaviour.insert(3, values(&["0", "0", "1"]));
    board.behaviour.insert(4, values(&["0", "0", "1"]));
    let s = board.standings(&[0, 1, 2, 3, 4], &[]);
    let agreeing: Vec<u32> = s.iter().map(|s| s.agreeing).collect();
    assert_eq!(agreeing, [1, 1, 1, 2, 2]);
    let agreement: Vec<u32> = s.iter().map(|s| s.agreement).collect();
    assert_eq!(agreement, [3, 4, 3, 3, 3]);
    assert_eq!(best(&s), Some(1));
}

#[test]
fn one_value_for_every_input_is_no_behaviour() {
    // `remove_duplicates`: two right candidates; three wrong ones return `[]` for every
    // list, and would outvote them by agreeing with each other everywhere.
    let mut board = Board::default();
    let values = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    board
        .behaviour
        .insert(0, values(&["[]", "[5]", "[3, 1, 2]", "[1]"]));
    board
        .behaviour
        .insert(1, values(&["[]", "[5]", "[1, 2, 3]", "[1]"]));
    for c in 2..5 {
        board
            .behaviour
            .insert(c, values(&["[]", "[]", "[]", "!TypeError"]));
    }
    let s = board.standings(&[0, 1, 2, 3, 4], &[]);
    let agreement: Vec<u32> = s.iter().map(|s| s.agreement).collect();
    assert_eq!(
        agreement,
        [2, 2, 0, 0, 0],
        "the last call is rejected by most"
    );
    let agreeing: Vec<u32> = s.iter().map(|s| s.agreeing).collect();
    assert_eq!(agreeing, [1, 1, 0, 0, 0]);
    assert_eq!(best(&s), Some(0));
    // Two values are too few to call constant.
    board.behaviour.insert(2, values(&["[]", "[]", "!E", "!E"]));
    board.behaviour.insert(3, values(&["[]", "[]", "!E", "!E"]));
    let s = board.standings(&[0, 1, 2, 3, 4], &[]);
    assert_eq!(s[2].agreeing, 2);
}

#[test]
fn returning_anything_for_any_input_is_no_evidence() {
    // Two right candidates agree on the inputs they accept and raise on the others; a
    // wrong one returns its argument for everything.
    let mut board = Board::default();
    let values = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    board.behaviour.insert(0, values(&["0", "0", "0", "0"]));
    board
        .behaviour
        .insert(1, values(&["5", "3", "!TypeError", "!TypeError"]));
    board
        .behaviour
        .insert(2, values(&["5", "3", "!TypeError", "!ValueError"]));
    let s = board.standings(&[0, 1, 2], &[]);
    let agreement: Vec<u32> = s.iter().map(|s| s.agreement).collect();
    assert_eq!(agreement, [0, 2, 2]);
    assert_eq!(best(&s), Some(1));
}

#[test]
fn a_call_most_candidates_reject_by_type_is_no_evidence() {
    // `count_char("ab", 3)`: right code (`s.count(c)`) raises TypeError, as most do; wrong
    // code (`len(s) * c`) returns 6, which must not make it win.
    let mut board = Board {
        probes: vec![
            "count_char(\"ab\", 3)".into(),
            "count_char(\"aba\", \"a\")".into(),
        ],
        ..Board::default()
    };
    let values = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    board.behaviour.insert(0, values(&["!TypeError", "2"]));
    board.behaviour.insert(1, values(&["!TypeError", "2"]));
    board.behaviour.insert(2, values(&["6", "!TypeError"]));
    board.behaviour.insert(3, values(&["!TypeError", "3"]));
    let s = board.standings(&[0, 1, 2, 3], &[]);
    assert_eq!(s[2].returned, 0, "{s:?}");
    assert_eq!(s[0].agreeing, 2);
    assert_eq!(best(&s), Some(0));
    // Where most candidates accept the call, a TypeError is that candidate's own failing.
    board.behaviour.insert(0, values(&["6", "2"]));
    board.behaviour.insert(3, values(&["6", "3"]));
    let s = board.standings(&[0, 1, 2, 3], &[]);
    assert_eq!(s[1].returned, 1);
    assert_eq!(s[0].agreement, 1 + 2);
}

#[test]
fn between_equal_agreement_values_beat_errors() {
    // All return False below 2; only the third returns anything above (the others crash).
    let mut board = Board::default();
    let values = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    board
        .behaviour
        .insert(0, values(&["False", "False", "!EOFError", "!EOFError"]));
    board
        .behaviour
        .insert(1, values(&["False", "False", "!TypeError", "!TypeError"]));
    board
        .behaviour
        .insert(2, values(&["False", "False", "True", "False"]));
    let s = board.standings(&[0, 1, 2], &[]);
    let agreement: Vec<u32> = s.iter().map(|s| s.agreement).collect();
    assert_eq!(agreement, [4, 4, 4]);
    assert_eq!(best(&s), Some(2));
}

#[test]
fn between_equal_scores_code_that_loads_wins() {
    // Both fail the only test; the first candidate's code does not even import.
    let mut board = Board::default();
    board.runs.insert((0, 0), report(&[], false));
    board.runs.insert((1, 0), report(&[("a", false)], true));
    let s = board.standings(&[0, 1], &[0]);
    assert_eq!((s[0].score, s[1].score), (0, 0));
    assert_eq!(best(&s), Some(1));
}

#[test]
fn the_tasks_own_examples_rank_before_model_written_tests() {
    // Suite 0 is the model's (candidates 0 and 2 agree on passing it, wrongly); suite 1
    // holds the task's examples, which only candidate 1 passes.
    let mut board = Board::default();
    board.trusted.insert(1);
    board
        .runs
        .insert((0, 0), report(&[("a", true), ("b", true)], true));
    board
        .runs
        .insert((1, 0), report(&[("a", false), ("b", false)], true));
    board
        .runs
        .insert((2, 0), report(&[("a", true), ("b", true)], true));
    board
        .runs
        .insert((0, 1), report(&[("e1", false), ("e2", true)], true));
    board
        .runs
        .insert((1, 1), report(&[("e1", true), ("e2", true)], true));
    board
        .runs
        .insert((2, 1), report(&[("e1", false), ("e2", true)], true));
    let s = board.standings(&[0, 1, 2], &[0, 1]);
    let examples: Vec<u32> = s.iter().map(|s| s.examples).collect();
    assert_eq!(examples, [1, 2, 1]);
    // Dual agreement counts the model's suite only: examples passed in common form no group.
    let scores: Vec<u64> = s.iter().map(|s| s.score).collect();
    assert_eq!(scores, [4, 0, 4]);
    assert_eq!((s[1].passed, s[1].failed), (2, 2));
    assert_eq!(best(&s), Some(1));
    assert_eq!(board.example_tests(), 2);
}
