//! Queries on `sessions`: issue, renewal, revocation and listings (the authentication read is
//! in [`super::auth`]).

use crate::token::{TokenDigest, TokenKind};
use entity::{client, session, user};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

/// A session about to be created.
#[derive(Debug)]
pub struct NewSession {
    pub kind: TokenKind,
    pub user_id: i32,
    pub client_id: i32,
    pub device_name: String,
    pub user_agent: String,
    pub ip: Option<String>,
    pub expiry: Option<i64>,
    pub digest: TokenDigest,
    pub hint: String,
    /// An API key's name (`None` for sessions).
    pub name: Option<String>,
    /// An API key's stored scopes (`None` = unrestricted, and for sessions).
    pub scopes: Option<String>,
}

/// Inserts a session created at `now`.
pub async fn insert(
    db: &impl ConnectionTrait,
    new: NewSession,
    now: i64,
) -> Result<session::Model, DbErr> {
    let model = session::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        kind: Set(new.kind.as_str().to_string()),
        user_id: Set(new.user_id),
        client_id: Set(new.client_id),
        device_name: Set(new.device_name),
        user_agent: Set(new.user_agent),
        ip: Set(new.ip),
        created: Set(now),
        last_used: Set(now),
        renewed: Set(now),
        expiry: Set(new.expiry),
        authenticated_at: Set(now),
        token_digest: Set(new.digest.as_str().to_string()),
        token_hint: Set(new.hint),
        previous_digest: Set(None),
        previous_until: Set(None),
        rotated_token: Set(None),
        name: Set(new.name),
        scopes: Set(new.scopes),
    };
    session::Entity::insert(model).exec_with_returning(db).await
}

/// Records a use at `now`, and a renewal to `renew_to` when given. Returns whether the
/// session still existed.
pub async fn touch(
    db: &impl ConnectionTrait,
    id: &str,
    now: i64,
    renew_to: Option<Option<i64>>,
) -> Result<bool, DbErr> {
    let mut update = session::Entity::update_many()
        .col_expr(session::Column::LastUsed, now.into())
        .filter(session::Column::Id.eq(id));
    if let Some(expiry) = renew_to {
        update = update
            .col_expr(session::Column::Expiry, expiry.into())
            .col_expr(session::Column::Renewed, now.into());
    }
    Ok(update.exec(db).await?.rows_affected > 0)
}

/// Deletes the session whose token has this digest; returns its id when there was one.
pub async fn delete_by_digest(
    db: &impl ConnectionTrait,
    digest: &TokenDigest,
) -> Result<Option<String>, DbErr> {
    let id: Option<String> = session::Entity::find()
        .select_only()
        .column(session::Column::Id)
        .filter(session::Column::TokenDigest.eq(digest.as_str()))
        .into_tuple()
        .one(db)
        .await?;
    if let Some(id) = &id {
        delete(db, id).await?;
    }
    Ok(id)
}

