//! A small reader of the pages' own HTML (start tags and their attributes; enough for markup we
//! write ourselves, no crate needed) and the rules every page must keep: nothing inline that the
//! CSP would block, every form control labelled, every table captioned, ids unique.

use std::collections::{BTreeMap, BTreeSet};

/// One start tag: its lower-case name and attributes (names lower-case; `None` for a bare one).
#[derive(Debug)]
pub(super) struct Tag {
    pub(super) name: String,
    pub(super) attrs: Vec<(String, Option<String>)>,
}

impl Tag {
    pub(super) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_deref().unwrap_or(""))
    }
}

/// The start tags of `html`, in order (comments, doctype and end tags skipped).
pub(super) fn tags(html: &str) -> Vec<Tag> {
    let b = html.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(off) = html[i..].find('<') {
        i += off + 1;
        if html[i..].starts_with("!--") {
            i += html[i..].find("-->").map_or(html.len() - i, |e| e + 3);
            continue;
        }
        if i >= b.len() || !b[i].is_ascii_alphabetic() {
            continue;
        }
        let start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'-') {
            i += 1;
        }
        let name = html[start..i].to_ascii_lowercase();
        let mut attrs = Vec::new();
        loop {
            while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
                i += 1;
            }
            if i >= b.len() || b[i] == b'>' {
                break;
            }
            let start = i;
            while i < b.len() && !b[i].is_ascii_whitespace() && !b"=>/".contains(&b[i]) {
                i += 1;
            }
            let attr = html[start..i].to_ascii_lowercase();
            let mut value = None;
            if i < b.len() && b[i] == b'=' {
                i += 1;
                if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                    let quote = b[i] as char;
                    let end = html[i + 1..].find(quote).map_or(b.len(), |e| i + 1 + e);
                    value = Some(html[i + 1..end].to_string());
                    i = (end + 1).min(b.len());
                } else {
                    let start = i;
                    while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                        i += 1;
                    }
                    value = Some(html[start..i].to_string());
                }
            }
            attrs.push((attr, value));
        }
        out.push(Tag { name, attrs });
    }
    out
}

/// Script elements with content, and `<style>` elements: what `default-src 'self'` blocks.
fn inline_code(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let mut problems = Vec::new();
    let mut at = 0;
    while let Some(off) = lower[at..].find("<script") {
        let open = at + off;
        let Some(gt) = lower[open..].find('>').map(|g| open + g + 1) else {
            break;
        };
        let close = lower[gt..]
            .find("</script>")
            .map_or(lower.len(), |c| gt + c);
        if !lower[gt..close].trim().is_empty() {
            problems.push(format!(
                "inline script: {}",
                &html[open..close.min(open + 80)]
            ));
        }
        at = close;
    }
    if lower.contains("<style") {
        problems.push("a <style> element".into());
    }
    problems
}

/// Everything `html` does against the rules of the pages; empty when it keeps them all.
pub(super) fn problems(html: &str) -> Vec<String> {
    let tags = tags(html);
    let mut problems = inline_code(html);
    let mut ids = BTreeMap::<&str, usize>::new();
    let labelled: BTreeSet<&str> = tags
        .iter()
        .filter(|t| t.name == "label")
        .filter_map(|t| t.attr("for"))
        .collect();
    let mut uncaptioned_table = false;
    for tag in &tags {
        for (name, value) in &tag.attrs {
            let value = value.as_deref().unwrap_or("");
            if name == "style" {
                problems.push(format!("style attribute on <{}>", tag.name));
            }
            if name.starts_with("on") {
                problems.push(format!("event handler {name} on <{}>", tag.name));
            }
            if value.trim().to_ascii_lowercase().starts_with("javascript:") {
                problems.push(format!("javascript: URL in {name} of <{}>", tag.name));
            }
            if name == "id" {
                *ids.entry(value).or_default() += 1;
            }
        }
        match tag.name.as_str() {
            "script" if tag.attr("src").is_none() => {
                problems.push("a <script> without src".into());
            }
            "input" | "select" | "textarea" => {
                let kind = tag.attr("type").unwrap_or("text").to_ascii_lowercase();
                if ["hidden", "submit", "button", "reset", "image"].contains(&kind.as_str()) {
                    continue;
                }
                match tag.attr("id") {
                    Some(id) if labelled.contains(id) => {}
                    Some(id) => problems.push(format!("<{} id={id}> has no <label for>", tag.name)),
                    None => problems.push(format!("<{}> without an id: {:?}", tag.name, tag.attrs)),
                }
            }
            "button" if tag.attr("type").is_none() => {
                problems.push(format!("<button> without a type: {:?}", tag.attrs));
            }
            "table" => {
                if uncaptioned_table {
                    problems.push("a <table> without a <caption>".into());
                }
                uncaptioned_table = true;
            }
            "caption" => uncaptioned_table = false,
            "html" if tag.attr("lang").is_none() => problems.push("<html> without lang".into()),
            _ => {}
        }
    }
    if uncaptioned_table {
        problems.push("a <table> without a <caption>".into());
    }
    for (id, n) in ids {
        if n > 1 {
            problems.push(format!("id {id} is used {n} times"));
        }
    }
    problems
}

/// The reader itself, on markup that breaks every rule (so a rule cannot pass by not looking).
#[test]
fn the_rules_catch_what_they_are_for() {
    let bad = r#"<html><body>
        <script>alert(1)</script><style>p{}</style>
        <p style="color:red" onclick="x()"><a href="javascript:void(0)">x</a></p>
        <input id="a"><input name="b"><select id="c"></select><input type="hidden" name="d">
        <label for="e">E</label><textarea id="e"></textarea>
        <table><tr><td>1</td></tr></table><button>Go</button><i id="e"></i>
    </body></html>"#;
    let found = problems(bad).join("\n");
    for expected in [
        "inline script",
        "a <style> element",
        "style attribute on <p>",
        "event handler onclick",
        "javascript: URL",
        "<input id=a> has no <label for>",
        "<input> without an id",
        "<select id=c> has no <label for>",
        "a <table> without a <caption>",
        "<button> without a type",
        "<html> without lang",
        "id e is used 2 times",
        "a <script> without src",
    ] {
        assert!(found.contains(expected), "missed {expected:?} in:\n{found}");
    }
    assert!(!found.contains("textarea"), "{found}");
    assert!(!found.contains("hidden"), "{found}");
    let good = r#"<html lang="en"><head><script type="module" src="/assets/a.js"></script></head>
        <body><label for="x">X</label><input id="x" type="text" required>
        <table><caption>T</caption></table><button type="button">B</button></body></html>"#;
    assert_eq!(problems(good), Vec::<String>::new());
}
