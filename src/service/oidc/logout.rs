//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).

use serde::Deserialize;

use super::authorize::with_query;
use super::tokens::ID_TYP;
use crate::crypto::jwt::{self, Expect};
use crate::service::clients;
use crate::startup::AppState;

/// The logout request's parameters (§2).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LogoutRequest {
    pub id_token_hint: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub client_id: Option<String>,
}

#[derive(Deserialize)]
struct HintClaims {
    aud: String,
    #[serde(default)]
    sid: Option<String>,
}

/// What to do: whether the request proves which client sent it (then no confirmation is
/// needed), and where to send the browser afterwards (only a URI registered for that client).
#[derive(Debug, Default)]
pub struct LogoutPlan {
    pub hint_valid: bool,
    pub hint_sid: Option<String>,
    pub redirect: Option<String>,
}

pub async fn plan(state: &AppState, req: &LogoutRequest) -> LogoutPlan {
    let expect = Expect {
        typ: ID_TYP,
        issuer: &state.settings.issuer,
        audience: None,
    };
    // §2: the hint may be expired; it must still be ours and intact.
    let hint: Option<HintClaims> = req
        .id_token_hint
        .as_deref()
        .and_then(|t| jwt::verify_allowing_expired(&state.keys.current(), t, &expect.allowing_expired()).ok());
    let client_id = match (&hint, &req.client_id) {
        (Some(h), Some(c)) if &h.aud != c => return LogoutPlan::default(),
        (Some(h), _) => Some(h.aud.clone()),
        (None, c) => c.clone(),
    };
    let redirect = match (client_id, &req.post_logout_redirect_uri) {
        (Some(id), Some(uri)) => match clients::find(&state.db, &id).await {
            Ok(Some(client)) if client.has_post_logout_redirect_uri(uri) => {
                let params: Vec<(&str, &str)> = req.state.as_deref().map(|s| vec![("state", s)]).unwrap_or_default();
                Some(with_query(uri, &params))
            }
            _ => None,
        },
        _ => None,
    };
    LogoutPlan {
        hint_valid: hint.is_some(),
        hint_sid: hint.and_then(|h| h.sid),
        redirect,
    }
}