/// Deletes one session; returns whether it existed.
pub async fn delete(db: &impl ConnectionTrait, id: &str) -> Result<bool, DbErr> {
    Ok(session::Entity::delete_by_id(id.to_string())
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

/// Which of a user's sessions a bulk revocation ends.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// Sessions and API keys.
    All,
    /// Sessions only (API keys are kept).
    SessionsOnly,
    /// Sessions other than this one (API keys are kept).
    SessionsExcept(&'a str),
}

/// Deletes a user's sessions in `scope` and returns how many of them were live; expired ones
/// in scope go too, uncounted, since they had already ended.
pub async fn delete_for_user(
    db: &impl ConnectionTrait,
    user_id: i32,
    scope: Scope<'_>,
    now: i64,
) -> Result<u64, DbErr> {
    let mut cond = Condition::all().add(session::Column::UserId.eq(user_id));
    match scope {
        Scope::All => {}
        Scope::SessionsOnly => {
            cond = cond.add(session::Column::Kind.eq(TokenKind::Session.as_str()))
        }
        Scope::SessionsExcept(id) => {
            cond = cond
                .add(session::Column::Kind.eq(TokenKind::Session.as_str()))
                .add(session::Column::Id.ne(id));
        }
    }
    let live_rows = session::Entity::delete_many()
        .filter(cond.clone())
        .filter(live(now))
        .exec(db)
        .await?;
    session::Entity::delete_many().filter(cond).exec(db).await?;
    Ok(live_rows.rows_affected)
}

pub(super) fn live(now: i64) -> Condition {
    Condition::all()
        .add(
            Condition::any()
                .add(session::Column::Expiry.is_null())
                .add(session::Column::Expiry.gt(now)),
        )
        .add(Expr::cust(format!("NOT {}", idle_sql(now))))
}

/// SQL that is true for a session idle past its client's `idle_timeout` by its stored
/// `last_used`, plus the 60 s by which that column may lag the real last use and 5 s for
/// queued writes to arrive (so what the database calls idle is idle everywhere). `now` is an integer, so formatting it in is safe.
fn idle_sql(now: i64) -> String {
    format!(
        r#"EXISTS (SELECT 1 FROM "clients" WHERE "clients"."id" = "sessions"."client_id" AND "clients"."idle_timeout" IS NOT NULL AND "sessions"."last_used" + "clients"."idle_timeout" * {SECOND} + {lag} < {now})"#,
        SECOND = crate::clock::SECOND,
        lag = crate::policy::LAST_USED_GRANULARITY + 5 * crate::clock::SECOND,
    )
}

/// Records a fresh password proof (re-authentication, password change) for a session.
pub async fn set_authenticated_at(
    db: &impl ConnectionTrait,
    id: &str,
    at: i64,
) -> Result<bool, DbErr> {
    let res = session::Entity::update_many()
        .col_expr(session::Column::AuthenticatedAt, at.into())
        .filter(session::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

/// A user's live sessions of the given kinds with their client names, most recently used first.
pub async fn list_for_user(
    db: &impl ConnectionTrait,
    user_id: i32,
    kinds: &[TokenKind],
    now: i64,
) -> Result<Vec<(session::Model, String)>, DbErr> {
    let rows = session::Entity::find()
        .find_also_related(client::Entity)
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::Kind.is_in(kinds.iter().map(|k| k.as_str())))
        .filter(live(now))
        .order_by_desc(session::Column::LastUsed)
        .order_by_desc(session::Column::Created)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(s, c)| (s, c.map(|c| c.name).unwrap_or_default()))
        .collect())
}

/// Filters of the admin listing of every session.
#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    pub client_id: Option<i32>,
    pub user_id: Option<i32>,
    pub kind: Option<TokenKind>,
}

/// One row of the admin listing: the session, its client name and its username.
pub type ListedSession = (session::Model, String, String);

/// Live sessions matching `filter`, newest first (ties by id), after the position `after`
/// (`(created, id)` of the previous page's last row), at most `limit`.
pub async fn list_all(
    db: &impl ConnectionTrait,
    filter: &SessionFilter,
    after: Option<(i64, String)>,
    limit: u64,
    now: i64,
) -> Result<Vec<ListedSession>, DbErr> {
    let mut query = session::Entity::find()
        .find_also_related(client::Entity)
        .filter(live(now));
    if let Some(id) = filter.client_id {
        query = query.filter(session::Column::ClientId.eq(id));
    }
    if let Some(id) = filter.user_id {
        query = query.filter(session::Column::UserId.eq(id));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(session::Column::Kind.eq(kind.as_str()));
    }
    if let Some((created, id)) = after {
        query = query.filter(
            Condition::any()
                .add(session::Column::Created.lt(created))
                .add(
                    Condition::all()
                        .add(session::Column::Created.eq(created))
                        .add(session::Column::Id.lt(id)),
                ),
        );
    }
    let rows = query
        .order_by_desc(session::Column::Created)
        .order_by_desc(session::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let user_ids: Vec<i32> = rows.iter().map(|(s, _)| s.user_id).collect();
    let users = user::Entity::find()
        .filter(user::Column::Id.is_in(user_ids))
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(s, c)| {
            let username = users
                .iter()
                .find(|u| u.id == s.user_id)
                .map(|u| u.username.clone())
                .unwrap_or_default();
            (s, c.map(|c| c.name).unwrap_or_default(), username)
        })
        .collect())
}

