//! Admin console tests: keys.

#[allow(unused_imports)]
use super::*;
