//! In-process tests through the protocol. One binary (modules per flow) so it links once.
//! Every test gets its own database, keys and data folders, so they run in parallel.
//! `TEST_DATABASE_URL=postgres://...` runs the whole suite on PostgreSQL instead of SQLite.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod account_page;
mod accounts;
mod admin;
mod brute_force;
mod cli;
mod discovery;
mod health;
mod helpers;
mod keys;
mod mail;
mod oidc;
mod scale_out;
mod smtp;
mod social;
mod storage;