/// The session with this id, live or not.
pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<session::Model>, DbErr> {
    session::Entity::find_by_id(id.to_string()).one(db).await
}

/// A user's live session or key with this id.
pub async fn find_for_user(
    db: &impl ConnectionTrait,
    user_id: i32,
    id: &str,
    kind: TokenKind,
    now: i64,
) -> Result<Option<session::Model>, DbErr> {
    session::Entity::find_by_id(id.to_string())
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::Kind.eq(kind.as_str()))
        .filter(live(now))
        .one(db)
        .await
}

/// Ends the user's least recently used sessions on a client until at most `max` are live.
/// Expired sessions are deleted first since they no longer count.
pub async fn enforce_max_sessions(
    db: &impl ConnectionTrait,
    user_id: i32,
    client_id: i32,
    max: u64,
    now: i64,
) -> Result<u64, DbErr> {
    let base = Condition::all()
        .add(session::Column::UserId.eq(user_id))
        .add(session::Column::ClientId.eq(client_id))
        .add(session::Column::Kind.eq(TokenKind::Session.as_str()));
    // One user's sessions on one client are few, so the cut is made here rather than with an
    // OFFSET (which SQLite accepts only together with a LIMIT).
    let ids: Vec<String> = session::Entity::find()
        .select_only()
        .column(session::Column::Id)
        .filter(base.clone())
        .filter(live(now))
        .order_by_desc(session::Column::LastUsed)
        .order_by_desc(session::Column::Created)
        .order_by_desc(session::Column::Id)
        .into_tuple::<String>()
        .all(db)
        .await?
        .into_iter()
        .skip(max as usize)
        .collect();
    let expired = Condition::all()
        .add(session::Column::Expiry.is_not_null())
        .add(session::Column::Expiry.lte(now));
    let res = session::Entity::delete_many()
        .filter(base)
        .filter(
            Condition::any()
                .add(session::Column::Id.is_in(ids))
                .add(expired),
        )
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// Deletes up to `batch` sessions of each client with an `idle_timeout` that have been idle past
/// it; returns how many. One indexed range per client (`idx_sessions_client_last_used`), so the
/// cost follows the idle sessions, not the table.
pub async fn purge_idle(db: &impl ConnectionTrait, now: i64, batch: u64) -> Result<u64, DbErr> {
    let idle_clients: Vec<(i32, i64)> = client::Entity::find()
        .select_only()
        .columns([client::Column::Id, client::Column::IdleTimeout])
        .filter(client::Column::IdleTimeout.is_not_null())
        .into_tuple::<(i32, Option<i64>)>()
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(id, idle)| Some((id, idle?)))
        .collect();
    let lag = crate::policy::LAST_USED_GRANULARITY + 5 * crate::clock::SECOND;
    let mut deleted = 0;
    for (client_id, idle) in idle_clients {
        // The same bound as `idle_sql`: last_used + idle + lag < now.
        let cutoff = now
            .saturating_sub(idle.saturating_mul(crate::clock::SECOND))
            .saturating_sub(lag);
        let victims = Query::select()
            .column(session::Column::Id)
            .from(session::Entity)
            .and_where(Expr::col(session::Column::ClientId).eq(client_id))
            .and_where(Expr::col(session::Column::LastUsed).lt(cutoff))
            .limit(batch)
            .to_owned();
        deleted += session::Entity::delete_many()
            .filter(session::Column::Id.in_subquery(victims))
            .exec(db)
            .await?
            .rows_affected;
    }
    Ok(deleted)
}

