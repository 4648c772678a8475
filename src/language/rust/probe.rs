//! Rust's plain probes: values of the types a signature names.

/// The arguments of calls of a Rust function on values of its parameters' types
/// (`max_of_slice(numbers: &[i32])` → `&[]`, `&[3, 1, 2]`…), the parameters' values taken in
/// step at different strides so that pairs vary. Empty when a parameter's type is not one of
/// the plain ones (numbers, `bool`, `char`, strings, and slices and vectors of those).
pub(super) fn arguments(signature: &str) -> Vec<String> {
    let Some(params) = rust_params(signature) else {
        return Vec::new();
    };
    let Some(values) = params
        .iter()
        .map(|p| rust_values(p))
        .collect::<Option<Vec<Vec<String>>>>()
    else {
        return Vec::new();
    };
    let count = values.iter().map(Vec::len).max().unwrap_or(1).max(6);
    let mut out: Vec<String> = Vec::new();
    for i in 0..count {
        let args: Vec<&str> = values
            .iter()
            .enumerate()
            .map(|(p, v)| v[(i * (p + 1)) % v.len()].as_str())
            .collect();
        let args = args.join(", ");
        if !out.contains(&args) {
            out.push(args);
        }
    }
    out
}

/// The parameter types of a Rust signature (`add(a: i32, b: i32) -> i32` → `i32`, `i32`),
/// split at the commas outside `<…>`, `[…]` and `(…)`; `None` when a parameter has no type
/// (`self`).
fn rust_params(signature: &str) -> Option<Vec<String>> {
    let (_, rest) = signature.split_once('(')?;
    let mut depth = 0usize;
    let mut inside = String::new();
    for c in rest.chars() {
        match c {
            '(' | '[' | '<' => depth += 1,
            ')' if depth == 0 => break,
            ')' | ']' | '>' => depth = depth.saturating_sub(1),
            _ => {}
        }
        inside.push(if c == ',' && depth == 0 { '\n' } else { c });
    }
    inside
        .lines()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once(':').map(|(_, t)| t.trim().to_owned()))
        .collect()
}

/// Literal values of a Rust parameter type; `None` for a type without plain values.
fn rust_values(ty: &str) -> Option<Vec<String>> {
    let ty: String = ty.split_whitespace().collect::<Vec<_>>().join(" ");
    let ty = ty.replace("'static ", "").replace("'a ", "");
    if let Some(values) = scalar_values(&ty) {
        return Some(values.iter().map(|v| literal(v, &ty)).collect());
    }
    let (open, element) = if let Some(e) = ty.strip_prefix("&[").and_then(|t| t.strip_suffix(']')) {
        ("&[", e)
    } else if let Some(e) = ty.strip_prefix("&Vec<").and_then(|t| t.strip_suffix('>')) {
        ("&vec![", e)
    } else if let Some(e) = ty.strip_prefix("Vec<").and_then(|t| t.strip_suffix('>')) {
        ("vec![", e)
    } else {
        return None;
    };
    let element = element.trim();
    let lists: &[&[&str]] = match element {
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => &[
            &[],
            &["5"],
            &["3", "1", "2"],
            &["-4", "0", "4", "4"],
            &["1", "2", "3", "4", "5"],
        ],
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => &[
            &[],
            &["5"],
            &["3", "1", "2"],
            &["4", "0", "4", "4"],
            &["1", "2", "3", "4", "5"],
        ],
        "f32" | "f64" => &[&[], &["1.5"], &["3.0", "1.0", "2.5"]],
        "bool" => &[&[], &["true"], &["true", "false", "true"]],
        "&str" | "String" => &[&[], &["a"], &["abc", "a", "b"], &["hello", "world"]],
        _ => return None,
    };
    Some(
        lists
            .iter()
            .map(|l| {
                let items: Vec<String> = l.iter().map(|v| literal(v, element)).collect();
                format!("{open}{}]", items.join(", "))
            })
            .collect(),
    )
}

/// The plain values of a scalar Rust type (strings unquoted); `None` for another type.
fn scalar_values(ty: &str) -> Option<&'static [&'static str]> {
    Some(match ty {
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => &["0", "1", "2", "7", "-3", "10", "100"],
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => &["0", "1", "2", "7", "10", "100"],
        "f32" | "f64" => &["0.0", "1.5", "-2.5", "10.0"],
        "bool" => &["true", "false"],
        "char" => &["'a'", "'Z'", "'5'", "' '"],
        "&str" | "String" | "&String" => &["", "a", "abc", "Hello World", "racecar"],
        _ => return None,
    })
}

/// `value` written as a literal of type `ty`: strings quoted (`"a"`, `String::from("a")`,
/// `&String::from("a")`), anything else as it is.
fn literal(value: &str, ty: &str) -> String {
    match ty {
        "&str" => format!("{value:?}"),
        "String" => format!("String::from({value:?})"),
        "&String" => format!("&String::from({value:?})"),
        _ => value.to_owned(),
    }
}
