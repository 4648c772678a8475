//! Naming a workflow: the `veryfast` tier is asked with a few-shot prompt, its reply cleaned into
//! a safe slug (`workflow::name` says what one is), made unique, and made from the
//! description's keywords when the model can't help.

use crate::provider::Message;
#[cfg(test)]
use crate::workflow::name::is_valid;
use crate::workflow::name::{MAX_LEN, MAX_WORDS, MIN_WORDS};
use std::collections::HashSet;

/// Enough tokens for five words and a little chatter.
pub const MAX_TOKENS: u32 = 24;

const EXAMPLES: [(&str, &str); 4] = [
    (
        "write a function to validate email addresses",
        "email-validation-function",
    ),
    (
        "create a REST API client for GitHub",
        "github-rest-api-client",
    ),
    (
        "parse a csv file and sum the second column",
        "csv-column-sum",
    ),
    ("a node script that resizes images", "image-resizer-script"),
];

/// The few-shot chat that asks for a name.
pub fn prompt(description: &str) -> Vec<Message> {
    let mut messages = vec![Message::system(
        "You name programming tasks. Answer with only the name: 2 to 5 lowercase English words \
         joined by hyphens, no other text.",
    )];
    for (task, name) in EXAMPLES {
        messages.push(Message::user(format!("Task: {task}")));
        messages.push(Message::assistant(name));
    }
    messages.push(Message::user(format!("Task: {}", one_line(description))));
    messages
}

fn one_line(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    flat.chars().take(500).collect()
}

/// Turns a model's reply into a usable name, or says why it is not one.
pub fn clean_reply(reply: &str) -> Result<String, String> {
    let line = reply
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .ok_or_else(|| "the model answered nothing".to_owned())?;
    // Small models like to echo the prompt's framing: "Name: foo-bar".
    let line = ["name:", "task name:", "workflow name:", "answer:"]
        .iter()
        .find_map(|p| {
            line.get(..p.len())
                .filter(|head| head.eq_ignore_ascii_case(p))
                .map(|_| &line[p.len()..])
        })
        .unwrap_or(line);
    let words = slug_words(line);
    if words.len() < MIN_WORDS {
        return Err(format!(
            "the model's answer {:?} is not a name",
            shorten(reply)
        ));
    }
    if words.iter().any(|w| w.len() > 20) {
        return Err(format!(
            "the model's answer {:?} is not a name",
            shorten(reply)
        ));
    }
    Ok(join_limited(&words))
}

fn shorten(text: &str) -> String {
    let flat = one_line(text);
    if flat.chars().count() > 40 {
        format!("{}…", flat.chars().take(40).collect::<String>())
    } else {
        flat
    }
}