/// Deletes up to `batch` sessions that expired before `now`; returns how many.
pub async fn purge_expired(db: &impl ConnectionTrait, now: i64, batch: u64) -> Result<u64, DbErr> {
    // A bounded sub-select keeps each statement (and SQLite's write lock) short.
    let victims = Query::select()
        .column(session::Column::Id)
        .from(session::Entity)
        .and_where(Expr::col(session::Column::Expiry).lte(now))
        .limit(batch)
        .to_owned();
    let res = session::Entity::delete_many()
        .filter(session::Column::Id.in_subquery(victims))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// What a bulk revocation ends: sessions and keys matching every given filter.
#[derive(Debug, Clone, Default)]
pub struct Revocation {
    pub client_id: Option<i32>,
    pub user_id: Option<i32>,
    /// Created strictly before this time (µs).
    pub created_before: Option<i64>,
}

/// Deletes every session and key matching `filter` in one statement for the live ones (whose
/// count is returned) and one for those that had already ended.
pub async fn delete_matching(
    db: &impl ConnectionTrait,
    filter: &Revocation,
    now: i64,
) -> Result<u64, DbErr> {
    let mut cond = Condition::all();
    if let Some(id) = filter.client_id {
        cond = cond.add(session::Column::ClientId.eq(id));
    }
    if let Some(id) = filter.user_id {
        cond = cond.add(session::Column::UserId.eq(id));
    }
    if let Some(before) = filter.created_before {
        cond = cond.add(session::Column::Created.lt(before));
    }
    let live_rows = session::Entity::delete_many()
        .filter(cond.clone())
        .filter(live(now))
        .exec(db)
        .await?;
    session::Entity::delete_many().filter(cond).exec(db).await?;
    Ok(live_rows.rows_affected)
}

/// A rotation of a session's token.
#[derive(Debug)]
pub struct Rotation<'a> {
    /// The token being replaced; the rotation happens only if it is still the current one.
    pub from: &'a TokenDigest,
    pub to: &'a TokenDigest,
    pub hint: &'a str,
    /// The new token sealed under the server secret, kept until `until`.
    pub sealed: &'a str,
    /// Until when (µs) the replaced token is honoured.
    pub until: i64,
    pub expiry: Option<i64>,
}

/// Replaces a session's token if `rotation.from` is still its current one (a compare-and-swap,
/// so of concurrent refreshes exactly one rotates); returns whether it did.
pub async fn rotate(
    db: &impl ConnectionTrait,
    id: &str,
    rotation: &Rotation<'_>,
    now: i64,
) -> Result<bool, DbErr> {
    let res = session::Entity::update_many()
        .col_expr(session::Column::TokenDigest, rotation.to.as_str().into())
        .col_expr(session::Column::TokenHint, rotation.hint.into())
        .col_expr(
            session::Column::PreviousDigest,
            Some(rotation.from.as_str().to_string()).into(),
        )
        .col_expr(session::Column::PreviousUntil, Some(rotation.until).into())
        .col_expr(
            session::Column::RotatedToken,
            Some(rotation.sealed.to_string()).into(),
        )
        .col_expr(session::Column::Expiry, rotation.expiry.into())
        .col_expr(session::Column::Renewed, now.into())
        .col_expr(session::Column::LastUsed, now.into())
        .filter(session::Column::Id.eq(id))
        .filter(session::Column::TokenDigest.eq(rotation.from.as_str()))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

/// Erases sealed tokens whose window has passed (they are kept only for the window).
pub async fn erase_sealed(db: &impl ConnectionTrait, now: i64) -> Result<u64, DbErr> {
    let res = session::Entity::update_many()
        .col_expr(session::Column::RotatedToken, Option::<String>::None.into())
        .filter(session::Column::RotatedToken.is_not_null())
        .filter(session::Column::PreviousUntil.lt(now))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}
