//! A typed wrapper around actix-session: the cookie holds only the session id and the CSRF
//! token; the session itself is a database row.

use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use std::future::{Ready, ready};
use subtle::ConstantTimeEq;

const SESSION_ID: &str = "sid";
const CSRF: &str = "csrf";

pub struct TypedSession(Session);

impl TypedSession {
    /// The signed-in session's id, if any (still to be checked against the database).
    pub fn session_id(&self) -> Option<String> {
        self.0.get::<String>(SESSION_ID).ok().flatten()
    }

    /// Starts a signed-in session under a new cookie (no fixation: the old state is dropped).
    pub fn sign_in(&self, session_id: &str) -> Result<(), actix_web::Error> {
        // `clear` + `renew` (not `purge`, which would delete the cookie for good).
        self.0.clear();
        self.0.renew();
        self.0.insert(SESSION_ID, session_id)?;
        Ok(())
    }

    pub fn sign_out(&self) {
        self.0.purge();
    }

    /// This browser's CSRF token, created on first use.
    pub fn csrf_token(&self) -> Result<String, actix_web::Error> {
        if let Ok(Some(token)) = self.0.get::<String>(CSRF) {
            return Ok(token);
        }
        let token = crate::crypto::random_token(24);
        self.0.insert(CSRF, &token)?;
        Ok(token)
    }

    /// Checks a submitted CSRF token in constant time.
    pub fn csrf_matches(&self, submitted: &str) -> bool {
        match self.0.get::<String>(CSRF) {
            Ok(Some(token)) => token.as_bytes().ct_eq(submitted.as_bytes()).into(),
            _ => false,
        }
    }
}

impl FromRequest for TypedSession {
    type Error = <Session as FromRequest>::Error;
    type Future = Ready<Result<TypedSession, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(Ok(TypedSession(req.get_session())))
    }
}
