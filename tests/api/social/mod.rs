//! Sign-in through upstream providers, against local stand-ins that speak Google's (OpenID
//! Connect) and GitHub's real protocols, and against a second Latchkey.

mod another_latchkey;
mod failures;
mod flows;
pub mod github_standin;
mod linking;
pub mod oidc_standin;
mod standin_http;
mod standin_selfcheck;
mod support;
