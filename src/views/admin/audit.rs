//! Admin console pages: audit.
