//! Queries on `server_settings`: values every instance of a deployment shares.

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ConnectionTrait, DbErr};

/// The value stored under `name`, storing `make()` first when there is none. Two instances
/// starting at once both end up with the first value written.
pub async fn get_or_insert(
    db: &impl ConnectionTrait,
    name: &str,
    make: impl FnOnce() -> String,
) -> Result<String, DbErr> {
    let insert = Query::insert()
        .into_table("server_settings")
        .columns(["name", "value"])
        .values_panic([name.into(), make().into()])
        .on_conflict(OnConflict::column("name").do_nothing().to_owned())
        .to_owned();
    db.execute(&insert).await?;
    let select = Query::select()
        .column("value")
        .from("server_settings")
        .and_where(Expr::col("name").eq(name))
        .to_owned();
    let row = db
        .query_one(&select)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("server setting {name}")))?;
    row.try_get("", "value")
}
