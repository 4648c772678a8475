use super::*;

#[test]
fn utf8_split_across_chunks_is_kept_whole() {
    let mut out = CappedOutput::new(1024);
    let bytes = "✓ ok".as_bytes();
    let mut text = String::new();
    for b in bytes {
        text.push_str(&out.push(std::slice::from_ref(b)).unwrap_or_default());
    }
    assert_eq!(text, "✓ ok");
}
