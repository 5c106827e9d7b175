//! Admin console: roles. `admin` is built in; custom roles are created, renamed and deleted
//! here and granted on the user page. A rename or deletion rewrites every holder's
//! `users.roles` in the same transaction, so tokens never carry a role that is gone.

use diesel::Connection;
use serde_json::json;

use crate::db::models::RoleRow;
use crate::db::{Db, DbError, repo};
use crate::error::AppError;
use crate::service::{audit, now};

/// The built-in role that opens the admin console; it cannot be renamed or deleted.
pub const ADMIN: &str = "admin";
const MAX_NAME_LEN: usize = 40;

pub async fn list(db: &Db) -> Result<Vec<RoleRow>, AppError> {
    Ok(db.run(|conn| Ok(repo::roles::list(conn)?)).await?)
}

/// A role name as it appears in tokens: lower-case letters, digits and `_ - . :`, starting
/// with a letter; no spaces (`users.roles` and the claim source are space-separated).
pub fn parse_name(raw: &str) -> Result<String, AppError> {
    let name = raw.trim().to_lowercase();
    let ok = name.len() <= MAX_NAME_LEN
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-.:".contains(c));
    if ok {
        Ok(name)
    } else {
        Err(AppError::Invalid(format!(
            "A role name is 1 to {MAX_NAME_LEN} characters: lower-case letters, digits, _ - . or :, starting with a letter."
        )))
    }
}

fn taken(name: &str) -> AppError {
    AppError::Conflict(format!("A role named {name:?} already exists."))
}

fn builtin() -> AppError {
    AppError::Invalid("The admin role is built in: it cannot be renamed or deleted.".into())
}

pub async fn create(db: &Db, actor: &str, name: &str, description: &str) -> Result<(), AppError> {
    let name = parse_name(name)?;
    let row = RoleRow {
        name: name.clone(),
        description: description.trim().to_owned(),
        created_at: now(),
    };
    let event = audit::event(
        "role.created",
        actor,
        Some(&name),
        json!({ "description": row.description }),
    );
    let done = db
        .run_write(move |conn| {
            conn.transaction::<_, DbError, _>(|conn| {
                repo::roles::insert(conn, &row)?;
                repo::audit::insert(conn, &event)?;
                Ok(())
            })
        })
        .await;
    match done {
        Err(e) if e.is_unique_violation() => Err(taken(&name)),
        other => Ok(other?),
    }
}

/// Renames a role (and sets its description); its holders keep it under the new name.
pub async fn rename(db: &Db, actor: &str, from: &str, to: &str, description: &str) -> Result<(), AppError> {
    if from == ADMIN {
        return Err(builtin());
    }
    let to = parse_name(to)?;
    let (from, actor, description) = (from.to_owned(), actor.to_owned(), description.trim().to_owned());
    let new_name = to.clone();
    let done = db
        .run_write(move |conn| {
            conn.transaction::<_, DbError, _>(|conn| {
                if repo::roles::find(conn, &to)?.is_some() && to != from {
                    return Ok(Err(taken(&to)));
                }
                if !repo::roles::rename(conn, &from, &to, &description)? {
                    return Ok(Err(AppError::NotFound(format!("There is no role named {from:?}."))));
                }
                let holders = if to == from {
                    0
                } else {
                    repo::roles::replace_in_users(conn, &from, &to, now())?
                };
                let detail = json!({ "from": from, "to": to, "users_updated": holders });
                repo::audit::insert(conn, &audit::event("role.renamed", &actor, Some(&to), detail))?;
                Ok(Ok(()))
            })
        })
        .await;
    match done {
        Err(e) if e.is_unique_violation() => Err(taken(&new_name)),
        other => other?,
    }
}

/// Deletes a role and takes it from every user who had it.
pub async fn delete(db: &Db, actor: &str, name: &str) -> Result<usize, AppError> {
    if name == ADMIN {
        return Err(builtin());
    }
    let (name, actor) = (name.to_owned(), actor.to_owned());
    let holders = db
        .run_write(move |conn| {
            conn.transaction::<_, DbError, _>(|conn| {
                if !repo::roles::delete(conn, &name)? {
                    return Ok(None);
                }
                let holders = repo::roles::replace_in_users(conn, &name, "", now())?;
                let detail = json!({ "users_updated": holders });
                repo::audit::insert(conn, &audit::event("role.deleted", &actor, Some(&name), detail))?;
                Ok(Some(holders))
            })
        })
        .await?;
    holders.ok_or_else(|| AppError::NotFound("There is no such role (it may have been deleted).".into()))
}
