//! JWT access tokens for services downstream of Tessera (docs/tokens.md, "JWT access
//! tokens"): minted for an authenticated principal, from `verify?jwt=true` (which may hand the
//! same one out again for half its life, so minting does not cost every request) and from
//! `POST /api/auth/token` (always fresh).

use super::keys;
use crate::clock::SECOND;
use crate::error::{AppError, AppResult};
use crate::jwt::Claims;
use crate::keyring::Minted;
use crate::principal::Principal;
use crate::state::AppState;
use std::sync::Arc;

/// Whether an earlier JWT of the same session may be handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reuse {
    /// `verify?jwt=true`: an earlier one within half its lifetime will do.
    Allowed,
    /// `POST /api/auth/token`: a fresh one every time.
    Never,
}

/// A JWT for the principal's session: `exp` is now + `TESSERA_JWT_TTL`, never past the
/// session's expiry.
pub async fn mint(state: &AppState, principal: &Principal, reuse: Reuse) -> AppResult<Arc<Minted>> {
    // Borrowed from the loaded ring: nothing is copied on the path that reuses a JWT.
    let loaded = keys::loaded(state).await?;
    let signer = loaded.signer.as_ref().ok_or(AppError::Unavailable)?;
    let now = state.now();
    let session = principal.session();
    let auth_time = session.authenticated_at.div_euclid(SECOND);
    if reuse == Reuse::Allowed
        && let Some(kept) = state.keys.minted(&session.id)
        && kept.reusable(now, &signer.kid, auth_time)
    {
        return Ok(kept);
    }
    let iat = now.div_euclid(SECOND);
    let mut exp = iat.saturating_add(state.settings.jwt_ttl);
    if let Some(expiry) = session.expiry {
        exp = exp.min(expiry.div_euclid(SECOND));
    }
    let user = principal.user();
    let claims = Claims {
        iss: state.settings.jwt_issuer.clone(),
        sub: user.id.to_string(),
        aud: state.settings.jwt_audience.clone(),
        exp,
        iat,
        jti: uuid::Uuid::new_v4().simple().to_string(),
        client_id: principal.client().name.clone(),
        sid: session.id.clone(),
        username: user.username.clone(),
        auth_time,
        scope: session.scopes.as_ref().map(|held| held.join(" ")),
    };
    let token = signer
        .sign(&claims)
        .map_err(|err| AppError::Internal(anyhow::anyhow!("signing a JWT: {err}")))?;
    let minted = Arc::new(Minted {
        token,
        kid: signer.kid.clone(),
        iat,
        exp,
        auth_time,
    });
    if reuse == Reuse::Allowed {
        state.keys.keep(&session.id, minted.clone());
    }
    Ok(minted)
}
