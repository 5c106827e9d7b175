//! Admin console pages: sessions.
