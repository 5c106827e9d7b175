//! Admin console tests: roles.

#[allow(unused_imports)]
use super::*;
