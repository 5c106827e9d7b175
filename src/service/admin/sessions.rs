//! Admin console: sessions.
