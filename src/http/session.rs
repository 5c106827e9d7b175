//! A typed wrapper around actix-session: the cookie holds only the session id and the CSRF
//! token; the session itself is a database row.

use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use std::future::{Ready, ready};
use subtle::ConstantTimeEq;

const SESSION_ID: &str = "sid";
const CSRF: &str = "csrf";
/// The `state` of an upstream sign-in this browser started: the callback must bring it back.
const UPSTREAM_STATE: &str = "upstream_state";
/// The pending link (an upstream identity waiting for proof) this browser brought.
const PENDING_LINK: &str = "pending_link";

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

    pub fn set_upstream_state(&self, state: &str) -> Result<(), actix_web::Error> {
        Ok(self.0.insert(UPSTREAM_STATE, state)?)
    }

    /// Whether `presented` is the state this browser's upstream sign-in was started with.
    /// The state is forgotten either way: it works once.
    pub fn take_upstream_state(&self, presented: &str) -> bool {
        let expected = self.0.remove_as::<String>(UPSTREAM_STATE).and_then(Result::ok);
        expected.is_some_and(|e| !presented.is_empty() && bool::from(e.as_bytes().ct_eq(presented.as_bytes())))
    }

    pub fn set_pending_link(&self, id: &str) -> Result<(), actix_web::Error> {
        Ok(self.0.insert(PENDING_LINK, id)?)
    }

    pub fn pending_link(&self) -> Option<String> {
        self.0.get::<String>(PENDING_LINK).ok().flatten()
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