/// Lowercase ASCII words of `text`; anything else separates words.
fn slug_words(text: &str) -> Vec<String> {
    // Control sequences go first, so a title sequence's payload never becomes part of a name.
    crate::sanitize::strip(text)
        .to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Joins at most [`MAX_WORDS`] words with `-`, dropping whole words past [`MAX_LEN`].
fn join_limited(words: &[String]) -> String {
    let mut name = String::new();
    for word in words.iter().take(MAX_WORDS) {
        let extra = if name.is_empty() {
            word.len()
        } else {
            word.len() + 1
        };
        if name.len() + extra > MAX_LEN {
            break;
        }
        if !name.is_empty() {
            name.push('-');
        }
        name.push_str(word);
    }
    if name.is_empty() {
        // A single word longer than the limit: cut it.
        name = words
            .first()
            .map(|w| w[..w.len().min(MAX_LEN)].to_owned())
            .unwrap_or_default();
    }
    name
}

const STOPWORDS: &[&str] = &[
    "a",
    "an",
    "the",
    "to",
    "for",
    "of",
    "in",
    "on",
    "at",
    "by",
    "with",
    "from",
    "into",
    "and",
    "or",
    "that",
    "which",
    "who",
    "it",
    "its",
    "is",
    "are",
    "be",
    "as",
    "me",
    "my",
    "i",
    "we",
    "our",
    "you",
    "your",
    "some",
    "this",
    "these",
    "those",
    "please",
    "can",
    "could",
    "would",
    "should",
    "will",
    "using",
    "use",
    "write",
    "create",
    "make",
    "build",
    "implement",
    "generate",
    "code",
    "function",
    "functions",
    "program",
    "script",
    "simple",
    "small",
    "new",
    "given",
    "then",
    "so",
    "all",
    "each",
    "any",
];

/// A name from the description's keywords: "write a function to validate email addresses" →
/// `validate-email-addresses`.
pub fn fallback(description: &str) -> String {
    let words = slug_words(description);
    let mut keywords: Vec<String> = words
        .iter()
        .filter(|w| !STOPWORDS.contains(&w.as_str()) && w.len() <= 20)
        .take(4)
        .cloned()
        .collect();
    if keywords.is_empty() {
        keywords.push("unnamed".into());
    }
    if keywords.len() < MIN_WORDS {
        keywords.push("task".into());
    }
    join_limited(&keywords)
}

/// The names in use; hands out `-2`, `-3`… for repeats.
#[derive(Debug, Default)]
pub struct NameRegistry {
    taken: HashSet<String>,
}

impl NameRegistry {
    /// Reserves `name`, or the first free `name-N`, and returns what was reserved.
    pub fn reserve(&mut self, name: &str) -> String {
        if self.taken.insert(name.to_owned()) {
            return name.to_owned();
        }
        for n in 2.. {
            let suffix = format!("-{n}");
            let mut base = name.to_owned();
            base.truncate(MAX_LEN - suffix.len());
            let base = base.trim_end_matches('-');
            let candidate = format!("{base}{suffix}");
            if self.taken.insert(candidate.clone()) {
                return candidate;
            }
        }
        unreachable!("the integers ran out")
    }

    /// Marks a name as taken without changing it (names found in history).
    pub fn insert(&mut self, name: &str) {
        self.taken.insert(name.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_reply_accepts_plain_names() {
        assert_eq!(
            clean_reply("email-validator").as_deref(),
            Ok("email-validator")
        );
        assert_eq!(
            clean_reply("  Github REST client\n").as_deref(),
            Ok("github-rest-client")
        );
    }

    #[test]
    fn control_sequences_leave_nothing_in_a_name() {
        assert_eq!(
            clean_reply("\x1b]0;pwned title\x07\x1b[2J\x1b(Bmax of list").as_deref(),
            Ok("max-of-list")
        );
        assert_eq!(
            fallback("\x1b]0;pwned\x07validate email addresses"),
            "validate-email-addresses"
        );
    }

    #[test]
    fn clean_reply_strips_quotes_prefixes_and_junk() {
        assert_eq!(clean_reply("\"csv-sum\"").as_deref(), Ok("csv-sum"));
        assert_eq!(
            clean_reply("Name: `json_parser`").as_deref(),
            Ok("json-parser")
        );
        assert_eq!(
            clean_reply("\n\nimage-resizer\nThis name describes...").as_deref(),
            Ok("image-resizer")
        );
        assert_eq!(
            clean_reply("Émail—validator!").as_deref(),
            Ok("mail-validator")
        );
    }

    #[test]
    fn clean_reply_limits_words_and_length() {
        let long = clean_reply("one-two-three-four-five-six-seven").unwrap_or_default();
        assert_eq!(long, "one-two-three-four-five");
        let wide =
            clean_reply("abcdefghijklmnop-abcdefghijklmnop-abcdefghijklmnop").unwrap_or_default();
        assert!(wide.len() <= MAX_LEN, "{wide}");
        assert!(is_valid(&wide));
    }

    #[test]
    fn clean_reply_rejects_non_names() {
        assert!(clean_reply("").is_err());
        assert!(clean_reply("   \n ").is_err());
        assert!(clean_reply("ok").is_err());
        assert!(clean_reply("!!!").is_err());
        assert!(clean_reply("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa bbb").is_err());
    }

    #[test]
    fn fallback_uses_keywords() {
        assert_eq!(
            fallback("write a function to validate email addresses"),
            "validate-email-addresses"
        );
        assert_eq!(
            fallback("create a REST API client for GitHub"),
            "rest-api-client-github"
        );
        assert_eq!(fallback("sort"), "sort-task");
        assert_eq!(fallback("   "), "unnamed-task");
        assert_eq!(fallback("\x1b[31m; rm -rf / && echo"), "rm-rf-echo");
        for d in ["日本語のテキスト", "a b c", "x".repeat(300).as_str()] {
            assert!(is_valid(&fallback(d)), "{d} -> {}", fallback(d));
        }
    }

    #[test]
    fn registry_makes_repeats_unique() {
        let mut reg = NameRegistry::default();
        assert_eq!(reg.reserve("csv-sum"), "csv-sum");
        assert_eq!(reg.reserve("csv-sum"), "csv-sum-2");
        assert_eq!(reg.reserve("csv-sum"), "csv-sum-3");
        let long = "a".repeat(20) + "-" + &"b".repeat(19);
        assert_eq!(long.len(), 40);
        assert_eq!(reg.reserve(&long), long);
        let second = reg.reserve(&long);
        assert!(
            second.len() <= MAX_LEN && second.ends_with("-2"),
            "{second}"
        );
        assert!(is_valid(&second));
    }

    #[test]
    fn prompt_is_few_shot_and_ends_with_the_task() {
        let msgs = prompt("build a\nREST   client");
        assert!(msgs.len() >= 4);
        assert_eq!(
            msgs.last().map(|m| m.content.as_str()),
            Some("Task: build a REST client")
        );
    }
}
