//! The web pages (SPEC §4.7, README "For people" and "Admin console"): the account page
//! `/account`, the admin console `/admin`, and their stylesheet and scripts under `/assets/`.
//!
//! The pages are plain HTML with ES modules that call the same JSON API as any program, signed
//! in on the cookie client `TESSERA_ACCOUNT_CLIENT`; nothing is rendered on the server but that
//! client's name (and, on the 403 page, the username). Every file is compiled into the binary.
//! Every answer carries a strict `Content-Security-Policy` (no inline script or style, no
//! framing). These routes are HTML, not API, so they are not in the OpenAPI document.

use crate::authn;
use crate::error::{AppError, AppResult};
use crate::extract::AppPath;
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// The policy of every page and asset: scripts, styles and requests only from this origin, no
/// inline script or style, and no page of another site may frame these.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; frame-ancestors 'none'";

/// Where the server writes the account client's name into the HTML (`<body data-client=…>`).
const CLIENT_PLACEHOLDER: &str = "{{client}}";
/// Where the 403 page names the signed-in person.
const USERNAME_PLACEHOLDER: &str = "{{username}}";

const ACCOUNT_HTML: &str = include_str!("../../assets/account.html");
const ADMIN_HTML: &str = include_str!("../../assets/admin.html");
const FORBIDDEN_HTML: &str = include_str!("../../assets/forbidden.html");

/// A file served under `/assets/`.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

/// Every asset there is; any other name is a 404.
const ASSETS: &[Asset] = &[
    Asset {
        name: "tessera.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../../assets/tessera.css"),
    },
    Asset {
        name: "api.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../assets/api.js"),
    },
    Asset {
        name: "account.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../assets/account.js"),
    },
    Asset {
        name: "admin.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../assets/admin.js"),
    },
];

/// Routes of this module (plain axum routes: they are not part of the JSON API).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account", get(account_page))
        .route("/admin", get(admin_page))
        .route("/assets/{file}", get(asset))
}

/// The headers every page and asset carries; `cache` is its `Cache-Control`.
fn secure(mut res: Response, cache: &'static str) -> Response {
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    res
}

/// An HTML page: never cached, since it may name the signed-in person.
fn html(status: StatusCode, body: String) -> Response {
    let res = (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response();
    secure(res, "no-store")
}

/// `text` safe inside HTML text and quoted attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A page with the account client's name filled in.
fn page(template: &str, state: &AppState) -> String {
    template.replace(
        CLIENT_PLACEHOLDER,
        &escape_html(&state.settings.account_client),
    )
}

/// The account page. Always 200: the script shows the sign-in form when the API answers 401.
async fn account_page(State(state): State<AppState>) -> Response {
    html(StatusCode::OK, page(ACCOUNT_HTML, &state))
}

/// The admin console. A request whose credential (the session cookie) belongs to someone who
/// is not an admin gets the 403 page; without a valid credential, or for an admin, the console,
/// whose script signs in (and shows the same 403 message to a non-admin who signs in there).
async fn admin_page(State(state): State<AppState>, parts: Parts) -> Response {
    if let Ok(principal) = authn::authenticate(&parts, &state).await
        && !principal.user().is_admin
    {
        let body = FORBIDDEN_HTML.replace(
            USERNAME_PLACEHOLDER,
            &escape_html(&principal.user().username),
        );
        return html(StatusCode::FORBIDDEN, body);
    }
    html(StatusCode::OK, page(ADMIN_HTML, &state))
}

/// A stylesheet or script of the pages; an unknown name is the JSON 404 of every unknown path.
async fn asset(AppPath(file): AppPath<String>) -> AppResult<Response> {
    let asset = ASSETS
        .iter()
        .find(|a| a.name == file)
        .ok_or(AppError::NotFound)?;
    let res = ([(header::CONTENT_TYPE, asset.content_type)], asset.body).into_response();
    Ok(secure(res, "public, max-age=300"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_html_would_read_as_markup() {
        assert_eq!(
            escape_html(r#"<b a="1" c='2'>&"#),
            "&lt;b a=&quot;1&quot; c=&#39;2&#39;&gt;&amp;"
        );
        assert_eq!(escape_html("browser"), "browser");
    }

    #[test]
    fn the_pages_carry_their_placeholders() {
        assert!(ACCOUNT_HTML.contains(r#"data-client="{{client}}""#));
        assert!(ADMIN_HTML.contains(r#"data-client="{{client}}""#));
        assert!(FORBIDDEN_HTML.contains(USERNAME_PLACEHOLDER));
    }
}
