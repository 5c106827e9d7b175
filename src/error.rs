//! The one application error, and the one place it becomes an HTTP response.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use crate::db::DbError;
use crate::domain::Invalid;

/// Every failure a use case can report. Messages of the first four are shown to the user
/// who caused them; `Internal` is logged with its cause and shown as a fixed sentence.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    #[error("the service is temporarily unavailable")]
    Unavailable,
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl From<Invalid> for AppError {
    fn from(e: Invalid) -> Self {
        AppError::Invalid(e.0)
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Pool(_) => AppError::Unavailable,
            other => AppError::Internal(other.into()),
        }
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        AppError::Internal(e)
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::Invalid(_) => StatusCode::BAD_REQUEST,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(cause) = self {
            tracing::error!(error = format!("{cause:#}"), "internal error");
        }
        HttpResponse::build(self.status_code()).json(serde_json::json!({ "error": self.to_string() }))
    }
}

/// An error at a protocol endpoint, answered as RFC 6749 §5.2 (token, revocation,
/// introspection) or RFC 6750 §3 (userinfo) require.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {description}")]
pub struct OAuthError {
    pub code: &'static str,
    pub description: String,
}

impl OAuthError {
    pub fn new(code: &'static str, description: impl Into<String>) -> OAuthError {
        OAuthError {
            code,
            description: description.into(),
        }
    }
    pub fn invalid_request(d: impl Into<String>) -> OAuthError {
        OAuthError::new("invalid_request", d)
    }
    pub fn invalid_client() -> OAuthError {
        OAuthError::new("invalid_client", "client authentication failed")
    }
    pub fn invalid_grant(d: impl Into<String>) -> OAuthError {
        OAuthError::new("invalid_grant", d)
    }
    pub fn unauthorized_client(d: impl Into<String>) -> OAuthError {
        OAuthError::new("unauthorized_client", d)
    }
    pub fn invalid_scope(d: impl Into<String>) -> OAuthError {
        OAuthError::new("invalid_scope", d)
    }
    pub fn invalid_token(d: impl Into<String>) -> OAuthError {
        OAuthError::new("invalid_token", d)
    }
    pub fn server_error() -> OAuthError {
        OAuthError::new("server_error", "the server could not complete the request")
    }
}

impl From<AppError> for OAuthError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid(d) => OAuthError::invalid_request(d),
            AppError::Unavailable => OAuthError::new("temporarily_unavailable", "try again shortly"),
            AppError::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "internal error at a protocol endpoint");
                OAuthError::server_error()
            }
            other => OAuthError::invalid_request(other.to_string()),
        }
    }
}

impl From<DbError> for OAuthError {
    fn from(e: DbError) -> Self {
        AppError::from(e).into()
    }
}

impl ResponseError for OAuthError {
    fn status_code(&self) -> StatusCode {
        match self.code {
            "invalid_client" | "invalid_token" => StatusCode::UNAUTHORIZED,
            "insufficient_scope" => StatusCode::FORBIDDEN,
            "server_error" => StatusCode::INTERNAL_SERVER_ERROR,
            "temporarily_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header(("Cache-Control", "no-store"));
        match self.code {
            // RFC 6749 §5.2: a 401 for a failed client authentication names the scheme.
            "invalid_client" => {
                res.insert_header(("WWW-Authenticate", r#"Basic realm="latchkey""#));
            }
            // RFC 6750 §3: bearer errors travel in the challenge.
            "invalid_token" | "insufficient_scope" => {
                let d = self.description.replace('"', "'");
                res.insert_header((
                    "WWW-Authenticate",
                    format!(r#"Bearer error="{}", error_description="{d}""#, self.code),
                ));
            }
            _ => {}
        }
        res.json(serde_json::json!({ "error": self.code, "error_description": self.description }))
    }
}
