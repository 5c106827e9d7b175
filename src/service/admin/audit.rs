//! Admin console: audit.
