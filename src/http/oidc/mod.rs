//! Protocol endpoints: thin handlers over `service::oidc`.

pub mod authorize;
pub mod logout;
pub mod token;
pub mod userinfo;
