//! JSON answers rendered once per cached record and then answered from the copy (see
//! [`Rendered`](crate::principal::Rendered)): the forward-auth answer and `/me`, the two
//! endpoints a cached token is presented to over and over.

use crate::error::{AppError, AppResult};
use axum::body::{Body, Bytes};
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::Response;
use serde::Serialize;

/// Headers of a rendered answer, beyond the content type.
pub type Headers = Vec<(HeaderName, HeaderValue)>;

/// Room in a rendered answer's header table for what the middleware adds (`Cache-Control`,
/// `Content-Length`, the two `RateLimit` fields, `X-Request-Id`, a cookie), so that it never
/// grows after the first allocation.
const MIDDLEWARE_HEADERS: usize = 6;

/// A rendered JSON answer: its headers and its body. The headers are kept as a list rather
/// than as a `HeaderMap`: a map sized for them takes about 1.4 KB per cached record, the list
/// about 500 bytes, and filling a fresh map costs no more than copying a kept one (which
/// would grow again for the middleware's headers).
pub struct RenderedJson {
    headers: Box<[(HeaderName, HeaderValue)]>,
    body: Bytes,
}

impl RenderedJson {
    /// Renders `value` (which must serialise to a JSON object) with `headers`; `None` when it
    /// does not serialise, which the caller reports as any failed serialisation is reported.
    pub fn new<T: Serialize>(value: &T, headers: Headers) -> Option<Self> {
        let body = serde_json::to_vec(value).ok()?;
        if body.last() != Some(&b'}') {
            return None;
        }
        Some(Self {
            headers: headers.into_boxed_slice(),
            body: Bytes::from(body),
        })
    }

    /// Bytes held on the heap, for the cache's estimate (`Rendered::ALLOWANCE`).
    pub fn heap_bytes(&self) -> usize {
        self.body.len()
            + self
                .headers
                .iter()
                .map(|(_, v)| size_of::<(HeaderName, HeaderValue)>() + v.len())
                .sum::<usize>()
    }

    /// The answer: the kept headers and a shared body, nothing serialised.
    pub fn response(&self) -> Response {
        self.respond(Body::from(self.body.clone()), 0)
    }

    fn respond(&self, body: Body, more: usize) -> Response {
        let mut response = Response::new(body);
        let headers = response.headers_mut();
        headers.reserve(1 + self.headers.len() + more + MIDDLEWARE_HEADERS);
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        for (name, value) in &self.headers {
            headers.insert(name.clone(), value.clone());
        }
        response
    }

    /// The answer with one more string member at the end of the JSON object and one more
    /// header (the reused JWT of `verify?jwt=true`): what serde would write for a last field
    /// that is present, without serialising the rest again.
    pub fn response_with(&self, member: &str, value: &str, name: HeaderName) -> Response {
        let mut body = Vec::with_capacity(self.body.len() + member.len() + value.len() + 8);
        body.extend_from_slice(&self.body[..self.body.len() - 1]);
        if self.body.len() > 2 {
            body.push(b',');
        }
        json_string(&mut body, member);
        body.push(b':');
        json_string(&mut body, value);
        body.push(b'}');
        let mut response = self.respond(Body::from(body), 1);
        if let Ok(value) = HeaderValue::from_str(value) {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

/// A kept answer, or the 500 of one that did not serialise (no answer type here can fail).
pub fn or_internal(view: &Option<RenderedJson>) -> AppResult<&RenderedJson> {
    view.as_ref()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("a rendered answer did not serialise")))
}

/// Writes `s` as a JSON string. serde_json escapes only `"`, `\\` and control characters, so a
/// string without them (a JWT: base64url and dots) is copied between quotes as it is; serde
/// escapes byte by byte, which for a JWT cost as much as the rest of the answer.
fn json_string(out: &mut Vec<u8>, s: &str) {
    // Checked a chunk at a time without stopping early, so the compiler can use vector
    // instructions: byte by byte, the check cost as much as serde's escaping.
    let plain = s.as_bytes().chunks(64).all(|chunk| {
        !chunk.iter().fold(false, |bad, &b| {
            bad | (b < 0x20) | (b == b'"') | (b == b'\\')
        })
    });
    if plain {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // Writing a `&str` to a `Vec` cannot fail.
        let _ = serde_json::to_writer(out, s);
    }
}

#[cfg(test)]
mod tests {
    use super::RenderedJson;
    use axum::http::{HeaderName, HeaderValue};
    use serde::Serialize;

