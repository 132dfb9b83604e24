//! Pagination of lists that grow without bound (docs/conventions.md, "Pagination"):
//! `?limit=` (1–1000, default 100) and `?after=<id of the previous page's last item>`; when
//! more items exist the answer carries `Link: <next page>; rel="next"`.

use crate::rules::Fields;
use axum::http::{HeaderMap, HeaderValue, Uri, header};

/// The largest page.
pub const MAX_LIMIT: u64 = 1000;
/// The page size when none is asked for.
pub const DEFAULT_LIMIT: u64 = 100;

/// Checks `limit` (recording an error in `fields`) and returns the page size.
pub fn limit(fields: &mut Fields, limit: Option<u64>) -> u64 {
    fields.check(
        "limit",
        limit.as_ref(),
        |n| (1..=MAX_LIMIT).contains(n),
        "Enter an integer from 1 to 1000.",
    );
    limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT)
}

/// Trims a page fetched with one extra item to `limit`, and builds the `Link` header of the
/// next page (the same URL with `after` set to the last item's id) when that item existed.
pub fn page<T>(
    uri: &Uri,
    mut items: Vec<T>,
    limit: u64,
    id_of: impl Fn(&T) -> String,
) -> (HeaderMap, Vec<T>) {
    let mut headers = HeaderMap::new();
    if items.len() as u64 > limit {
        items.truncate(limit as usize);
        if let Some(last) = items.last() {
            let mut query: Vec<(String, String)> =
                serde_urlencoded::from_str(uri.query().unwrap_or("")).unwrap_or_default();
            query.retain(|(k, _)| k != "after");
            query.push(("after".into(), id_of(last)));
            let query = serde_urlencoded::to_string(&query).unwrap_or_default();
            let link = format!("<{}?{query}>; rel=\"next\"", uri.path());
            if let Ok(value) = HeaderValue::from_str(&link) {
                headers.insert(header::LINK, value);
            }
        }
    }
    (headers, items)
}
