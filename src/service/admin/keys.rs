//! Admin console: keys.
