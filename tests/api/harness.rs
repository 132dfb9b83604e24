//! The harness cleans up after itself: on PostgreSQL each test's schema is dropped with it.

use sea_orm::{ConnectionTrait, Database, Statement};

#[tokio::test]
async fn a_test_database_is_dropped_with_its_schema() {
    let db = tests::fresh_database().await;
    let Some(url) = tests::postgres_url() else {
        // On SQLite the database lives in memory and goes with its connection.
        assert!(db.schema().is_none());
        return;
    };
    let schema = db.schema().expect("a schema on PostgreSQL").to_string();
    let admin = Database::connect(&url).await.unwrap();
    let count = |admin: sea_orm::DatabaseConnection, schema: String| async move {
        let stmt = Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT count(*) AS n FROM information_schema.schemata WHERE schema_name = $1",
            [schema.into()],
        );
        let row = admin.query_one_raw(stmt).await.unwrap().unwrap();
        row.try_get::<i64>("", "n").unwrap()
    };
    assert_eq!(count(admin.clone(), schema.clone()).await, 1);
    drop(db);
    assert_eq!(count(admin, schema).await, 0, "the schema was left behind");
}
