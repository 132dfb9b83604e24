//! An event and its change commit together: a failure injected into the event's write (a
//! database trigger refusing it) rolls the change back, on SQLite and PostgreSQL alike.

use super::*;
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait};

/// Makes the database refuse to store events of `kind` (a trigger on `events`).
async fn refuse_events_of(app: &TestApp, kind: &str) {
    let db = &app.state.db;
    let statements: Vec<String> = match db.get_database_backend() {
        DbBackend::Postgres => vec![
            "CREATE FUNCTION refuse_event() RETURNS trigger AS $$ \
             BEGIN RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql"
                .into(),
            format!(
                "CREATE TRIGGER refuse_event BEFORE INSERT ON events FOR EACH ROW \
                 WHEN (NEW.type = '{kind}') EXECUTE FUNCTION refuse_event()"
            ),
        ],
        _ => vec![format!(
            "CREATE TRIGGER refuse_event BEFORE INSERT ON events \
             WHEN NEW.type = '{kind}' BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        )],
    };
    for sql in statements {
        db.execute_unprepared(&sql)
            .await
            .expect("install the trigger");
    }
}

#[tokio::test]
async fn a_change_whose_event_cannot_be_written_is_rolled_back() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    refuse_events_of(&app, "client.created").await;
    let clients_before = entity::client::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap();
    let res = app
        .post(
            "/api/admin/clients",
            Some(&admin.token),
            json!({"name": "ios"}),
        )
        .await;
    assert!(res.status.is_server_error(), "{:?}", res.json);
    let res = app.get("/api/admin/clients/ios", &admin.token).await;
    assert_eq!(
        res.status,
        StatusCode::NOT_FOUND,
        "the client was rolled back"
    );
    let clients_after = entity::client::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(clients_after, clients_before);
    // Other changes, with their events, go on.
    let res = app
        .post(
            "/api/admin/users",
            Some(&admin.token),
            json!({"username": "bob", "password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json);
}

#[tokio::test]
async fn a_login_whose_event_cannot_be_written_creates_no_session() {
    let app = TestApp::new().await;
    app.create_user("alice", false).await;
    refuse_events_of(&app, "login.succeeded").await;
    let sessions_before = entity::session::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap();
    let res = app
        .post(
            "/api/auth/login",
            None,
            json!({"username": "alice", "password": PASSWORD, "client": "web"}),
        )
        .await;
    assert!(res.status.is_server_error(), "{:?}", res.json);
    assert!(res.json.get("token").is_none());
    let sessions_after = entity::session::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(
        sessions_after, sessions_before,
        "no session without its event"
    );
}
