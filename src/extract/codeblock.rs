//! Takes code out of a model's reply: its fenced blocks, or the whole reply when it has none.

/// One fenced block: its info string (often a language) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub info: String,
    pub code: String,
}

/// Every complete fenced block (```` ``` ```` or `~~~`), in order. An unclosed last fence counts:
/// small models often stop before closing it.
pub fn blocks(reply: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<(String, String, String)> = None; // (fence, info, code)
    for line in reply.lines() {
        let trimmed = line.trim_start();
        match &mut open {
            None => {
                if let Some(fence) = fence_of(trimmed) {
                    let info = trimmed[fence.len()..].trim().to_owned();
                    open = Some((fence, info, String::new()));
                }
            }
            Some((fence, info, code)) => {
                if trimmed.starts_with(fence.as_str()) && trimmed[fence.len()..].trim().is_empty() {
                    out.push(Block {
                        info: std::mem::take(info),
                        code: std::mem::take(code),
                    });
                    open = None;
                } else {
                    code.push_str(line);
                    code.push('\n');
                }
            }
        }
    }
    if let Some((_, info, code)) = open
        && !code.trim().is_empty()
    {
        out.push(Block { info, code });
    }
    out
}

/// The fence a line opens or closes: three or more backticks or tildes.
pub(crate) fn fence_of(line: &str) -> Option<String> {
    for ch in ['`', '~'] {
        let n = line.chars().take_while(|c| *c == ch).count();
        if n >= 3 {
            return Some(std::iter::repeat_n(ch, n).collect());
        }
    }
    None
}

/// The code of a reply as a person copying it would take it: its first non-empty fenced block,
/// else the reply itself. The pipeline reads replies with `extract`; this is the plain
/// baseline `flotilla eval` compares it with.
pub fn first_code(reply: &str) -> Option<Block> {
    let found = blocks(reply)
        .into_iter()
        .find(|b| !b.code.trim().is_empty());
    match found {
        Some(b) => Some(b),
        None if reply.trim().is_empty() => None,
        None => Some(Block {
            info: String::new(),
            code: format!("{}\n", reply.trim_end()),
        }),
    }
}

/// A file extension for a fence's info string, if it names a language flotilla knows.
pub fn extension(info: &str) -> Option<&'static str> {
    let lang = info
        .split(|c: char| c.is_whitespace() || c == ',' || c == '{')
        .next()?
        .to_ascii_lowercase();
    Some(match lang.as_str() {
        "python" | "py" | "python3" => "py",
        "javascript" | "js" | "node" | "nodejs" | "mjs" => "js",
        "typescript" | "ts" => "ts",
        "rust" | "rs" => "rs",
        "go" | "golang" => "go",
        "c" => "c",
        "cpp" | "c++" | "cxx" => "cpp",
        "java" => "java",
        "ruby" | "rb" => "rb",
        "bash" | "sh" | "shell" => "sh",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_the_first_fenced_block() {
        let reply = "Here:\n```python\ndef f():\n    return 1\n```\nUsage:\n```\nf()\n```\n";
        let b = first_code(reply).unwrap_or_else(|| panic!("no block"));
        assert_eq!(b.info, "python");
        assert_eq!(b.code, "def f():\n    return 1\n");
    }

    #[test]
    fn unclosed_fence_and_tildes_count() {
        let b = blocks("~~~rust\nfn main() {}\n~~~\n```js\nconsole.log(1)\n");
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].code, "fn main() {}\n");
        assert_eq!(b[1].info, "js");
    }

    #[test]
    fn longer_fences_hold_shorter_ones() {
        let b = blocks("````md\n```py\nx\n```\n````\n");
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].code, "```py\nx\n```\n");
    }

    #[test]
    fn no_fence_means_the_whole_reply() {
        assert_eq!(
            first_code("def f(): pass").map(|b| b.code),
            Some("def f(): pass\n".into())
        );
        assert_eq!(first_code("  \n"), None);
        assert_eq!(
            first_code("```\n\n```"),
            Some(Block {
                info: String::new(),
                code: "```\n\n```\n".into()
            })
        );
    }

    #[test]
    fn extensions_from_info_strings() {
        assert_eq!(extension("Python"), Some("py"));
        assert_eq!(extension("rust,ignore"), Some("rs"));
        assert_eq!(extension("js {.line-numbers}"), Some("js"));
        assert_eq!(extension(""), None);
        assert_eq!(extension("../../etc/passwd"), None);
    }
}
