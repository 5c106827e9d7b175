//! Admin console tests: sessions.

#[allow(unused_imports)]
use super::*;
