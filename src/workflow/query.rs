//! Finding a workflow by what a user types: its id, its counter or its name.

use super::Workflow;
use std::fmt;

/// No workflow answers to a query; the message says what a query can be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoMatch(pub String);

impl fmt::Display for NoMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no workflow matches {:?}: use an id, wf_N, N or a name",
            self.0
        )
    }
}

impl std::error::Error for NoMatch {}

/// The workflow `query` names: its full id, `wf_N` or `N` (its counter), or its name, in that
/// order of precedence.
pub fn find<'a>(query: &str, workflows: &'a [Workflow]) -> Result<&'a Workflow, NoMatch> {
    let seq = query
        .strip_prefix("wf_")
        .unwrap_or(query)
        .parse::<u64>()
        .ok();
    workflows
        .iter()
        .find(|w| w.id.as_str() == query)
        .or_else(|| seq.and_then(|n| workflows.iter().find(|w| w.id.seq() == n)))
        .or_else(|| workflows.iter().find(|w| w.name.as_deref() == Some(query)))
        .ok_or_else(|| NoMatch(query.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::WorkflowId;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn find_by_id_seq_and_name() {
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut a = Workflow::new(WorkflowId::new(1, t), "a".into(), t);
        a.name = Some("csv-sum".into());
        let b = Workflow::new(WorkflowId::new(12, t), "b".into(), t);
        let all = vec![a, b];
        let seq = |q: &str| find(q, &all).map(|w| w.id.seq());
        assert_eq!(seq("wf_1_1700000000"), Ok(1));
        assert_eq!(seq("wf_12"), Ok(12));
        assert_eq!(seq("12"), Ok(12));
        assert_eq!(seq("csv-sum"), Ok(1));
        assert_eq!(
            seq("nope").map_err(|e| e.to_string()),
            Err("no workflow matches \"nope\": use an id, wf_N, N or a name".to_owned())
        );
        assert!(seq("7").is_err());
    }
}
