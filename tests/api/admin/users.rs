//! Admin console tests: users.

#[allow(unused_imports)]
use super::*;
