//! The OpenID Connect provider's use cases: authorization, the token grants, userinfo,
//! revocation, introspection and logout.

pub mod authorize;
pub mod client_auth;
pub mod introspect;
pub mod logout;
pub mod params;
pub mod revoke;
pub mod token;
pub mod tokens;
pub mod userinfo;

use crate::error::OAuthError;

/// Errors inside a grant's database transaction: a storage failure rolls back, and so does
/// a protocol refusal, which is then answered as such.
#[derive(Debug)]
pub(crate) enum TxError {
    Db(diesel::result::Error),
    OAuth(OAuthError),
}

impl From<diesel::result::Error> for TxError {
    fn from(e: diesel::result::Error) -> Self {
        TxError::Db(e)
    }
}

impl From<OAuthError> for TxError {
    fn from(e: OAuthError) -> Self {
        TxError::OAuth(e)
    }
}

/// Runs a grant's transaction on a blocking thread and unwraps its two kinds of failure.
pub(crate) async fn run_tx<T, F>(db: &crate::db::Db, f: F) -> Result<T, OAuthError>
where
    T: Send + 'static,
    F: FnOnce(&mut crate::db::DbConn) -> Result<T, TxError> + Send + 'static,
{
    use diesel::Connection;
    let outcome = db
        .run_write(move |conn| Ok(conn.transaction::<T, TxError, _>(f)))
        .await?;
    match outcome {
        Ok(v) => Ok(v),
        Err(TxError::OAuth(e)) => Err(e),
        Err(TxError::Db(e)) => Err(crate::db::DbError::Query(e).into()),
    }
}
