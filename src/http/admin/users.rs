//! Admin console: users.

use actix_web::web;

pub fn routes(_cfg: &mut web::ServiceConfig) {}