    #[derive(Serialize)]
    struct Answer<'a> {
        user: &'a str,
        n: i32,
        #[serde(skip_serializing_if = "Option::is_none")]
        jwt: Option<&'a str>,
    }

    async fn body(response: axum::response::Response) -> Vec<u8> {
        axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec()
    }

    #[tokio::test]
    async fn a_member_appended_is_what_serde_writes() {
        let headers = vec![(
            HeaderName::from_static("x-auth-username"),
            HeaderValue::from_static("al\"ice"),
        )];
        let plain = Answer {
            user: "al\"ice",
            n: 7,
            jwt: None,
        };
        let rendered = RenderedJson::new(&plain, headers).unwrap();
        let response = rendered.response();
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(response.headers()["x-auth-username"], "al\"ice");
        assert_eq!(body(response).await, serde_json::to_vec(&plain).unwrap());

        let with = Answer {
            jwt: Some("a.b\\c"),
            ..plain
        };
        let name = HeaderName::from_static("x-auth-jwt");
        let response = rendered.response_with("jwt", "a.b\\c", name);
        assert_eq!(response.headers()["x-auth-jwt"], "a.b\\c");
        assert_eq!(response.headers()["x-auth-username"], "al\"ice");
        assert_eq!(body(response).await, serde_json::to_vec(&with).unwrap());
        // The rendered copy is unchanged.
        assert_eq!(
            body(rendered.response()).await,
            serde_json::to_vec(&plain).unwrap()
        );
    }

    #[test]
    fn strings_are_written_as_serde_writes_them() {
        for s in [
            "eyJhbGciOiJFZERTQSJ9.e30.c2ln",
            "",
            "é ü",
            "a\"b",
            "a\\b",
            "tab\there",
            "\u{1}",
            "\u{7f}",
        ] {
            let mut out = Vec::new();
            super::json_string(&mut out, s);
            assert_eq!(out, serde_json::to_vec(s).unwrap(), "{s:?}");
        }
    }

    /// A session as a browser makes it: a long user agent, an IPv6 address.
    fn principal() -> crate::principal::Principal {
        use crate::principal::*;
        use crate::token::{TokenKind, generate};
        let record = AuthRecord {
            session: SessionInfo {
                id: "5f0c8a4e-8f0e-4f5b-9a57-1f2d3c4b5a69".into(),
                kind: TokenKind::Session,
                device_name: "Firefox on Linux".into(),
                user_agent: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0 (a long one, say 120 bytes)".into(),
                ip: Some("2001:db8:85a3::8a2e:370:7334".into()),
                created: 1_700_000_000_000_000,
                last_used: 1_700_000_060_000_000,
                renewed: 1_700_000_000_000_000,
                expiry: Some(1_700_086_400_000_000),
                authenticated_at: 1_700_000_000_000_000,
                token_hint: "tss_AbCdEfGh".into(),
                name: None,
                scopes: None,
            },
            user: UserInfo {
                id: 123_456,
                username: "alice.example.user".into(),
                is_active: true,
                is_admin: false,
            },
            client: ClientInfo {
                id: 3,
                name: "browser".into(),
                policy: crate::policy::ClientPolicy::default(),
            },
            rate: None,
            retired_until: None,
            rendered: Rendered::default(),
        };
        Principal {
            record: std::sync::Arc::new(record),
            credential: Credential::Authorization,
            digest: generate(TokenKind::Session).digest,
        }
    }

    #[test]
    fn the_cache_allows_for_both_rendered_answers() {
        use crate::principal::Rendered;
        let auth = principal();
        let verify = crate::routes::forward::render_verify(&auth).unwrap();
        let me = crate::routes::auth::render_me(&auth).unwrap();
        // Each behind an `Arc` (two counts) in a `dyn Any` slot.
        let kept =
            |r: &RenderedJson| size_of::<RenderedJson>() + 2 * size_of::<usize>() + r.heap_bytes();
        let total = kept(&verify) + kept(&me);
        assert!(total <= Rendered::ALLOWANCE, "{total} bytes rendered");
        assert!(
            total * 2 > Rendered::ALLOWANCE,
            "{total} bytes: the allowance is far too high"
        );
    }

    #[test]
    fn only_objects_are_rendered() {
        assert!(RenderedJson::new(&[1, 2], Vec::new()).is_none());
        assert!(RenderedJson::new(&"text", Vec::new()).is_none());
    }
}
