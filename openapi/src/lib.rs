//! Renders Tessera's OpenAPI document as committed in `openapi/openapi.json`.

/// The document as pretty JSON with a trailing newline.
pub fn render() -> String {
    let doc = server::openapi();
    let mut json = serde_json::to_string_pretty(&doc).expect("the OpenAPI document serialises");
    json.push('\n');
    json
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_document_matches_the_handlers() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == super::render(),
            "openapi/openapi.json is out of date: run `cargo run -p openapi` and commit it"
        );
    }
}
