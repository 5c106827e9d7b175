//! Latchkey: a standalone OpenID Connect identity provider.

pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod mail;
pub mod service;
pub mod startup;
pub mod telemetry;
pub mod views;
