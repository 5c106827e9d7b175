//! Admin console tests: audit.

#[allow(unused_imports)]
use super::*;
